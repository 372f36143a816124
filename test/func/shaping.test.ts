// Link shaping that shows: 10% loss in ping loss, a rate limit in iperf3
// throughput, 20 ms of delay on one host's link in the RTT (where the kernel
// has netem; where not, up refuses delay up front and makes nothing). Each is
// checked by the scenario's own checks (Merge-style) and asserted here from
// the report.
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { access } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { runDir } from '../../src/droplet/names.js';
import { kernelHasNetem } from '../../src/scenario/shaping.js';
import { cleanupAll } from '../../src/droplet/index.js';
import { runScenario, type RunScenarioResult } from '../../src/scenario/run.js';
import { shortPrefix } from './lib.js';

const prefix = shortPrefix('sh');
const reportBase = `${tmpdir()}/xvpc-shaping-${prefix}`;

// 1,000 pings with 10% loss: 100 lost on average, sd 9.5. The bounds below
// (3%..20%) sit more than 7 sd away: a false failure is below 1e-9.
const SCENARIO = `
name: shaping
hosts: { names: [src, lossy, narrow, sw] }
links:
  hosts:
    lossy: { loss: 10% }
    narrow: { rate: 20mbit }
vpcs:
  - vni: 7
    cidr: 10.7.0.0/16
    networks: [{ netId: 1, cidr: 10.7.0.0/16, switches: [sw] }]
endpoints:
  - { name: s, vni: 7, netId: 1, host: src }
  - { name: l, vni: 7, netId: 1, host: lossy }
  - { name: r, vni: 7, netId: 1, host: narrow }
checks:
  rtt:
    - { from: s, to: l, count: 1000, minLossPct: 3, maxLossPct: 20 }
    - { from: s, to: r, count: 20, maxLossPct: 0 }
  iperf:
    - { client: s, server: r, seconds: 3, minMbps: 1, maxMbps: 30 }
`;

describe('link shaping', () => {
  let result: RunScenarioResult;

  afterAll(async () => {
    await cleanupAll(prefix);
    await rm(`${reportBase}.json`, { force: true });
    await rm(`${reportBase}.html`, { force: true });
  });

  it('shows loss in ping loss and a rate limit in iperf3', async () => {
    result = await runScenario({ text: SCENARIO, prefix, reportBase });
    const byName = Object.fromEntries(result.report.checks.results.map((c) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual(['iperf s->r', 'rtt s->l', 'rtt s->r']);

    // Loss: the report's own bound check, plus the count it is based on.
    const lossy = result.report.checks.pings.filter((p) => p.from === 's' && p.to === 'l').length;
    expect(lossy).toBeGreaterThanOrEqual(800);
    expect(lossy).toBeLessThanOrEqual(970);
    expect(byName['rtt s->l'].ok, byName['rtt s->l'].detail).toBe(true);

    // Rate: 20 Mbit/s on narrow's link; the overlay unshaped does Gbit/s.
    const tput = result.report.checks.throughput.find((t) => t.client === 's' && t.server === 'r')!;
    expect(tput.mbps).toBeGreaterThan(1);
    expect(tput.mbps).toBeLessThan(30);
    expect(byName['iperf s->r'].ok, byName['iperf s->r'].detail).toBe(true);
    expect(result.ok).toBe(true);
  }, 180_000);

  it('shows 20 ms of delay on one host in every RTT, or refuses delay where the kernel has no netem', async () => {
    const p2 = shortPrefix('sd');
    const text = `
hosts: { names: [src, slow, sw] }
links: { hosts: { slow: { delay: 20ms } } }
vpcs: [{ vni: 7, cidr: 10.7.0.0/16, networks: [{ netId: 1, cidr: 10.7.0.0/16, switches: [sw] }] }]
endpoints:
  - { name: s, vni: 7, netId: 1, host: src }
  - { name: d, vni: 7, netId: 1, host: slow }
checks: { rtt: [{ from: s, to: d, count: 20, minMs: 20 }] }
`;
    try {
      if (await kernelHasNetem()) {
        const r = await runScenario({ text, prefix: p2, reportBase: `${reportBase}-delay` });
        // Every reply crosses slow's link once: no RTT is below 20 ms.
        const rtts = r.report.checks.pings.map((p) => p.rttMs!);
        expect(rtts.length).toBe(20);
        expect(Math.min(...rtts)).toBeGreaterThanOrEqual(20);
        expect(r.ok).toBe(true);
      } else {
        await expect(runScenario({ text, prefix: p2, reportBase: `${reportBase}-delay` }))
          .rejects.toThrow(/^links \(host slow\): delay\/jitter need netem, which this kernel lacks/);
        await expect(access(runDir(p2))).rejects.toThrow(); // nothing was made
      }
    } finally {
      await cleanupAll(p2);
      await rm(`${reportBase}-delay.json`, { force: true });
      await rm(`${reportBase}-delay.html`, { force: true });
    }
  }, 120_000);
});
