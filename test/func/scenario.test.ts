// Scenarios end to end through the command line: up (with checks and a
// report whose charts render in headless Chromium), exec, pingall, a second
// up on the same prefix refused, cleanup that will not touch a live run
// unasked, down; Ctrl-C during up leaves nothing down cannot remove; a security
// groups section applied and taken down again.
import { spawn } from 'node:child_process';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/dataplane/addon.js';
import { cleanupAll } from '../../src/droplet/index.js';
import { runDir } from '../../src/droplet/names.js';
import { readRunFile } from '../../src/scenario/runfile.js';
import { run } from '../../src/util/exec.js';
import { listNamespaces } from '../../src/util/netns.js';
import { shortPrefix } from './lib.js';

const CLI = `${repoRoot}dist/cli/main.js`;
const xvpc = (...args: string[]) => run([process.execPath, CLI, ...args], { timeoutMs: 120_000 });

const SCENARIO = `
name: two-vpcs
hosts: { names: [h1, h2, sw] }
vpcs:
  - vni: 3
    cidr: 10.0.0.0/16
    networks: [{ netId: 1, cidr: 10.0.1.0/24, switches: [sw] }]
  - vni: 4
    cidr: 10.0.0.0/16
    networks: [{ netId: 1, cidr: 10.0.1.0/24, switches: [sw] }]
endpoints:
  - { name: a, vni: 3, netId: 1, host: h1 }
  - { name: b, vni: 3, netId: 1, host: h2 }
  - { vni: 3, netId: 1, hosts: [h1, h2], perHost: 2 }
  - { name: x, vni: 4, netId: 1, host: h2, ip: 10.0.1.9 }
  - { name: y, vni: 4, netId: 1, host: h1, ip: 10.0.1.2 }
checks:
  pingall: {}
  unreachable: [{ from: a, to: x }]
`;

let dir: string;
const prefixes: string[] = [];
const newPrefix = (tag: string) => {
  const p = shortPrefix(tag);
  prefixes.push(p);
  return p;
};

beforeAll(async () => {
  dir = await mkdtemp(`${tmpdir()}/xvpc-scn-`);
});

afterAll(async () => {
  for (const p of prefixes) await cleanupAll(p);
  await rm(dir, { recursive: true, force: true });
});

/** Opens a page in headless Chromium; returns its console errors and how many charts drew SVG marks. */
async function renderInChromium(path: string): Promise<{ errors: string[]; svgs: number; marks: number }> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`file://${path}`);
    const svgs = await page.locator('.chart svg').count();
    // Marks drawn: bars are paths with a non-empty geometry inside the charts.
    const marks = await page.locator('.chart svg path').evaluateAll((els) => els.filter((e) => (e.getAttribute('d') ?? '').length > 4).length);
    return { errors, svgs, marks };
  } finally {
    await browser.close();
  }
}

