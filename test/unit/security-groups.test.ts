// Security groups in the controller (src/controller/security-groups.ts) and
// their rules and compilation (src/abi/sg-records.ts, sg-compile.ts): every
// bad input is rejected with its code, naming the field, and changes nothing;
// groups reach exactly the hosts of the endpoints they are attached to, before
// those endpoints are plumbed. Root-free: transitd is the recording fake.
import { describe, expect, it } from 'vitest';
import { Controller } from '../../src/controller/controller.js';
import type { ControllerHost } from '../../src/controller/endpoint.js';
import type { GoalState } from '../../src/transitd/client.js';
import {
  SG_MAX_DEPTH, SG_MAX_GROUPS, SG_MAX_RULES, compileGroup, decodeSgCfg, decodeSgGroup, encodeSgCfg, encodeSgGroup, portBlocks,
  sgCfgGen, sgGroupKey, sgRule, type SecurityRule,
} from '../../src/abi/index.js';
import { fakeTransitd, type Call } from './fake-transitd.js';

const host = (n: number): ControllerHost => ({
  id: `h${n}`, ip: `172.30.0.${n}`, mac: `02:00:00:00:00:0${n}`, transitdAddress: `unix:///nonexistent/h${n}.sock`,
  run: async () => ({ code: 0, stdout: '', stderr: '' }),
  netnsRun: async () => ({ code: 0, stdout: '', stderr: '' }),
});

async function setup() {
  const log: Call[] = [];
  const ctl = new Controller({ h1: host(1), h2: host(2), h3: host(3) }, { connect: (name) => fakeTransitd(name, log) });
  await ctl.createVpc({ vni: 5, cidr: '10.0.0.0/16', routers: ['h3'] });
  await ctl.createVpc({ vni: 6, cidr: '10.0.0.0/16', routers: ['h3'] });
  await ctl.createNetwork({ vni: 5, netId: 1, cidr: '10.0.1.0/24', switches: ['h3'] });
  await ctl.createNetwork({ vni: 6, netId: 1, cidr: '10.0.1.0/24', switches: ['h3'] });
  await ctl.createSecurityGroup({ vni: 5, name: 'web', ingress: [{ protocol: 'tcp', ports: '80', cidr: '10.0.2.0/24' }], egress: [] });
  await ctl.createSecurityGroup({ vni: 6, name: 'other', ingress: [], egress: [] });
  return { ctl, log };
}

/** The code and message of a rejected call. */
async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('the call was not rejected');
}

const goals = (log: Call[], host: string) => log.filter((c) => c.host === host && c.method === 'applyGoalState').map((c) => c.req as GoalState);

