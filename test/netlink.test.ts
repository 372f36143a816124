// The addon's configureEndpointLink (native/addon/netlink.cc) against the real
// kernel: inside a namespace it sets lo up, addrgenmode none, features off,
// the address, the link up and the default route; the result is read back
// with ip and ethtool, and a ping crosses the link. Bad input throws a clear
// error and leaves the namespace as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addon } from '../src/dataplane/addon.js';
import { must, run } from '../src/util/exec.js';
import { createNamespace, deleteNamespace, inNs } from '../src/util/netns.js';
import { uniquePrefix } from './lib/names.js';

const MTU = 1400;
const FEATURES = ['tx-checksum-ip-generic', 'tx-udp-segmentation'];

/** A namespace holding veth0 (MTU 1400, down, no address), its peer `host` in `hostNs`, as transitd's ip -batch makes them. */
async function endpointLink(ns: string, hostNs: string, host: string, mac: string): Promise<void> {
  await createNamespace(ns);
  const oneQueue = ['numtxqueues', '1', 'numrxqueues', '1'];
  await must(['ip', '-n', hostNs, 'link', 'add', host, 'mtu', String(MTU), ...oneQueue, 'type', 'veth', 'peer', 'name', 'veth0', 'netns', ns, 'address', mac, 'mtu', String(MTU), ...oneQueue]);
}

