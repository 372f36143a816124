// Endpoints sharing one namespace per droplet, the parts without root: the
// names and routing table each endpoint gets (src/transitd/plumbing.ts,
// shared-plumbing.ts), transitd's flag as the droplet side writes it, the
// option's refusals, and the scenario file's hosts.endpointNamespace.
import { describe, expect, it } from 'vitest';
import { endpointRecordKey, parseEndpointRecordKey } from '../../src/abi/index.js';
import { createDroplets } from '../../src/droplet/droplet.js';
import { transitdArgs } from '../../src/droplet/transitd.js';
import { XvpcError } from '../../src/errors.js';
import { parseScenarioText } from '../../src/scenario/parse.js';
import { makePlan } from '../../src/scenario/plan.js';
import { endpointNames } from '../../src/transitd/plumbing.js';
import { endpointTable, sharedEndpointNs, sourceRule } from '../../src/transitd/shared-plumbing.js';

describe('shared endpoint namespace: names and tables', () => {
  it('puts every endpoint of a droplet in <nsPrefix>-eps with device ep<tag>, its host side ve<tag> as in its own namespace', () => {
    const own = endpointNames('p-a', 7, '10.0.1.2', false);
    const shared = endpointNames('p-a', 7, '10.0.1.2', false, 'shared');
    expect(own).toMatchObject({ netns: 'p-a-e7-10-0-1-2', peer: 'veth0', shared: false });
    expect(shared).toMatchObject({ netns: 'p-a-eps', veth: own.veth, peer: `ep${own.veth.slice(2)}`, shared: true, ip: '10.0.1.2' });
    expect(sharedEndpointNs('p-a')).toBe('p-a-eps');
    // Interface names fit IFNAMSIZ - 1.
    expect(shared.peer.length).toBeLessThanOrEqual(15);
    // Another VNI, same address: another device (the refusal is transitd's, on the table).
    expect(endpointNames('p-a', 8, '10.0.1.2', false, 'shared').peer).not.toBe(shared.peer);
    // A host endpoint stays in the host's namespace either way.
    expect(endpointNames('p-a', 7, '10.0.1.2', true, 'shared')).toMatchObject({ netns: '', peer: own.veth.replace(/^ve/, 'vh'), shared: false });
  });

  it('routes each endpoint by a table numbered by its address, never one of the kernel\'s own', () => {
    expect(endpointTable('10.0.1.2')).toBe(0x0a000102);
    expect(endpointTable('255.255.255.254')).toBe(0xfffffffe);
    expect(endpointTable('0.0.1.0')).toBe(256);
    for (const reserved of ['0.0.0.0', '0.0.0.253', '0.0.0.254', '0.0.0.255']) expect(() => endpointTable(reserved)).toThrow(/reserved table/);
    expect(() => endpointTable('10.0.1')).toThrow(/ip: '10.0.1' is not an IPv4 address/);
    expect(sourceRule('10.0.1.2')).toBe(`pref 100 from 10.0.1.2 iif lo lookup ${0x0a000102}`);
    // transitd finds an address's other endpoints from the hosted records' keys.
    expect(parseEndpointRecordKey(endpointRecordKey({ vni: 16777215, ip: '10.0.1.2' }))).toEqual({ vni: 16777215, ip: '10.0.1.2' });
  });

  it('passes --endpoint-namespace shared to transitd only when asked', () => {
    expect(transitdArgs('p', 'a', 'tc')).not.toContain('--endpoint-namespace');
    expect(transitdArgs('p', 'a', 'tc', { endpointNamespace: 'own' })).not.toContain('--endpoint-namespace');
    const args = transitdArgs('p', 'a', 'tc', { endpointNamespace: 'shared' });
    expect(args.slice(args.indexOf('--endpoint-namespace'), args.indexOf('--endpoint-namespace') + 2)).toEqual(['--endpoint-namespace', 'shared']);
  });

  it('createDroplets refuses shared endpoint namespaces on docker and an unknown mode, before anything is made', async () => {
    const err = (opts: object) => createDroplets(['a'], { prefix: 'zz', ...opts }).then(() => undefined, (e: unknown) => e);
    const docker = await err({ backend: 'docker', endpointNamespace: 'shared' });
    expect(docker).toBeInstanceOf(XvpcError);
    expect(docker).toMatchObject({ code: 'INVALID_ARGUMENT', message: "endpointNamespace: 'shared' is for netns droplets only, not 'docker'" });
    expect(await err({ endpointNamespace: 'one' })).toMatchObject({ code: 'INVALID_ARGUMENT', message: "endpointNamespace: 'one' is not one of 'own', 'shared'" });
    // A droplet named N-eps would be droplet N's shared endpoint namespace (<prefix>-N-eps), whatever the mode.
    for (const endpointNamespace of ['own', 'shared'] as const) {
      const clash = await createDroplets(['a', 'a-eps'], { prefix: 'zz', endpointNamespace }).then(() => undefined, (e: unknown) => e);
      expect(clash).toBeInstanceOf(XvpcError);
      expect(clash).toMatchObject({ code: 'INVALID_ARGUMENT', message: "names: 'a-eps' ends in '-eps', reserved: droplet 'a' keeps its shared endpoint namespace under that name" });
    }
    // A droplet named N-e<vni>-<a>-<b>-<c>-<d> would be the namespace of droplet N's endpoint <a>.<b>.<c>.<d> of VPC <vni>.
    expect(await createDroplets(['a', 'a-e3-1-0-0-2'], { prefix: 'zz' }).then(() => undefined, (e: unknown) => e)).toMatchObject({
      code: 'INVALID_ARGUMENT', message: "names: 'a-e3-1-0-0-2' ends in '-e3-1-0-0-2', reserved: droplet 'a' names an endpoint's namespace so",
    });
  });
});

