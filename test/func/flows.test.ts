// `xvpc flows`: decoded flow events from the capture hooks, as JSON lines and
// text: a ping through the switch shows up with its endpoints, VNI, protocol
// and the switch's verdict; a spoofed packet shows up as a drop at its agent, with its reason.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPing, switchScenario, type SwitchScenario } from './lib.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** Starts `xvpc flows args`, waits until it watches, runs `traffic`, returns its stdout lines. */
async function flows(args: string[], traffic: () => Promise<void>): Promise<string[]> {
  const child = spawn(process.execPath, [CLI, 'flows', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => { stdout += b; });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (b) => { stderr += b; if (stderr.includes('watching')) resolve(); });
      void exited.then((code) => reject(new Error(`xvpc flows exited ${code}: ${stderr}`)));
    });
    await traffic();
    const code = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-2), 20_000))]);
    expect(code, stderr).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
  }
  return stdout.trim().split('\n').filter(Boolean);
}

describe('xvpc flows', () => {
  let s: SwitchScenario;

  beforeAll(async () => {
    s = await switchScenario('fw', { directPath: false });
  });

  afterAll(async () => {
    await s?.close();
  });

  it('shows a ping through the switch as JSON events: endpoints, VNI, protocol, verdict, underlay', async () => {
    const prefix = s.droplets.left.prefix;
    const lines = await flows(['--prefix', prefix, '--host', 'switch', '--json', '-c', '4', 'geneve and icmp'],
      () => expectPing(s.left, s.right.ip, 2));
    const events = lines.map((l) => JSON.parse(l));
    expect(events).toHaveLength(4);
    const request = events.find((e) => e.info === 'echo-request');
    expect(request).toMatchObject({
      host: 'switch', verdict: 'tx', vni: 3, protocol: 'icmp', src: s.left.ip, dst: s.right.ip, srcPort: null, dropReason: null,
      underlay: { src: s.droplets.left.ip, dst: s.droplets.right.ip }, // a switch keeps the sender host as the outer source (direct path learning)
    });
    expect(events.find((e) => e.info === 'echo-reply')).toMatchObject({ src: s.right.ip, dst: s.left.ip, verdict: 'tx' });
  });

  it('shows a spoofed packet dropped at its agent, as text', async () => {
    const prefix = s.droplets.left.prefix;
    await s.left.run(['ip', 'addr', 'add', '10.0.0.99/16', 'dev', 'veth0']);
    const lines = await flows(['--prefix', prefix, '--host', 'left', '--verdict', 'drop', '-c', '1', 'icmp'],
      async () => { await s.left.run(['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', '-I', '10.0.0.99', s.right.ip]); });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`left\\s+DROP\\s+vni - 10\\.0\\.0\\.99 -> ${s.right.ip.replaceAll('.', '\\.')} icmp echo-request reason spoofed`));
  });
});