describe('rules are checked, naming the field', () => {
  const bad: [SecurityRule | Record<string, unknown>, string][] = [
    [{ protocol: 'tcp', cidr: '10.0.0.1/24' }, 'ingress[0].cidr: \'10.0.0.1/24\' has host bits set'],
    [{ protocol: 'tcp', cidr: '10.0.0/24' }, 'ingress[0].cidr'],
    [{ protocol: 'tcp', cidr: '10.0.0.0/33' }, 'ingress[0].cidr'],
    [{ protocol: 'tcp', ports: '0' }, 'ingress[0].ports: port \'0\' is out of range'],
    [{ protocol: 'udp', ports: '65536' }, 'ingress[0].ports: port \'65536\' is out of range'],
    [{ protocol: 'tcp', ports: '90-80' }, 'ingress[0].ports: \'90-80\' is reversed'],
    [{ protocol: 'tcp', ports: '80,81' }, 'ingress[0].ports: \'80,81\' is not a port or range'],
    [{ protocol: 'icmp', ports: '80' }, 'ingress[0].ports: only tcp and udp rules have ports, not icmp'],
    [{ protocol: 'any', ports: '80' }, 'ingress[0].ports: only tcp and udp rules have ports, not any'],
    [{ protocol: 'sctp' }, 'ingress[0].protocol: unknown protocol \'sctp\''],
    [{ cidr: '10.0.0.0/8' }, 'ingress[0].protocol: unknown protocol \'undefined\''],
    // A misspelt or empty field must not read as "all": each of these was once a rule for all TCP from anywhere.
    [{ protocol: 'tcp', port: '80' }, 'ingress[0]: unknown argument \'port\' (it takes protocol, cidr, ports)'],
    [{ protocol: 'tcp', cidrs: '10.0.0.0/8' }, 'ingress[0]: unknown argument \'cidrs\''],
    [{ protocol: 'tcp', cidr: '' }, 'ingress[0].cidr: \'\' is not a CIDR'],
    [{ protocol: 'tcp', ports: '' }, 'ingress[0].ports: \'\' is not a port or range'],
    [{ protocol: 'tcp', cidr: '10.0.0.0/08' }, 'ingress[0].cidr: \'10.0.0.0/08\' has a bad prefix length'],
    [{ protocol: 'tcp', cidr: '10.0.0.0/8/8' }, 'ingress[0].cidr: \'10.0.0.0/8/8\' is not a CIDR'],
  ];
  for (const [rule, message] of bad) {
    it(`${JSON.stringify(rule)} -> INVALID_ARGUMENT`, async () => {
      const { ctl, log } = await setup();
      const n = log.length;
      const r = await rejection(ctl.createSecurityGroup({ vni: 5, name: 'x', ingress: [rule as SecurityRule], egress: [] }));
      expect(r.code).toBe('INVALID_ARGUMENT');
      expect(r.message).toContain(message);
      expect(log.length).toBe(n); // nothing sent
      expect((await ctl.listSecurityGroups({ vni: 5 })).map((g) => g.name)).toEqual(['web']);
    });
  }

  it('canonical forms: default cidr, a one-port range is a port', () => {
    expect(sgRule({ protocol: 'tcp', ports: '443-443' }, 'r')).toEqual({ protocol: 'tcp', cidr: '0.0.0.0/0', ports: '443' });
    expect(sgRule({ protocol: 'udp', cidr: '10.1.0.0/16', ports: '1-65535' }, 'r')).toEqual({ protocol: 'udp', cidr: '10.1.0.0/16', ports: '1-65535' });
  });

  it('limits: rules per group, nesting depth, name', async () => {
    const { ctl } = await setup();
    const many = Array.from({ length: SG_MAX_RULES + 1 }, (_, i) => ({ protocol: 'tcp' as const, ports: String(1 + i) }));
    expect(await rejection(ctl.createSecurityGroup({ vni: 5, name: 'big', ingress: many, egress: [] })))
      .toEqual({ code: 'INVALID_ARGUMENT', message: `ingress, egress: ${SG_MAX_RULES + 1} rules; a group holds at most ${SG_MAX_RULES}` });
    await ctl.createSecurityGroup({ vni: 5, name: 'full', ingress: many.slice(0, 1000), egress: many.slice(1000, SG_MAX_RULES) });
    const nested = Array.from({ length: SG_MAX_DEPTH + 1 }, (_, i) => ({ protocol: 'any' as const, cidr: `10.0.0.0/${8 + i}` }));
    expect((await rejection(ctl.createSecurityGroup({ vni: 5, name: 'deep', ingress: [], egress: nested }))).message)
      .toBe(`egress: rule CIDRs nest ${SG_MAX_DEPTH + 1} deep; at most ${SG_MAX_DEPTH} may hold one address`);
    await ctl.createSecurityGroup({ vni: 5, name: 'deep-ok', ingress: [], egress: nested.slice(1) });
    for (const name of ['', 'a b', 'x'.repeat(64), '-lead']) {
      expect((await rejection(ctl.createSecurityGroup({ vni: 5, name, ingress: [], egress: [] }))).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('the API', () => {
  it('an argument a call does not take is refused, naming it, and changes nothing', async () => {
    const { ctl, log } = await setup();
    const n = log.length;
    const calls: [Promise<unknown>, string][] = [
      [ctl.createSecurityGroup({ vni: 5, name: 'g5', ingres: [{ protocol: 'tcp', ports: '80' }] } as never),
        'createSecurityGroup: unknown argument \'ingres\' (it takes vni, name, ingress, egress)'],
      [ctl.updateSecurityGroup({ vni: 5, name: 'web', egres: [] } as never), 'updateSecurityGroup: unknown argument \'egres\''],
      [ctl.attachSecurityGroup({ vni: 5, ip: '10.0.1.5', group: 'web' } as never), 'attachSecurityGroup: unknown argument \'group\''],
      [ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.9', host: 'h1', securityGroup: ['web'] } as never),
        'createSimpleEndpoint: unknown argument \'securityGroup\' (it takes vni, netId, ip, host, securityGroups)'],
      [ctl.createVpc({ vni: 9, cidr: '10.9.0.0/16', routers: [], directpath: false } as never), 'createVpc: unknown argument \'directpath\''],
      [ctl.createNetwork({ vni: 5, netId: 2, cidr: '10.0.2.0/24', switches: ['h3'], switch: 'h3' } as never), 'createNetwork: unknown argument \'switch\''],
    ];
    for (const [call, message] of calls) {
      const r = await rejection(call);
      expect(r.code).toBe('INVALID_ARGUMENT');
      expect(r.message).toContain(message);
    }
    expect(log.length).toBe(n);
    expect((await ctl.listSecurityGroups({ vni: 5 }))[0]).toMatchObject({ name: 'web', ingress: [{ protocol: 'tcp', ports: '80', cidr: '10.0.2.0/24' }] });
    expect(await ctl.listEndpoints({ vni: 5 })).toEqual([]);
    expect((await ctl.listVpcs()).map((v) => v.vni)).toEqual([5, 6]);
  });

  it('duplicate and unknown groups, unknown VPC', async () => {
    const { ctl } = await setup();
    expect(await rejection(ctl.createSecurityGroup({ vni: 5, name: 'web', ingress: [], egress: [] })))
      .toEqual({ code: 'ALREADY_EXISTS', message: 'name: VPC 5 already has a security group \'web\'' });
    expect((await rejection(ctl.updateSecurityGroup({ vni: 5, name: 'nope', ingress: [], egress: [] }))).code).toBe('NOT_FOUND');
    expect((await rejection(ctl.deleteSecurityGroup({ vni: 5, name: 'nope' }))).code).toBe('NOT_FOUND');
    expect((await rejection(ctl.createSecurityGroup({ vni: 7, name: 'x', ingress: [], egress: [] }))).message).toBe('vni: no VPC with VNI 7');
  });

  it('a group of another VPC cannot be attached or named at creation', async () => {
    const { ctl, log } = await setup();
    await ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.5', host: 'h1' });
    const n = log.length;
    expect(await rejection(ctl.attachSecurityGroup({ vni: 5, ip: '10.0.1.5', name: 'other' }))).toEqual({
      code: 'NOT_FOUND', message: 'name: VPC 5 has no security group \'other\' (VPC 6 has one; a group applies only in its own VPC)',
    });
    expect(await rejection(ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.6', host: 'h1', securityGroups: ['web', 'other'] })))
      .toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('securityGroups[1]: VPC 5 has no security group \'other\'') });
    expect(await rejection(ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.6', host: 'h1', securityGroups: ['web', 'web'] })))
      .toEqual({ code: 'INVALID_ARGUMENT', message: 'securityGroups: \'web\' is listed twice' });
    expect(log.length).toBe(n);
    expect((await rejection(ctl.attachSecurityGroup({ vni: 5, ip: '10.0.1.99', name: 'web' }))).code).toBe('NOT_FOUND');
  });

  it('attach, detach; delete while attached is FAILED_PRECONDITION and changes nothing', async () => {
    const { ctl } = await setup();
    await ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.5', host: 'h1', securityGroups: ['web'] });
    expect((await rejection(ctl.attachSecurityGroup({ vni: 5, ip: '10.0.1.5', name: 'web' }))).code).toBe('ALREADY_EXISTS');
    expect(await rejection(ctl.deleteSecurityGroup({ vni: 5, name: 'web' })))
      .toEqual({ code: 'FAILED_PRECONDITION', message: 'name: security group \'web\' is attached to 10.0.1.5; detach it first' });
    expect((await ctl.listSecurityGroups({ vni: 5 }))[0]).toMatchObject({ name: 'web', attachedTo: ['10.0.1.5'] });
    await ctl.detachSecurityGroup({ vni: 5, ip: '10.0.1.5', name: 'web' });
    expect((await rejection(ctl.detachSecurityGroup({ vni: 5, ip: '10.0.1.5', name: 'web' }))).code).toBe('NOT_FOUND');
    await ctl.deleteSecurityGroup({ vni: 5, name: 'web' });
    expect(await ctl.listSecurityGroups({ vni: 5 })).toEqual([]);
  });

  it(`at most ${SG_MAX_GROUPS} groups per endpoint`, async () => {
    const { ctl } = await setup();
    const names = Array.from({ length: SG_MAX_GROUPS + 1 }, (_, i) => `g${i}`);
    for (const name of names) await ctl.createSecurityGroup({ vni: 5, name, ingress: [], egress: [] });
    expect((await rejection(ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.7', host: 'h1', securityGroups: names }))).message)
      .toBe(`securityGroups: at most ${SG_MAX_GROUPS} groups, got ${SG_MAX_GROUPS + 1}`);
    await ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.7', host: 'h1', securityGroups: names.slice(0, SG_MAX_GROUPS) });
    expect((await rejection(ctl.attachSecurityGroup({ vni: 5, ip: '10.0.1.7', name: names[SG_MAX_GROUPS] }))).code).toBe('FAILED_PRECONDITION');
  });

  it('a scaled endpoint takes groups on its backends, not itself', async () => {
    const { ctl } = await setup();
    const b = await ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.5', host: 'h1', securityGroups: ['web'] });
    await ctl.createScaledEndpoint({ vni: 5, netId: 1, ip: '10.0.1.50', backends: [b] });
    expect((await rejection(ctl.attachSecurityGroup({ vni: 5, ip: '10.0.1.50', name: 'web' }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('the cascade', () => {
  it('a group goes to the hosts of its endpoints only, before the endpoint is plumbed; it leaves with the last one', async () => {
    const { ctl, log } = await setup();
    await ctl.createSimpleEndpoint({ vni: 5, netId: 1, ip: '10.0.1.5', host: 'h1', securityGroups: ['web'] });
    const onH1 = log.filter((c) => c.host === 'h1');
    const put = onH1.findIndex((c) => c.method === 'applyGoalState' && (c.req as GoalState).securityGroups.length > 0);
    const plumb = onH1.findIndex((c) => c.method === 'attachEndpoints');
    expect(put).toBeGreaterThanOrEqual(0);
    expect(put).toBeLessThan(plumb);
    const g = (onH1[put].req as GoalState);
    expect(g.securityGroups).toEqual([{ id: 1, vni: 5, name: 'web', ingress: [{ protocol: 'tcp', cidr: '10.0.2.0/24', ports: '80' }], egress: [] }]);
    expect(g.securityAttachments).toEqual([{ vni: 5, ip: '10.0.1.5', groups: [1] }]);
    for (const h of ['h2', 'h3']) expect(goals(log, h).flatMap((x) => x.securityGroups)).toEqual([]);

    // An update reaches the same host with the new rules.
    await ctl.updateSecurityGroup({ vni: 5, name: 'web', ingress: [], egress: [{ protocol: 'udp', ports: '53' }] });
    const last = goals(log, 'h1').at(-1)!;
    expect(last.securityGroups[0].egress).toEqual([{ protocol: 'udp', cidr: '0.0.0.0/0', ports: '53' }]);

    // Detached: the attachment and the group leave h1.
    await ctl.detachSecurityGroup({ vni: 5, ip: '10.0.1.5', name: 'web' });
    const del = goals(log, 'h1').at(-1)!;
    expect(del.deleteSecurityAttachments).toEqual([{ vni: 5, ip: '10.0.1.5' }]);
    expect(del.deleteSecurityGroups).toEqual([{ id: 1 }]);
  });
});

describe('kernel records', () => {
  it('a group round-trips through sg_groups', () => {
    const g = { id: 3, vni: 9, name: 'db', ingress: [sgRule({ protocol: 'tcp', ports: '5432', cidr: '10.0.0.0/8' }, 'r')], egress: [sgRule({ protocol: 'any' }, 'r')] };
    expect(decodeSgGroup(sgGroupKey(3), encodeSgGroup(g))).toEqual(g);
  });

  it('port ranges become the fewest aligned blocks', () => {
    expect(portBlocks(80, 80)).toEqual([[80, 16]]);
    expect(portBlocks(8000, 8080)).toEqual([[8000, 10], [8064, 12], [8080, 16]]);
    const covered = (lo: number, hi: number) => portBlocks(lo, hi).flatMap(([s, bits]) => Array.from({ length: 2 ** (16 - bits) }, (_, i) => s + i));
    for (const [lo, hi] of [[1, 65535], [8000, 8080], [1024, 2047], [3, 5], [65535, 65535]]) {
      const c = covered(lo, hi);
      expect(c).toEqual(Array.from({ length: hi - lo + 1 }, (_, i) => lo + i));
      expect(portBlocks(lo, hi).length).toBeLessThanOrEqual(30);
    }
  });

  it('sg_cfg: timeouts in ns, the capacity, and a gen that moves only when the timeouts change', () => {
    const v = encodeSgCfg({ udp: 50, tcpEstablished: 3_600_000 }, 1024, 7);
    expect(decodeSgCfg(v)).toEqual({ timeouts: { tcpNew: 0, tcpEstablished: 3_600_000, tcpClosing: 0, tcpClosed: 0, udp: 50, icmp: 0, other: 0 }, ctCapacity: 1024, gen: 7 });
    expect(v.readBigUInt64LE(32)).toBe(50_000_000n); // udp, ns
    expect(sgCfgGen(undefined, { udp: 50 })).toBe(0);
    expect(sgCfgGen(v, { udp: 50, tcpEstablished: 3_600_000 })).toBe(7); // the same timeouts (a reload): kept
    expect(sgCfgGen(v, { udp: 60 })).toBe(8);
    expect(sgCfgGen(encodeSgCfg({}, 1, 0xffffffff), { udp: 1 })).toBe(0); // wraps
  });

  it('compilation: one cidr entry per prefix and direction, with its protocols', () => {
    const c = compileGroup({ id: 2, vni: 1, name: 'x', ingress: [sgRule({ protocol: 'tcp', ports: '80' }, 'r'), sgRule({ protocol: 'icmp' }, 'r')], egress: [sgRule({ protocol: 'udp', ports: '52-55' }, 'r')] });
    expect(c.cidrs.size).toBe(2);
    expect([...c.cidrs.values()].map((e) => e.value.readUInt8(1)).sort()).toEqual([0x2 | 0x4, 0x8]);
    expect(c.ports.size).toBe(3); // tcp 80, icmp, udp 52-55 (one aligned block of 4)
  });
});