describe('xvpc up / exec / pingall / down', () => {
  it('brings a scenario up, runs its checks, writes a report whose charts render, and takes it down', async () => {
    const prefix = newPrefix('sc');
    const file = `${dir}/two-vpcs.yaml`;
    await writeFile(file, SCENARIO);
    const base = `${dir}/report-${prefix}`;
    const up = await xvpc('up', file, '--prefix', prefix, '--report', base);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/pass {2}pingall: 32\/32 pairs answered/); // 6 endpoints in VPC 3 (6*5 ordered pairs), 2 in VPC 4
    expect(up.stdout).toMatch(/pass {2}unreachable a->x: 0\/3 answered/);
    expect(up.stderr).toMatch(/\[endpoints\] done in/);

    const report = JSON.parse(await readFile(`${base}.json`, 'utf8'));
    expect(report.outcome).toBe('up');
    expect(report.endpoints).toBe(8);
    expect(report.stages.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual([
      'droplets:done', 'shaping:done', 'vpcs:done', 'networks:done', 'security-groups:done', 'endpoints:done', 'record:done', 'checks:done']);
    expect(report.checks.pings.length).toBe(32);
    const page = await renderInChromium(`${base}.html`);
    expect(page.errors).toEqual([]);
    expect(page.svgs).toBe(2); // stage timings, RTT distribution
    expect(page.marks).toBeGreaterThan(2);

    const runFile = (await readRunFile(prefix))!;
    expect(runFile.state).toBe('up');
    expect(runFile.endpoints.map((e) => `${e.name}=${e.ip}`)).toEqual([
      'a=10.0.1.2', 'b=10.0.1.3', 'v3n1-h1-1=10.0.1.4', 'v3n1-h1-2=10.0.1.5', 'v3n1-h2-1=10.0.1.6', 'v3n1-h2-2=10.0.1.7', 'x=10.0.1.9', 'y=10.0.1.2']);

    const ex = await xvpc('exec', prefix, 'b', '--', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'veth0');
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/inet 10\.0\.1\.3\/24/);
    expect((await xvpc('exec', prefix, 'b', '--', 'sh', '-c', 'exit 7')).code).toBe(7);
    const amb = await xvpc('exec', prefix, '10.0.1.2', '--', 'true');
    expect(amb.code).toBe(2);
    expect(amb.stderr).toMatch(/10\.0\.1\.2 is in 2 VPCs; name it \(a, y\)/);

    const pa = await xvpc('pingall', prefix, '--sample', '0.5', '--seed', '3');
    expect(pa.code, pa.stderr).toBe(0);
    expect(pa.stdout).toMatch(/^pass {2}(\d+)\/\1 pairs answered/);

    const again = await xvpc('up', file, '--prefix', prefix);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`prefix '${prefix}' is already up \\(scenario two-vpcs, state up\\); run xvpc down ${prefix} first`));

    const clean = await xvpc('cleanup'); // stdin is not a terminal: refuses, touches nothing
    expect(clean.code).toBe(1);
    expect(clean.stderr).toMatch(new RegExp(`live scenario runs: .*${prefix} \\(two-vpcs, up\\).*give --force`));
    expect((await xvpc('exec', prefix, 'a', '--', 'true')).code).toBe(0);

    const down = await xvpc('down', prefix);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(new RegExp(`${prefix} is down \\(scenario two-vpcs\\): removed 3 transitds`));
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    await expect(access(runDir(prefix))).rejects.toThrow();
    const gone = await xvpc('pingall', prefix);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no scenario is up/);
  }, 240_000);

  it('stops cleanly on Ctrl-C during up, and down removes everything it made', async () => {
    const prefix = newPrefix('si');
    const file = `${dir}/many.yaml`;
    await writeFile(file, `hosts: { names: [h1, h2, sw] }
vpcs: [{ vni: 5, cidr: 10.5.0.0/16, networks: [{ netId: 1, cidr: 10.5.0.0/16, switches: [sw] }] }]
endpoints: [{ vni: 5, netId: 1, hosts: [h1, h2], perHost: 100 }]
`);
    const child = spawn(process.execPath, [CLI, 'up', file, '--prefix', prefix, '--report', `${dir}/int-${prefix}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/\[endpoints\] \d+ tasks/.test(stderr)) resolve();
      });
      void exited.then(() => resolve());
    });
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(new RegExp(`interrupted; xvpc down ${prefix} removes what was made`));
    const runFile = (await readRunFile(prefix))!;
    expect(runFile.state).toBe('interrupted');
    expect(runFile.endpoints).toEqual([]); // never recorded as up
    const report = JSON.parse(await readFile(`${dir}/int-${prefix}.json`, 'utf8'));
    expect(report.outcome).toBe('interrupted');
    expect(report.stages.find((s: { name: string }) => s.name === 'endpoints').status).toBe('cancelled');

    const down = await xvpc('down', prefix);
    expect(down.code, down.stderr).toBe(0);
    expect((await listNamespaces()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([]);
    await expect(access(runDir(prefix))).rejects.toThrow();
  }, 240_000);

  it('applies a securityGroups section, and down removes it all', async () => {
    const prefix = newPrefix('sg');
    const file = `${dir}/sg.yaml`;
    await writeFile(file, `${SCENARIO}securityGroups:\n  - { vni: 3, name: web, ingress: [{ protocol: tcp, ports: '80' }] }\n`);
    const r = await xvpc('up', file, '--prefix', prefix, '--report', `${dir}/sg-report`);
    try {
      expect(r.code, r.stderr).toBe(0);
    } finally {
      const down = await xvpc('down', prefix);
      expect(down.code, down.stderr).toBe(0);
    }
    await expect(access(runDir(prefix))).rejects.toThrow();
  }, 120_000);

  it('names the line and field of a bad scenario file, exit 2, making nothing', async () => {
    const prefix = newPrefix('sb');
    const file = `${dir}/bad.yaml`;
    await writeFile(file, SCENARIO.replace('host: h2 }', 'host: h9 }'));
    const r = await xvpc('up', file, '--prefix', prefix);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:13: endpoints\\[1\\]\\.host: no host 'h9'`));
    await expect(access(runDir(prefix))).rejects.toThrow();
    const masked = await xvpc('up', file.replace('bad', 'two-vpcs'), '--prefix', prefix, '--skip', 'checks,droplets');
    expect(masked.code).toBe(2);
    expect(masked.stderr).toMatch(/mask: up cannot leave out droplets \(only shaping, security-groups and checks may be skipped\)/);
    await expect(access(runDir(prefix))).rejects.toThrow();
  });
});
