// A scenario with `hosts.transitd: shared` through runScenario (what `xvpc up`
// runs): every host's transitd in one process, the pingall check passes, and
// cleanupAll (what `xvpc down` runs) leaves no process, namespace or pin.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll } from '../../src/droplet/index.js';
import { PIN_ROOT, runDir } from '../../src/droplet/names.js';
import { findProcesses, isRunning } from '../../src/droplet/process.js';
import { readPid } from '../../src/droplet/records.js';
import { runScenario } from '../../src/scenario/run.js';
import { listNamespaces } from '../../src/util/netns.js';
import { shortPrefix } from './lib.js';

const SCENARIO = `
name: shared-transitd
hosts: { count: 3, namePrefix: s, transitd: shared }
vpcs:
  - vni: 5
    cidr: 10.5.0.0/16
    networks: [{ netId: 1, cidr: 10.5.1.0/24, switches: [s3] }]
endpoints:
  - { vni: 5, netId: 1, hosts: [s1, s2], perHost: 2 }
checks:
  pingall: {}
`;

describe('scenario hosts.transitd: shared', () => {
  const prefix = shortPrefix('ss');
  let dir: string | undefined;

  afterAll(async () => {
    await cleanupAll(prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('runs every host in one transitd process; pingall passes; down leaves nothing', async () => {
    dir = await mkdtemp(`${tmpdir()}/xvpc-ss-`);
    const r = await runScenario({ text: SCENARIO, prefix, reportBase: `${dir}/report` });
    expect(r.report.checks.results.filter((c) => !c.ok)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.report.endpoints).toBe(4);
    const pings = r.report.checks.pings;
    expect(pings.length).toBe(12); // 4 endpoints, every ordered pair
    expect(pings.every((p) => p.ok)).toBe(true);

    const pids = await Promise.all(['s1', 's2', 's3'].map((h) => readPid(prefix, h)));
    expect(new Set(pids).size).toBe(1);
    expect(await findProcesses(`${runDir(prefix)}/`)).toEqual([pids[0]]);

    const summary = await cleanupAll(prefix);
    expect(summary.processes).toEqual([pids[0]]);
    expect(await isRunning(pids[0]!)).toBe(false);
    expect(await findProcesses(`${runDir(prefix)}/`)).toEqual([]);
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    expect((await readdir(PIN_ROOT).catch(() => [] as string[])).filter((p) => p.startsWith(`${prefix}-`))).toEqual([]);
  });
});
