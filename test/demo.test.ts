// `xvpc demo` end to end, on both data paths: the pings, the security-group
// step (the allowed port delivers the same bytes, the denied one fails, and
// the server's host counts exactly the SYNs the client sent as drop_sg_ingress
// and one tracked connection), exit 0, and nothing of the demo left behind.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/dataplane/addon.js';
import { run } from '../src/util/exec.js';
import { shortPrefix } from './func/lib.js';

const CLI = `${repoRoot}dist/cli/main.js`;

describe('xvpc demo', () => {
  for (const mode of ['tc', 'xdp'] as const) {
    it(`runs on the ${mode === 'tc' ? 'TC (default)' : 'XDP'} data path, and its security group lets one port in and keeps the other out`, async () => {
      const prefix = shortPrefix('dm');
      const r = await run([process.execPath, CLI, 'demo', '--prefix', prefix, ...(mode === 'xdp' ? ['--xdp'] : [])], { timeoutMs: 150_000 });
      try {
        const out = r.stdout;
        expect(r.stderr).toBe('');
        expect(out).toContain(`prefix ${prefix}`);
        expect(out).toMatch(`The programs run on the ${mode === 'tc' ? 'TC' : 'XDP'} hook`);
        expect(out).toMatch(/10\.0\.0\.2 -> 10\.0\.0\.3: 5\/5 answered/);
        expect(out).toMatch(/10\.0\.0\.3 -> 10\.0\.0\.2: 5\/5 answered/);

        const denied = /10\.0\.0\.2 -> 10\.0\.0\.3:8081 {2}denied: ETIMEDOUT \(no answer to the (\d+) SYNs it sent\)/.exec(out);
        expect(denied, out).not.toBeNull();
        const syns = Number(denied![1]);
        expect(syns).toBeGreaterThanOrEqual(1);

        const allowed = /10\.0\.0\.2 -> 10\.0\.0\.3:8080 {2}allowed: (\d+) bytes sent, (\d+) received; sha256 sent ([0-9a-f]{16})…, received ([0-9a-f]{16})…/.exec(out);
        expect(allowed, out).not.toBeNull();
        expect(Number(allowed![1])).toBe(1 << 20);
        expect(allowed![2]).toBe(allowed![1]);
        expect(allowed![4]).toBe(allowed![3]);

        // Exactly the client's SYNs were denied at the server's host, and the allowed connection was tracked once.
        const counters = /Counters on "right": drop_sg_ingress \+(\d+) \(the \d+ SYNs to 8081\), sg_ct_new \+(\d+)/.exec(out);
        expect(counters, out).not.toBeNull();
        expect(Number(counters![1])).toBe(syns);
        expect(Number(counters![2])).toBe(1);

        expect(out).toContain('The security group let port 8080 in and kept port 8081 out.');
        expect(out).toContain('nothing of the demo is left on this machine');
        expect(r.code).toBe(0);
        const ns = await run(['ip', 'netns', 'list']);
        expect(ns.stdout.split('\n').filter((l) => l.startsWith(`${prefix}-`))).toEqual([]);
      } finally {
        // The demo tears down in its own finally; this is the last resort if it was killed.
        await run([process.execPath, CLI, 'cleanup', '--prefix', prefix]);
      }
    }, 180_000);
  }

  it('Ctrl-C tears it down: exit 130, and nothing of the demo is left', async () => {
    const prefix = shortPrefix('dm');
    const child = spawn(process.execPath, [CLI, 'demo', '--prefix', prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // Interrupted once the endpoints are being made: droplets, transitds and endpoint namespaces all exist.
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          if (out.includes('4. Pinging both ways.')) resolve();
        });
        void exited.then((code) => reject(new Error(`demo exited ${code} before its endpoints: ${out}`)));
      });
      child.kill('SIGINT');
      expect(await exited).toBe(130);
      expect(out).toContain('Interrupted: tearing down');
      const ns = await run(['ip', 'netns', 'list']);
      expect(ns.stdout.split('\n').filter((l) => l.startsWith(`${prefix}-`))).toEqual([]);
      expect(existsSync(`/run/xvpc/${prefix}`)).toBe(false);
      expect(readdirSync('/sys/fs/bpf/xvpc').filter((d) => d.startsWith(`${prefix}-`))).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await run([process.execPath, CLI, 'cleanup', '--prefix', prefix]);
    }
  }, 120_000);
});
