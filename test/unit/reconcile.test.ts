// The Controller and its Reconciler against fake transitd clients that record
// every call: what each host is sent, in which order, and that bad input
// changes nothing and sends nothing.
import { describe, expect, it } from 'vitest';
import { EndpointType, MAX_BACKENDS, endpointRecordKey } from '../../src/abi/index.js';
import { Controller } from '../../src/controller/controller.js';
import { desiredState, emptyGoal } from '../../src/controller/desired.js';
import { Model } from '../../src/controller/model.js';
import { Reconciler } from '../../src/controller/reconcile.js';
import { MemoryStore } from '../../src/controller/store/memory.js';
import type { ControllerHost } from '../../src/controller/endpoint.js';
import { MAX_ENDPOINTS_PER_PUT, type GoalState } from '../../src/transitd/client.js';
import { formatIpv4 } from '../../src/util/addr.js';
import { XvpcError } from '../../src/errors.js';
import { fakeTransitd, type Call } from './fake-transitd.js';

const host = (n: number): ControllerHost => ({
  id: `h${n}`, ip: `172.30.0.${n}`, mac: `02:00:00:00:00:0${n}`, transitdAddress: `unix:///nonexistent/h${n}.sock`,
  run: async () => ({ code: 0, stdout: '', stderr: '' }),
  netnsRun: async () => ({ code: 0, stdout: '', stderr: '' }),
});

function setup(fail?: (host: string, method: string) => XvpcError | undefined) {
  const log: Call[] = [];
  const droplets = { h1: host(1), h2: host(2), h3: host(3) };
  const ctl = new Controller(droplets, { connect: (name) => fakeTransitd(name, log, { fail: (m) => fail?.(name, m) }) });
  return { ctl, log };
}

/** Which step of the reconcile order a call belongs to (see src/controller/reconcile.ts). */
function step(c: Call): number {
  const g = c.req as GoalState;
  switch (c.method) {
    case 'attachEndpoint': case 'attachEndpoints': return 1;
    case 'putEndpoints': return 2;
    case 'detachEndpoint': return 5;
    case 'applyGoalState':
      if (g.substrate.length || g.vpcs.length) return 2;
      if (g.networks.length) return 3;
      return 4; // deletions only
    default: throw new Error(`unexpected call ${c.method}`);
  }
}

async function withVpc() {
  const env = setup();
  await env.ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16', routers: ['h3'] });
  await env.ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
  return env;
}