describe('scenario hosts.endpointNamespace', () => {
  const base = (hosts: string, endpoints: string) => `name: t
hosts: ${hosts}
vpcs:
  - { vni: 3, cidr: 10.0.0.0/16, networks: [{ netId: 1, cidr: 10.0.1.0/24, switches: [sw] }] }
  - { vni: 4, cidr: 10.0.0.0/16, networks: [{ netId: 1, cidr: 10.0.1.0/24, switches: [sw] }] }
endpoints:
${endpoints}`;
  const plan = (text: string) => {
    const { scenario, source } = parseScenarioText(text, 'f.yaml');
    return makePlan(scenario, source);
  };
  const errorOf = (text: string): string => {
    try { plan(text); } catch (err) { return (err as Error).message; }
    throw new Error('expected an error');
  };

  it('plans shared endpoint namespaces for netns hosts', () => {
    const p = plan(base('{ names: [a, sw], endpointNamespace: shared }', '  - { vni: 3, netId: 1, hosts: [a], perHost: 2 }\n'));
    expect(p.endpointNamespace).toBe('shared');
    expect(plan(base('{ names: [a, sw] }', '  - { vni: 3, netId: 1, hosts: [a], perHost: 2 }\n')).endpointNamespace).toBeUndefined();
  });

  it('names the line and field of a bad value, a docker backend, and one address twice on a host', () => {
    expect(errorOf(base('{ names: [a, sw], endpointNamespace: one }', '  - { vni: 3, netId: 1, hosts: [a], perHost: 1 }\n')))
      .toMatch(/^f\.yaml:2: hosts\.endpointNamespace: /);
    expect(errorOf(base('{ names: [a, sw], backend: docker, endpointNamespace: shared }', '  - { vni: 3, netId: 1, hosts: [a], perHost: 1 }\n')))
      .toBe('f.yaml:2: hosts.endpointNamespace: shared is for netns hosts only, not docker');
    // Counted endpoints of two VPCs get the same first addresses: on one host they clash.
    const clash = errorOf(base('{ names: [a, sw], endpointNamespace: shared }',
      '  - { vni: 3, netId: 1, hosts: [a], perHost: 1 }\n  - { vni: 4, netId: 1, hosts: [a], perHost: 1 }\n'));
    expect(clash).toMatch(/^f\.yaml:8: endpoints\[1\]: endpoint 'v4n1-a-1' \(VPC 4\) and 'v3n1-a-1' \(VPC 3\) both have 10\.0\.1\.2 on host a/);
    // The same without shared namespaces, or on different hosts, is fine.
    expect(plan(base('{ names: [a, sw] }', '  - { vni: 3, netId: 1, hosts: [a], perHost: 1 }\n  - { vni: 4, netId: 1, hosts: [a], perHost: 1 }\n')).endpoints).toHaveLength(2);
    expect(plan(base('{ names: [a, b, sw], endpointNamespace: shared }',
      '  - { vni: 3, netId: 1, hosts: [a], perHost: 1 }\n  - { vni: 4, netId: 1, hosts: [b], perHost: 1 }\n')).endpoints).toHaveLength(2);
  });
});
