// A scenario with `hosts.endpointNamespace: shared` (and one shared transitd
// process) through runScenario (what `xvpc up` runs): each host's endpoints in
// one namespace, the checks that bind their sources pass (pingall, an iperf
// pair, a coordinated run with two servers in one namespace on one port, a
// pair that must not reach), `xvpc pingall` and
// `xvpc exec` work on the run, and cleanupAll (`xvpc down`) leaves nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/dataplane/addon.js';
import { cleanupAll } from '../../src/droplet/index.js';
import { readRunFile } from '../../src/scenario/runfile.js';
import { runScenario } from '../../src/scenario/run.js';
import { run } from '../../src/util/exec.js';
import { listNamespaces } from '../../src/util/netns.js';
import { shortPrefix } from './lib.js';

const CLI = `${repoRoot}dist/cli/main.js`;
const xvpc = (...args: string[]) => run([process.execPath, CLI, ...args], { timeoutMs: 120_000 });

const SCENARIO = `
name: shared-endpoint-namespaces
hosts: { count: 3, namePrefix: n, transitd: shared, endpointNamespace: shared }
vpcs:
  - vni: 6
    cidr: 10.6.0.0/16
    networks: [{ netId: 1, cidr: 10.6.1.0/24, switches: [n3] }]
  - vni: 7
    cidr: 10.6.0.0/16
    networks: [{ netId: 1, cidr: 10.6.1.0/24, switches: [n3] }]
endpoints:
  - { name: a, vni: 6, netId: 1, host: n1 }
  - { name: b, vni: 6, netId: 1, host: n1 }
  - { vni: 6, netId: 1, hosts: [n1, n2], perHost: 2 }
  - { name: x, vni: 7, netId: 1, host: n2, ip: 10.6.1.9 }
checks:
  pingall: {}
  iperf: [{ client: a, server: b, seconds: 1 }]
  coordinated: [{ clients: [a, v6n1-n2-1], servers: [b, v6n1-n1-1], seconds: 1 }]
  unreachable: [{ from: a, to: x }]
`;

describe('scenario hosts.endpointNamespace: shared', () => {
  const prefix = shortPrefix('sn');
  let dir: string | undefined;

  afterAll(async () => {
    await cleanupAll(prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('puts each host\'s endpoints in one namespace; the checks, xvpc pingall and exec work; down leaves nothing', async () => {
    dir = await mkdtemp(`${tmpdir()}/xvpc-sn-`);
    const r = await runScenario({ text: SCENARIO, prefix, reportBase: `${dir}/report` });
    expect(r.report.checks.results.filter((c) => !c.ok)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.report.checks.results.map((c) => c.name).sort()).toEqual(['coordinated #0', 'iperf a->b', 'pingall', 'unreachable a->x']);
    // 6 endpoints in VPC 6 (30 ordered pairs), one in VPC 7.
    expect(r.report.checks.pings.filter((p) => p.ok).length).toBe(30);

    const runFile = (await readRunFile(prefix))!;
    const byName = new Map(runFile.endpoints.map((e) => [e.name, e]));
    expect(byName.get('a')).toMatchObject({ netns: `${prefix}-n1-eps`, sharedNamespace: true });
    expect(byName.get('x')).toMatchObject({ netns: `${prefix}-n2-eps`, sharedNamespace: true });
    const ns = (await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`)).sort();
    expect(ns).toEqual([`${prefix}-n1`, `${prefix}-n1-eps`, `${prefix}-n2`, `${prefix}-n2-eps`, `${prefix}-n3`, `${prefix}-ul`]);

    const pa = await xvpc('pingall', prefix);
    expect(pa.code, pa.stderr).toBe(0);
    expect(pa.stdout).toMatch(/30\/30 pairs answered/);
    const b = byName.get('b')!;
    const ex = await xvpc('exec', prefix, 'a', '--', 'ping', '-n', '-c', '2', '-I', byName.get('a')!.ip, b.ip);
    expect(ex.code, ex.stdout + ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/2 packets transmitted, 2 received/);

    await cleanupAll(prefix);
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
  }, 240_000);
});