describe('reconcile order', () => {
  it('an endpoint: attach on its host, then records (endpoints packed), networks last', async () => {
    const { ctl, log } = await withVpc();
    log.length = 0;
    await ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' });
    const steps = log.map(step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(log.map((c) => `${c.host}:${c.method}`)).toEqual(expect.arrayContaining(['h1:attachEndpoints', 'h1:putEndpoints', 'h2:putEndpoints']));
    expect(log[0]).toMatchObject({ host: 'h1', method: 'attachEndpoints', req: { endpoints: [{ vni: 7, ip: '10.7.1.5', cidr: '10.7.1.0/24', gatewayIp: '10.7.1.1' }] } });
    // The record as the kernel will hold it, on its host and on the network's switch.
    for (const h of ['h1', 'h2']) {
      const put = log.find((c) => c.host === h && c.method === 'putEndpoints')!;
      expect(put.records).toEqual([{
        vni: 7, ip: '10.7.1.5', type: EndpointType.SIMPLE, mac: '0e:07:0a:07:01:05', hostIp: '172.30.0.1', hostMac: '02:00:00:00:00:01',
        netId: 1, backends: [], hostedIfindex: -1,
      }]);
    }
    // h1 learns the network only after its endpoint records are in place.
    const net = log.findIndex((c) => c.host === 'h1' && c.method === 'applyGoalState' && (c.req as GoalState).networks.length);
    expect(net).toBeGreaterThan(log.findIndex((c) => c.host === 'h1' && c.method === 'putEndpoints'));
    // The router (h3) holds no endpoint records and is sent none.
    expect(log.some((c) => c.host === 'h3' && c.method === 'putEndpoints')).toBe(false);
  });

  it('the same desired state twice: the second time nothing is sent', async () => {
    const log: Call[] = [];
    const hosts = { h1: host(1), h2: host(2) };
    const reconciler = new Reconciler({ h1: fakeTransitd('h1', log), h2: fakeTransitd('h2', log) });
    const m = new Model();
    m.vpcs.set(7, { vni: 7, cidr: '10.7.0.0/16', routers: [] });
    m.networks.set(Model.netKey(7, 1), { vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
    m.endpoints.set(endpointRecordKey({ vni: 7, ip: '10.7.1.5' }), { vni: 7, netId: 1, ip: '10.7.1.5', mac: '0e:07:0a:07:01:05', type: EndpointType.SIMPLE, host: 'h1', backends: [] });
    await reconciler.reconcile(desiredState(m, hosts));
    expect(log.length).toBeGreaterThan(0);
    log.length = 0;
    await reconciler.reconcile(desiredState(m, hosts));
    expect(log).toEqual([]);
    // One field changed: only that record is sent again, to the hosts holding it.
    m.endpoints.get(endpointRecordKey({ vni: 7, ip: '10.7.1.5' }))!.mac = '0e:07:0a:07:01:06';
    await reconciler.reconcile(desiredState(m, hosts));
    expect(log.map((c) => `${c.host}:${c.method}`).sort()).toEqual(['h1:attachEndpoints', 'h1:putEndpoints', 'h2:putEndpoints']);
  });

  it('more changed endpoints than one PutEndpoints may carry go as several calls, each under the message limit', async () => {
    const log: Call[] = [];
    const reconciler = new Reconciler({ h1: fakeTransitd('h1', log) });
    const goal = emptyGoal();
    const n = MAX_ENDPOINTS_PER_PUT + 5;
    for (let i = 0; i < n; i++) {
      const ip = formatIpv4(0x0a000000 + i + 1);
      goal.endpoints.set(endpointRecordKey({ vni: 7, ip }), {
        vni: 7, ip, type: EndpointType.SIMPLE, mac: '0e:07:00:00:00:01', hostIp: '172.30.0.2', hostMac: '0a:58:ac:1e:00:02', netId: 1, backends: [], hostedIfindex: -1,
      });
    }
    await reconciler.reconcile(new Map([['h1', goal]]));
    const puts = log.filter((c) => c.method === 'putEndpoints');
    expect(puts.map((c) => c.records!.length)).toEqual([MAX_ENDPOINTS_PER_PUT, 5]);
    expect(new Set(puts.flatMap((c) => c.records!.map((r) => r.ip))).size).toBe(n);
    log.length = 0;
    await reconciler.reconcile(new Map([['h1', goal]]));
    expect(log).toEqual([]);
  });

  it('a new switch gets the endpoints before any host is told to use it', async () => {
    const { ctl, log } = await withVpc();
    await ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' });
    log.length = 0;
    await ctl.addSwitch({ vni: 7, netId: 1, switch: 'h3' });
    const put = log.findIndex((c) => c.host === 'h3' && c.method === 'putEndpoints');
    const firstNetwork = log.findIndex((c) => c.method === 'applyGoalState' && (c.req as GoalState).networks.some((n) => n.switches.includes('172.30.0.3')));
    expect(put).toBeGreaterThanOrEqual(0);
    expect(firstNetwork).toBeGreaterThan(put);
  });

  it('deleting an endpoint: records deleted everywhere first, then detached on its host', async () => {
    const { ctl, log } = await withVpc();
    await ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' });
    log.length = 0;
    await ctl.deleteSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5' });
    // Direct path: every host of its VPC's network forgets where it lived, before
    // the records change and again once it is detached.
    const flushes = log.filter((c) => c.method === 'flushHostCache');
    expect(flushes.map((c) => c.host).sort()).toEqual(['h1', 'h1', 'h2', 'h2', 'h3', 'h3']);
    // h1 holds no network of VPC 7 any more: it forgets all it learned there.
    for (const c of flushes) expect(c.req).toEqual({ endpoints: [{ vni: 7, ip: '10.7.1.5' }], vnis: c.host === 'h1' ? [7] : [] });
    expect(log.findIndex((c) => c.method === 'flushHostCache')).toBe(0);
    expect(log.at(-1)!.method).toBe('flushHostCache');
    log.splice(0, log.length, ...log.filter((c) => c.method !== 'flushHostCache'));
    expect(log.map((c) => `${c.host}:${c.method}:${step(c)}`).sort()).toEqual([
      'h1:applyGoalState:4', 'h1:detachEndpoint:5', 'h2:applyGoalState:4',
    ]);
    expect(log.map(step)).toEqual([4, 4, 5]);
    expect((log[0].req as GoalState).deleteEndpoints).toEqual([{ vni: 7, ip: '10.7.1.5' }]);
    expect(log[2].req).toEqual({ vni: 7, ip: '10.7.1.5' });
  });

  it('a refused change is not taken back out of a store another controller has written on since (it could pull objects from under theirs): the call\'s outcome is unknown, and the next reconcile programs it', async () => {
    const log: Call[] = [];
    const store = new MemoryStore();
    const commit = store.commit.bind(store);
    let interfere = false;
    // Another controller commits right after this one's commit (before its hosts refuse it).
    store.commit = async (changes, expect) => {
      const v = await commit(changes, expect);
      if (!interfere) return v;
      interfere = false;
      await commit([{ kind: 'vpc', key: '9', value: { vni: 9, cidr: '10.9.0.0/16', routers: [] } }], v);
      return v;
    };
    let down = false;
    const ctl = new Controller({ h1: host(1), h2: host(2) }, {
      store, connect: (name) => fakeTransitd(name, log, { fail: (m) => (down && name === 'h2' && m === 'putEndpoints' ? new XvpcError('UNAVAILABLE', 'h2: down') : undefined) }),
    });
    try {
      await ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16' });
      await ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
      down = true;
      interfere = true;
      await expect(ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' })).rejects.toMatchObject({
        code: 'UNAVAILABLE', message: expect.stringMatching(/^h2: down; the change could not be taken back from the store, so it may stay there .* outcome is unknown$/),
      });
      const stored = (await store.load()).objects.map((o) => `${o.kind}/${o.key}`).sort();
      expect(stored).toEqual(['endpoint/7/10.7.1.5', 'network/7/1', 'vpc/7', 'vpc/9']);
      // The controller reads the store again: it knows both, and once h2 is back a reconcile programs the endpoint.
      expect((await ctl.listVpcs()).map((v) => v.vni)).toEqual([7, 9]);
      expect((await ctl.listEndpoints({ vni: 7 })).map((e) => e.ip)).toEqual(['10.7.1.5']);
      down = false;
      log.length = 0;
      expect((await ctl.reconcile()).repaired).toBeGreaterThan(0);
      expect(log.some((c) => c.host === 'h2' && c.method === 'putEndpoints')).toBe(true);
    } finally {
      await ctl.close();
    }
  });

  it('a refused change that cannot be taken back from the store fails every call of its batch UNAVAILABLE (outcome unknown), none run again into its own effect', async () => {
    const log: Call[] = [];
    const store = new MemoryStore();
    const commit = store.commit.bind(store);
    let refuseNext = false;
    store.commit = async (changes, expect) => {
      if (refuseNext) throw new XvpcError('UNAVAILABLE', 'store: this controller does not lead');
      return commit(changes, expect);
    };
    let down = false;
    const ctl = new Controller({ h1: host(1), h2: host(2) }, {
      store, connect: (name) => fakeTransitd(name, log, { fail: (m) => {
        if (!(down && name === 'h2' && m === 'putEndpoints')) return undefined;
        refuseNext = true; // its lease ends as the hosts are programmed: the take-back is refused
        return new XvpcError('UNAVAILABLE', 'h2: this controller no longer leads');
      } }),
    });
    try {
      await ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16' });
      await ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
      down = true;
      const results = await Promise.allSettled([10, 11, 12].map((i) => ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: `10.7.1.${i}`, host: 'h1' })));
      for (const r of results) {
        expect(r.status).toBe('rejected');
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/could not be taken back from the store, so it may stay there .* outcome is unknown/) });
      }
      expect((await store.load()).objects.filter((o) => o.kind === 'endpoint').length).toBe(3);
    } finally {
      refuseNext = false;
      await ctl.close();
    }
  });

  it('a detach the host answers NOT_FOUND (another controller of the store detached it first) is done, not a failed call', async () => {
    let gone = false;
    const env = setup((_h, m) => (gone && m === 'detachEndpoint' ? new XvpcError('NOT_FOUND', 'h1: endpoint 7/10.7.1.5 is not attached on h1') : undefined));
    await env.ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16' });
    await env.ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
    await env.ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' });
    gone = true;
    await env.ctl.deleteSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5' });
    expect(await env.ctl.listEndpoints({ vni: 7 })).toEqual([]);
    await env.ctl.close();
    // Any other failure of a detach still fails the call, and changes nothing.
    const failing = setup((_h, m) => (m === 'detachEndpoint' ? new XvpcError('UNAVAILABLE', 'h1: down') : undefined));
    await failing.ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16' });
    await failing.ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
    await failing.ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.7', host: 'h1' });
    await expect(failing.ctl.deleteSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.7' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect((await failing.ctl.listEndpoints({ vni: 7 })).map((e) => e.ip)).toEqual(['10.7.1.7']);
    await failing.ctl.close();
  });

  it('an address freed and taken again on one host (another VPC): the old endpoint is detached before the new one is attached', async () => {
    // A host whose endpoints share one namespace refuses the new one while the old one is attached
    // (e.g. a store ahead of the hosts after a crash): attaching first would never converge.
    const log: Call[] = [];
    const hosts = { h1: host(1), h2: host(2) };
    const reconciler = new Reconciler({ h1: fakeTransitd('h1', log), h2: fakeTransitd('h2', log) });
    const m = new Model();
    const ep = (vni: number) => ({ vni, netId: 1, ip: '10.7.1.5', mac: '0e:07:0a:07:01:05', type: EndpointType.SIMPLE, host: 'h1', backends: [] });
    for (const vni of [7, 8]) {
      m.vpcs.set(vni, { vni, cidr: '10.7.0.0/16', routers: [] });
      m.networks.set(Model.netKey(vni, 1), { vni, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
    }
    m.endpoints.set(endpointRecordKey({ vni: 7, ip: '10.7.1.5' }), ep(7));
    m.endpoints.set(endpointRecordKey({ vni: 7, ip: '10.7.1.6' }), { ...ep(7), ip: '10.7.1.6' });
    await reconciler.reconcile(desiredState(m, hosts));
    log.length = 0;
    m.endpoints.delete(endpointRecordKey({ vni: 7, ip: '10.7.1.5' }));
    m.endpoints.delete(endpointRecordKey({ vni: 7, ip: '10.7.1.6' }));
    m.endpoints.set(endpointRecordKey({ vni: 8, ip: '10.7.1.5' }), ep(8));
    await reconciler.reconcile(desiredState(m, hosts));
    const h1 = log.filter((c) => c.host === 'h1' && (c.method === 'detachEndpoint' || c.method === 'attachEndpoints'))
      .map((c) => (c.method === 'detachEndpoint' ? `detach ${(c.req as { vni: number }).vni}/${(c.req as { ip: string }).ip}`
        : `attach ${(c.req as { endpoints: { vni: number; ip: string }[] }).endpoints.map((e) => `${e.vni}/${e.ip}`).join(',')}`));
    // 10.7.1.6 is not taken again: it goes last, as any endpoint that goes.
    expect(h1).toEqual(['detach 7/10.7.1.5', 'attach 8/10.7.1.5', 'detach 7/10.7.1.6']);
  });

  it('a host that fails: the call is refused and the model is as before', async () => {
    let failing = true;
    const env = setup((h, m) => (failing && h === 'h2' && m === 'putEndpoints' ? new XvpcError('UNAVAILABLE', 'h2: down') : undefined));
    await env.ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16' });
    await env.ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
    await expect(env.ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    failing = false;
    // Not in the model: creating it again is no ALREADY_EXISTS.
    const ep = await env.ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' });
    expect(ep.ip).toBe('10.7.1.5');
    expect(ep.netns).toBe('ns-7-10.7.1.5'); // the fake's attach reply
  });
});

describe('Controller options', () => {
  it('an option it does not take is refused, naming it (a misspelt one would do nothing)', () => {
    expect(() => new Controller({ h1: host(1) }, { reconcileIntervalMS: 1000 } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^opts: unknown argument 'reconcileIntervalMS' \(it takes store, reconcileIntervalMs/) }));
  });
});

describe('reconcile with a host down', () => {
  it('repairs the hosts that answer, then names the one that does not', async () => {
    let down = false;
    const env = setup((h, m) => (down && h === 'h3' ? new XvpcError('UNAVAILABLE', `h3: transitd does not answer (${m})`) : undefined));
    await env.ctl.createVpc({ vni: 7, cidr: '10.7.0.0/16', routers: ['h3'] });
    await env.ctl.createNetwork({ vni: 7, netId: 1, cidr: '10.7.1.0/24', switches: ['h2'] });
    await env.ctl.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.5', host: 'h1' });
    down = true;
    env.log.length = 0;
    // The fake's dumps are empty: every reconcile finds every record missing and sends it again.
    const err = await env.ctl.reconcile().then(() => undefined, (e: unknown) => e as XvpcError);
    expect(err).toBeInstanceOf(XvpcError);
    expect(err!.code).toBe('UNAVAILABLE');
    expect(err!.message).toMatch(/^h3: transitd does not answer \(health\); the hosts that answer were reconciled \(checked \d+, repaired \d+\)/);
    // h3 was only asked for its health (refused calls are not logged: nothing reached it); the others were repaired
    expect(env.log.filter((c) => c.host === 'h3')).toEqual([]);
    expect(env.log.some((c) => c.host === 'h1' && c.method === 'putEndpoints')).toBe(true);
    expect(env.log.some((c) => c.host === 'h2' && c.method === 'putEndpoints')).toBe(true);
    down = false;
    env.log.length = 0;
    expect((await env.ctl.reconcile()).repaired).toBeGreaterThan(0);
    expect(env.log.some((c) => c.host === 'h3' && c.method === 'applyGoalState')).toBe(true);
  });
});

describe('controller input checks (nothing sent)', () => {
  const cases: [string, (c: Controller) => Promise<unknown>, string, RegExp][] = [
    ['args not an object', (c) => c.createVpc(null as never), 'INVALID_ARGUMENT', /createVpc: expected an object/],
    ['vni out of range', (c) => c.createVpc({ vni: 0x1000000, cidr: '10.0.0.0/8' }), 'INVALID_ARGUMENT', /^vni: 16777216 is not a VNI/],
    ['bad cidr', (c) => c.createVpc({ vni: 8, cidr: '10.0.0.1/8' }), 'INVALID_ARGUMENT', /cidr/],
    ['a VPC no network fits in', (c) => c.createVpc({ vni: 8, cidr: '10.8.0.0/31' }), 'INVALID_ARGUMENT', /^cidr: 10\.8\.0\.0\/31 is too small for any network \(at most \/30\)/],
    ['vni given as text', (c) => c.createVpc({ vni: '8' as never, cidr: '10.8.0.0/16' }), 'INVALID_ARGUMENT', /^vni: '8' is not a VNI/],
    ['unknown router', (c) => c.createVpc({ vni: 8, cidr: '10.8.0.0/16', routers: ['h9'] }), 'NOT_FOUND', /routers\[0\]: no droplet named 'h9'/],
    ['duplicate VPC', (c) => c.createVpc({ vni: 7, cidr: '10.7.0.0/16' }), 'ALREADY_EXISTS', /VPC 7 already exists/],
    ['network outside the VPC', (c) => c.createNetwork({ vni: 7, netId: 2, cidr: '10.9.0.0/24', switches: ['h1'] }), 'INVALID_ARGUMENT', /not inside VPC 7/],
    ['network overlaps', (c) => c.createNetwork({ vni: 7, netId: 2, cidr: '10.7.1.128/25', switches: ['h1'] }), 'INVALID_ARGUMENT', /overlaps network 1/],
    ['network without switches', (c) => c.createNetwork({ vni: 7, netId: 2, cidr: '10.7.2.0/24', switches: [] }), 'INVALID_ARGUMENT', /at least one switch/],
    ['switch listed twice', (c) => c.createNetwork({ vni: 7, netId: 2, cidr: '10.7.2.0/24', switches: ['h1', 'h1'] }), 'INVALID_ARGUMENT', /'h1' is listed twice/],
    ['endpoint outside its network', (c) => c.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.2.5', host: 'h1' }), 'INVALID_ARGUMENT', /outside network 1/],
    ['endpoint on the gateway', (c) => c.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.1', host: 'h1' }), 'INVALID_ARGUMENT', /gateway address/],
    ['endpoint on the broadcast', (c) => c.createSimpleEndpoint({ vni: 7, netId: 1, ip: '10.7.1.255', host: 'h1' }), 'INVALID_ARGUMENT', /broadcast/],
    ['endpoint in no network', (c) => c.createSimpleEndpoint({ vni: 7, netId: 9, ip: '10.7.1.5', host: 'h1' }), 'NOT_FOUND', /no network 9/],
    ['scaled without backends', (c) => c.createScaledEndpoint({ vni: 7, netId: 1, ip: '10.7.1.9', backends: [] }), 'INVALID_ARGUMENT', /at least one backend/],
    ['scaled with too many backends', (c) => c.createScaledEndpoint({ vni: 7, netId: 1, ip: '10.7.1.9', backends: Array(MAX_BACKENDS + 1).fill({ ip: '10.7.1.5' }) }),
      'INVALID_ARGUMENT', new RegExp(`at most ${MAX_BACKENDS}, got ${MAX_BACKENDS + 1}`)],
    ['scaled with an unknown backend', (c) => c.createScaledEndpoint({ vni: 7, netId: 1, ip: '10.7.1.9', backends: [{ ip: '10.7.1.77' }] as never }), 'NOT_FOUND', /backends\[0\]/],
    ['removing the last switch', (c) => c.removeSwitch({ vni: 7, netId: 1, switch: 'h2' }), 'FAILED_PRECONDITION', /last switch/],
  ];
  for (const [name, fn, code, message] of cases) {
    it(name, async () => {
      const { ctl, log } = await withVpc();
      log.length = 0;
      const err = await fn(ctl).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(XvpcError);
      expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
      expect(log).toEqual([]);
    });
  }
});
