// netnsContext (src/dataplane/netns-context.ts), what a shared transitd host
// runs each droplet in: inside a context, commands and the addon's link calls
// act in the context's namespace, across awaits; outside, and between calls,
// the thread is in its own namespace.
import { readlink } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../src/dataplane/addon.js';
import { netnsContext } from '../src/dataplane/netns-context.js';
import { must } from '../src/util/exec.js';
import { createNamespace, deleteNamespace } from '../src/util/netns.js';
import { uniquePrefix } from './lib/names.js';

describe('netnsContext', () => {
  const ns = uniquePrefix('nc').slice(0, 12);
  const path = `/run/netns/${ns}`;

  beforeAll(async () => {
    await createNamespace(ns);
    await must(['ip', '-n', ns, 'link', 'add', 'ctxdummy0', 'type', 'veth', 'peer', 'name', 'ctxpeer0']);
  });
  afterAll(async () => {
    await deleteNamespace(ns);
  });

  it('runs commands and link calls in the context namespace, across awaits, and comes back', async () => {
    const own = await readlink('/proc/thread-self/ns/net');
    const links = async () => (JSON.parse(await must(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);
    expect(await links()).not.toContain('ctxdummy0');
    expect(() => addon.ifIndex('ctxdummy0')).toThrow();

    const inside = await netnsContext.run(path, async () => {
      const first = await links();
      await new Promise((r) => setTimeout(r, 10));
      const ifindex = addon.ifIndex('ctxdummy0');
      const between = await readlink('/proc/thread-self/ns/net'); // no call in flight: our own
      return { first, second: await links(), ifindex, between };
    });
    expect(inside.first.sort()).toEqual(['ctxdummy0', 'ctxpeer0', 'lo']);
    expect(inside.second.sort()).toEqual(['ctxdummy0', 'ctxpeer0', 'lo']);
    expect(inside.ifindex).toBe(addon.ifIndex('ctxdummy0', path));
    expect(inside.between).toBe(own);
    expect(await readlink('/proc/thread-self/ns/net')).toBe(own);
    expect(await links()).not.toContain('ctxdummy0');
  });
});
