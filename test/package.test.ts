// The published package, as a user gets it: `npm pack`, install the tarball
// into a fresh project (no compiler step of ours), run the README's example
// there and `npx xvpc --version`. Also: `npx xvpc` inside the checkout builds
// nothing.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addonPath, repoRoot } from '../src/dataplane/addon.js';
import { run } from '../src/util/exec.js';
import { shortPrefix } from './func/lib.js';

const version = (JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string }).version;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

// The README's example ("Using it"), with a prefix of its own; prints what the test checks.
const EXAMPLE = `
import { createDroplets, destroyDroplets, Controller } from 'xvpc';

const droplets = await createDroplets(['left', 'right', 'switch'], { prefix: process.argv[2] });
try {
  const c = new Controller(droplets);
  await c.createVpc({ vni: 3, cidr: '10.0.0.0/16', routers: [] });
  await c.createNetwork({ vni: 3, netId: 1, cidr: '10.0.0.0/16', switches: ['switch'] });
  const left = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.2', host: 'left' });
  const right = await c.createSimpleEndpoint({ vni: 3, netId: 1, ip: '10.0.0.3', host: 'right' });
  const ping = await left.ping(right.ip);
  const stats = await droplets.switch.stats();
  console.log(JSON.stringify({ ping, switchFwd: stats.switch_fwd }));
  await c.close();
} finally {
  await destroyDroplets(droplets);
}
`;

describe('npm pack, then install into another project', () => {
  const prefix = shortPrefix('pk');
  let dir: string;
  let tarball: string;
  let files: string[];
  let app: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xvpc-pack-'));
    const pack = await run(['npm', 'pack', '--json', '--pack-destination', dir, repoRoot], { timeoutMs: 120_000 });
    expect(pack.code, pack.stderr).toBe(0);
    const [info] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, info.filename);
    files = info.files.map((f) => f.path);
  });

  afterAll(async () => {
    // The example destroys its droplets; this catches what a failure in it left.
    await run([process.execPath, `${repoRoot}dist/cli/main.js`, 'cleanup', '--prefix', prefix], { timeoutMs: 120_000 });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the library, transitd, the CLI, the BPF objects and the addon, and nothing else', () => {
    const objects = readdirSync(`${repoRoot}obj/bpf`).filter((f) => f.endsWith('.o')).map((f) => `obj/bpf/${f}`);
    expect(objects).toEqual(expect.arrayContaining(['obj/bpf/xvpc.o', 'obj/bpf/xvpc_tc.o']));
    expect(files).toEqual(expect.arrayContaining([
      ...objects, 'build/Release/xvpc.node', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/transitd/main.js',
      'package.json', 'README.md',
    ]));
    const outside = files.filter((f) => !/^(dist\/|obj\/bpf\/[^/]+\.o$|build\/Release\/xvpc\.node$|package\.json$|README\.md$)/.test(f));
    expect(outside).toEqual([]);
    expect(files.filter((f) => /^dist\/bench\/|\.map$|^(test|tools|bench|src|native|proto|\.ci)\//.test(f))).toEqual([]);
    expect(files).not.toContain('binding.gyp'); // npm would run node-gyp on install if it were there
  });

  it('installs without building anything of its own, and runs the README example as root', async () => {
    app = join(dir, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // Dependencies come from the npm cache (main's `npm ci` filled it); a version
    // the cache lacks (the project has no lock) is fetched.
    // In the new project's directory: npm install elsewhere would rewrite that project's package.json.
    const install = (mode: string) => runIn(app, ['npm', 'install', mode, '--no-audit', '--no-fund', tarball], 600_000);
    const started = Date.now();
    let r = await install('--offline');
    let mode = '--offline';
    if (r.code !== 0 && /ENOTCACHED/.test(r.stderr)) {
      mode = '--prefer-offline';
      r = await install(mode);
    }
    expect(r.code, r.stderr).toBe(0);
    console.log(`npm install ${mode} of the tarball took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const installed = join(app, 'node_modules', 'xvpc');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; gypfile?: boolean };
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => /^(pre|post)?install$/.test(s))).toEqual([]);
    expect(manifest.gypfile).toBe(false);
    // The addon is the one packed, not one built on install.
    expect(readdirSync(join(installed, 'build'))).toEqual(['Release']);
    expect(sha256(join(installed, 'build/Release/xvpc.node'))).toBe(sha256(addonPath));

    writeFileSync(join(app, 'example.mjs'), EXAMPLE);
    const example = await runIn(app, [process.execPath, 'example.mjs', prefix], 300_000);
    expect(example.code, example.stderr).toBe(0);
    const out = JSON.parse(example.stdout.trim().split('\n').at(-1)!) as { ping: { ok: boolean; transmitted: number; received: number }; switchFwd: number };
    expect(out.ping.ok).toBe(true);
    expect(out.ping.received).toBe(out.ping.transmitted);
    // Requests and replies crossed the switch's data path.
    // Direct path is on by default: the first exchange crosses the switch, later packets skip it.
    expect(out.switchFwd).toBeGreaterThanOrEqual(1);
  }, 900_000);

  it('npx xvpc --version in that project prints the package version', async () => {
    expect(app).toBeDefined();
    const r = await runIn(app, ['npx', '--no-install', 'xvpc', '--version']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });
});

describe('npx xvpc inside the checkout', () => {
  it('runs the built CLI and builds nothing', async () => {
    const before = statSync(addonPath).mtimeMs;
    const buildEntries = readdirSync(`${repoRoot}build`).sort();
    const r = await runIn(repoRoot, ['npx', '--no-install', 'xvpc', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: xvpc <command>/);
    expect(statSync(addonPath).mtimeMs).toBe(before);
    expect(readdirSync(`${repoRoot}build`).sort()).toEqual(buildEntries);
  });
});

/** run() with a working directory (npx resolves the bin from there). */
function runIn(cwd: string, argv: string[], timeoutMs = 120_000) {
  return run(['sh', '-c', 'cd "$0" && exec "$@"', cwd, ...argv], { timeoutMs });
}
