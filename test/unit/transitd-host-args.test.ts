// A shared transitd host's command line (src/transitd/host-args.ts): what the
// droplet side writes is what the host reads back; bad lines name the fault.
import { describe, expect, it } from 'vitest';
import { hostArgs, parseHostArgs } from '../../src/transitd/host-args.js';

const a = { netns: '/run/netns/p-a', log: '/run/xvpc/p/a.log', args: ['--mode', 'tc', '--host', 'a', '--socket', '/run/xvpc/p/a.sock'] };
const b = { netns: '/run/netns/p-b', log: '/run/xvpc/p/b.log', args: ['--host', 'b', '--socket', '/run/xvpc/p/b.sock'] };

describe('transitd host arguments', () => {
  it('reads back what hostArgs writes, one droplet per --netns group, named by its --host', () => {
    expect(parseHostArgs(hostArgs('/run/xvpc/p/a.host.ctl', [a, b]))).toEqual({
      control: '/run/xvpc/p/a.host.ctl', droplets: [{ name: 'a', ...a }, { name: 'b', ...b }],
    });
  });

  it('refuses a line without control, droplets, a log, a --host, or with a name twice or a TCP listener', () => {
    expect(() => parseHostArgs(['--control', 'c'])).toThrow(/^no droplet given/);
    expect(() => parseHostArgs(hostArgs('', [a]))).toThrow(/^--control PATH is required/);
    expect(() => parseHostArgs(['--control', 'c', '--netns', 'n', '--host', 'a'])).toThrow(/^each droplet is --netns NS_PATH --log LOG/);
    expect(() => parseHostArgs(hostArgs('c', [{ ...a, args: ['--socket', 's'] }]))).toThrow(/its transitd args have no --host NAME/);
    expect(() => parseHostArgs(hostArgs('c', [a, a]))).toThrow(/droplet 'a' is given twice/);
    expect(() => parseHostArgs(hostArgs('c', [{ ...a, args: [...a.args, '--metrics', '1.2.3.4:9'] }])))
      .toThrow(/droplet 'a': --metrics is not served by a shared host/);
    expect(() => parseHostArgs(hostArgs('c', [{ ...a, args: [...a.args, '--listen', '1.2.3.4:9'] }])))
      .toThrow(/droplet 'a': --listen is not served by a shared host/);
  });
});