/** Everything configureEndpointLink may change in `ns`, as ip and ethtool show it. */
async function state(ns: string): Promise<{ links: unknown; addrs: unknown; routes: unknown; features: string }> {
  const links = JSON.parse(await must(['ip', '-n', ns, '-j', '-d', 'link', 'show'])) as { ifname: string; flags: string[]; mtu: number; address: string; inet6_addr_gen_mode?: string }[];
  const addrs = JSON.parse(await must(['ip', '-n', ns, '-j', 'addr', 'show'])) as { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return {
    links: links.map((l) => ({ ifname: l.ifname, flags: l.flags, mtu: l.mtu, address: l.address, genmode: l.inet6_addr_gen_mode })),
    addrs: addrs.map((a) => ({ ifname: a.ifname, addrs: a.addr_info.map((i) => `${i.family} ${i.local}/${i.prefixlen}`) })),
    routes: JSON.parse(await must(['ip', '-n', ns, '-j', '-4', 'route', 'show'])),
    features: await must(inNs(ns, ['ethtool', '-k', 'veth0'])),
  };
}

describe('configureEndpointLink (netlink and ethtool ioctl inside a namespace)', () => {
  const prefix = uniquePrefix('nl');
  const hostNs = `${prefix}-h`;
  const ep = `${prefix}-e`;
  const bad = `${prefix}-b`;

  beforeAll(async () => {
    await createNamespace(hostNs);
    await endpointLink(ep, hostNs, 'host', '0e:00:0a:fb:00:02');
    await endpointLink(bad, hostNs, 'host2', '0e:00:0a:fb:00:03');
  });

  afterAll(async () => {
    for (const ns of [ep, bad, hostNs]) await deleteNamespace(ns).catch(() => undefined);
  });

  it('configures lo, the address, the link, the default route and the features; a ping crosses', async () => {
    await must(['ip', '-n', hostNs, 'addr', 'add', '10.251.0.1/24', 'dev', 'host']);
    await must(['ip', '-n', hostNs, 'link', 'set', 'host', 'up']);
    addon.configureEndpointLink(`/run/netns/${ep}`, { ifname: 'veth0', ip: '10.251.0.2', prefixLen: 24, gateway: '10.251.0.1', featuresOff: FEATURES });

    const s = await state(ep);
    expect(s.links).toEqual(expect.arrayContaining([
      expect.objectContaining({ ifname: 'lo', flags: expect.arrayContaining(['UP', 'LOWER_UP']) }),
      expect.objectContaining({ ifname: 'veth0', flags: expect.arrayContaining(['UP', 'LOWER_UP']), mtu: MTU, address: '0e:00:0a:fb:00:02', genmode: 'none' }),
    ]));
    // addrgenmode none: the IPv4 address only, no IPv6 link-local.
    expect(s.addrs).toContainEqual({ ifname: 'veth0', addrs: ['inet 10.251.0.2/24'] });
    expect(s.routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.251.0.1', dev: 'veth0' }));
    expect(s.routes).toContainEqual(expect.objectContaining({ dst: '10.251.0.0/24', dev: 'veth0', prefsrc: '10.251.0.2' }));
    for (const f of FEATURES) expect(s.features).toMatch(new RegExp(`^\\s*${f}: off`, 'm'));
    expect(s.features).toMatch(/^\s*tx-checksum-ipv4: /m); // others are left as they were
    const ping = await run(inNs(ep, ['ping', '-n', '-c', '3', '-i', '0.05', '-W', '1', '10.251.0.1']));
    expect(ping.code, ping.stdout + ping.stderr).toBe(0);
    expect(ping.stdout).toMatch(/3 received/);
    const viaGateway = await must(['ip', '-n', ep, 'route', 'get', '192.0.2.7']);
    expect(viaGateway).toMatch(/via 10\.251\.0\.1 dev veth0/);
  });

  it('refuses bad input with an error naming it, and changes nothing', async () => {
    const path = `/run/netns/${ep}`;
    const before = await state(ep);
    const ok = { ifname: 'veth0', ip: '10.251.0.9', prefixLen: 24, gateway: '10.251.0.1', featuresOff: FEATURES };
    const cases: [unknown[], RegExp][] = [
      [['', ok], /netnsPath must name a namespace/],
      [[path, null], /second argument must be an object/],
      [[path, { ...ok, ifname: 7 }], /ifname must be a string/],
      [[path, { ...ok, ifname: '' }], /ifname must be 1-15 characters/],
      [[path, { ...ok, ifname: 'x'.repeat(16) }], /ifname must be 1-15 characters/],
      [[path, { ...ok, ip: '10.251.0.300' }], /ip must be a dotted IPv4 address/],
      [[path, { ...ok, ip: undefined }], /ip must be a dotted IPv4 address/],
      [[path, { ...ok, gateway: 'gw' }], /gateway must be a dotted IPv4 address/],
      [[path, { ...ok, prefixLen: 33 }], /prefixLen must be 0-32/],
      [[path, { ...ok, prefixLen: '24' }], /prefixLen must be a number/],
      [[path, { ...ok, featuresOff: 'tx' }], /featuresOff must be an array of strings/],
      [[path, { ...ok, featuresOff: [1] }], /featuresOff must be an array of strings/],
      // Checked in the namespace, before any change:
      [[path, { ...ok, ifname: 'nope0' }], /configure nope0 in .*: find nope0.*No such device/],
      [[path, { ...ok, featuresOff: ['tx-checksum-ip-generic', 'no-such-feature'] }], /feature no-such-feature \(the kernel has no such feature\)/],
      [[`/run/netns/${prefix}-missing`, ok], /open netns \/run\/netns\/.*-missing/],
    ];
    for (const [args, message] of cases) {
      expect(() => (addon.configureEndpointLink as (...a: unknown[]) => void)(...args), String(message)).toThrow(message);
    }
    expect(await state(ep)).toEqual(before);
  });

  it('an unknown feature leaves a fresh endpoint link untouched (down, no address, no route)', async () => {
    const before = await state(bad);
    expect(before.links).toContainEqual(expect.objectContaining({ ifname: 'veth0', flags: expect.not.arrayContaining(['UP']) }));
    expect(() => addon.configureEndpointLink(`/run/netns/${bad}`, { ifname: 'veth0', ip: '10.251.0.3', prefixLen: 24, gateway: '10.251.0.1', featuresOff: ['no-such-feature'] }))
      .toThrow(/no such feature/);
    expect(await state(bad)).toEqual(before);
  });

  it('configuring the same link twice fails on the address already there, and keeps the first configuration', async () => {
    const before = await state(ep);
    const err = (() => {
      try {
        addon.configureEndpointLink(`/run/netns/${ep}`, { ifname: 'veth0', ip: '10.251.0.2', prefixLen: 24, gateway: '10.251.0.1', featuresOff: FEATURES });
      } catch (e) {
        return e as Error & { code?: string };
      }
      return undefined;
    })();
    expect(err?.message).toMatch(/configure veth0 in .*: add address/);
    expect(err?.code).toBe('EEXIST');
    expect(await state(ep)).toEqual(before);
  });
});
