// A goal state is all-or-nothing across a crash: transitd is SIGKILLed at
// several points of a 30,500-write goal state (its test hook, and the test's
// own kill at a random moment), and the restarted transitd must show exactly
// the state before the batch or exactly the state after it.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectTransitd } from '../../src/transitd/client.js';
import { EndpointType, type Endpoint, type GoalState } from '../../src/gen/transit.js';
import type { Droplet } from '../../src/droplet/index.js';
import { runDir } from '../../src/droplet/names.js';
import { destroyDroplets, makeDroplets } from './lib.js';

const VNI = 7;
const BASE = 1000;     // endpoints before the batch: i in [0, BASE)
const FROM = 500;      // the batch deletes i in [0, FROM) and upserts i in [FROM, TO)
const TO = 30_500;
const ip = (i: number) => `10.7.${(i >> 8) & 255}.${i & 255}`;
const ep = (i: number, mac: string): Endpoint => ({
  vni: VNI, ip: ip(i), type: EndpointType.SIMPLE, mac, hostIp: '172.30.9.9', hostMac: '0a:58:ac:1e:09:09',
  netId: 1, backends: [], hostedIfindex: -1,
});
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => a + k);
const empty = {
  substrate: [], vpcs: [], networks: [], endpoints: [], deleteSubstrate: [], deleteVpcs: [], deleteNetworks: [], deleteEndpoints: [],
  securityGroups: [], securityAttachments: [], deleteSecurityGroups: [], deleteSecurityAttachments: [],
};

/** The state before: vpc 7 and BASE endpoints with mac ...:01; whatever the batch added is deleted. */
const BEFORE: GoalState = {
  ...empty,
  vpcs: [{ vni: VNI, routers: [] }],
  endpoints: range(0, BASE).map((i) => ep(i, '02:00:00:00:00:01')),
  deleteEndpoints: range(BASE, TO).map((i) => ({ vni: VNI, ip: ip(i) })),
  deleteVpcs: [{ vni: 8 }],
};
/** The batch: 1 vpc + 30,000 upserts (500 of them changing a record) + 500 deletions = 30,501 writes. */
const BATCH: GoalState = {
  ...empty,
  vpcs: [{ vni: 8, routers: ['172.30.9.9'] }],
  endpoints: range(FROM, TO).map((i) => ep(i, '02:00:00:00:00:02')),
  deleteEndpoints: range(0, FROM).map((i) => ({ vni: VNI, ip: ip(i) })),
};
const WRITES = 1 + (TO - FROM) + FROM;

describe('ApplyGoalState across a SIGKILL', () => {
  let droplets: Record<string, Droplet>;
  let d: Droplet;
  let beforePrint: string;
  let afterPrint: string;

  const call = async <T>(fn: (c: ReturnType<typeof connectTransitd>) => Promise<T>): Promise<T> => {
    const c = connectTransitd(d.id, d.transitdAddress, 120_000);
    try { return await fn(c); } finally { c.close(); }
  };
  /** The maps' records, as one hash. */
  const fingerprint = () => call(async (c) => {
    const s = await c.dump({});
    const lines = [
      ...s.vpcs.map((v) => `vpc ${v.vni} ${v.routers.join(',')}`),
      ...s.endpoints.map((e) => `ep ${e.vni} ${e.ip} ${e.mac}`),
    ].sort();
    return `${lines.length}:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
  });
  const journal = () => `${runDir(d.prefix)}/${d.id}.journal`;
  /** Restarts transitd with the crash hook set to n (undefined: no hook). */
  const restart = async (n?: number) => {
    if (n === undefined) delete process.env.XVPC_TEST_CRASH_AFTER_RECORDS;
    else process.env.XVPC_TEST_CRASH_AFTER_RECORDS = String(n);
    try {
      await d.stopTransitd();
      await d.startTransitd();
    } finally {
      delete process.env.XVPC_TEST_CRASH_AFTER_RECORDS;
    }
  };

  beforeAll(async () => {
    droplets = await makeDroplets(['gs'], 'gc');
    d = droplets.gs;
    await call((c) => c.applyGoalState(BEFORE));
    beforePrint = await fingerprint();
    await call((c) => c.applyGoalState(BATCH));
    afterPrint = await fingerprint();
    await call((c) => c.applyGoalState(BEFORE));
    expect(await fingerprint()).toBe(beforePrint);
  }, 300_000);

  afterAll(async () => {
    delete process.env.XVPC_TEST_CRASH_AFTER_RECORDS;
    if (droplets) await destroyDroplets(droplets);
  });

  it('the two states differ (so telling them apart means something)', () => {
    expect(beforePrint).not.toBe(afterPrint);
    expect(beforePrint.startsWith(`${1 + BASE}:`)).toBe(true);
    expect(afterPrint.startsWith(`${2 + TO - FROM}:`)).toBe(true);
  });

  for (const n of [1, 15_000, WRITES]) {
    it(`killed after write ${n} of ${WRITES}: the restarted transitd has none of the batch`, async () => {
      await restart(n);
      await expect(call((c) => c.applyGoalState(BATCH))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      // The dead transitd left its journal, root-only.
      expect(existsSync(journal())).toBe(true);
      expect(statSync(journal()).mode & 0o777).toBe(0o600);
      await restart();
      expect(existsSync(journal())).toBe(false);
      expect(await fingerprint()).toBe(beforePrint);
    }, 300_000);
  }

  it('killed at random moments: the restarted transitd has all of the batch or none of it', async () => {
    const seen: string[] = [];
    for (let round = 0; round < 2; round++) {
      await call((c) => c.applyGoalState(BEFORE));
      const delayMs = Math.floor(Math.random() * 1500);
      const applying = call((c) => c.applyGoalState(BATCH)).then(() => 'applied', () => 'failed');
      await new Promise((r) => setTimeout(r, delayMs));
      process.kill(d.transitdPid!, 'SIGKILL');
      await applying;
      await restart();
      const print = await fingerprint();
      expect([beforePrint, afterPrint], `killed ${delayMs} ms into the call`).toContain(print);
      seen.push(print === afterPrint ? 'all' : 'none');
    }
    // And without a crash the batch is there whole after a restart.
    await call((c) => c.applyGoalState(BATCH));
    await restart();
    expect(await fingerprint()).toBe(afterPrint);
    console.log(`random kills left: ${seen.join(', ')}`);
  }, 600_000);
});
