#!/usr/bin/env node
// A shared transitd host: one Node process serving many emulated hosts
// (netns droplets), each droplet's transitd in a worker thread of its own that
// first enters the droplet's network namespace (host-worker.ts). What a
// transitd process per droplet costs in Node (~19 MB anonymous each) is paid
// once; each worker costs its own V8 heap and module copies.
//
//   host.js --control PATH [--young-mb N] [--old-mb N] --netns NS_PATH --log LOG <transitd args> [--netns ...]...
//
// Every group from one --netns to the next is one droplet: its namespace, the
// log its worker's output goes to, and transitd's own arguments. A control
// socket (host-control.ts) starts, stops and reports one droplet's worker;
// SIGTERM/SIGINT stop them all. The host exits once no worker is left.
import { createWriteStream, chmodSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { HostReply, HostRequest, WorkerState } from './host-control.js';
import type { HostWorkerData } from './host-worker.js';

interface Droplet {
  name: string;
  netns: string;
  args: string[];
  log: WriteStream;
  worker?: Worker;
  state: WorkerState;
  /** resolves when the worker has exited */
  exited?: Promise<void>;
}

/** How many workers load their programs at once: start-up is CPU-bound. */
const PARALLEL_START = 4;
const STOP_GRACE_MS = 3000;

interface Given { name: string; netns: string; args: string[]; log: string }

function parse(argv: string[]): { control: string; limits: Worker['resourceLimits']; droplets: Given[] } {
  const first = argv.indexOf('--netns');
  if (first < 0) throw new Error('no droplet given (--netns NS_PATH --log LOG <transitd args>)');
  const { values } = parseArgs({
    args: argv.slice(0, first),
    options: { control: { type: 'string' }, 'young-mb': { type: 'string' }, 'old-mb': { type: 'string' } },
  });
  if (!values.control) throw new Error('--control PATH is required');
  const mb = (raw: string | undefined, name: string) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new Error(`--${name} must be an integer in 1..4096, not '${raw}'`);
    return n;
  };
  const young = mb(values['young-mb'], 'young-mb');
  const old = mb(values['old-mb'], 'old-mb');
  const limits = { ...(young ? { maxYoungGenerationSizeMb: young } : {}), ...(old ? { maxOldGenerationSizeMb: old } : {}) };
  const droplets: Given[] = [];
  let rest = argv.slice(first);
  while (rest.length > 0) {
    const next = rest.indexOf('--netns', 1);
    const group = next < 0 ? rest : rest.slice(0, next);
    rest = next < 0 ? [] : rest.slice(next);
    if (group[2] !== '--log' || !group[1] || !group[3]) throw new Error(`each droplet is --netns NS_PATH --log LOG <transitd args>, not '${group.slice(0, 4).join(' ')}'`);
    const args = group.slice(4);
    const name = args[args.indexOf('--host') + 1];
    if (!args.includes('--host') || !name) throw new Error(`droplet in ${group[1]}: its transitd args have no --host NAME`);
    if (droplets.some((d) => d.name === name)) throw new Error(`droplet '${name}' is given twice`);
    droplets.push({ name, netns: group[1], log: group[3], args });
  }
  return { control: values.control, limits, droplets };
}

async function main(): Promise<void> {
  process.umask(0o077); // sockets, journals and logs are root-only, as transitd's are
  const { control, limits, droplets: given } = parse(process.argv.slice(2));
  const droplets = new Map<string, Droplet>(given.map((d) => [d.name, {
    ...d, state: 'stopped' as WorkerState, log: createWriteStream(d.log, { flags: 'a', mode: 0o600 }),
  }]));
  const live = () => [...droplets.values()].filter((d) => d.state === 'starting' || d.state === 'running').length;
  let exiting = false;
  const exitIfIdle = () => {
    if (exiting || [...droplets.values()].some((d) => d.state !== 'stopped' && d.state !== 'exited')) return;
    exiting = true;
    server.close();
    rmSync(control, { force: true });
    for (const d of droplets.values()) d.log.end();
    setTimeout(() => process.exit(0), 200).unref(); // let the logs flush
  };

  // Start-up queue: at most PARALLEL_START workers loading at once.
  const waiting: Droplet[] = [];
  let loading = 0;
  const pump = () => {
    while (loading < PARALLEL_START && waiting.length > 0) {
      const d = waiting.shift()!;
      if (d.state !== 'starting') continue; // stopped while it waited
      loading++;
      let counted = true;
      const done = () => { if (counted) { counted = false; loading--; pump(); } };
      const worker = new Worker(new URL('./host-worker.js', import.meta.url), {
        workerData: { netns: d.netns, args: d.args } satisfies HostWorkerData, stdout: true, stderr: true, resourceLimits: limits,
      });
      d.worker = worker;
      worker.stdout.pipe(d.log, { end: false });
      worker.stderr.pipe(d.log, { end: false });
      worker.on('message', () => {
        if (d.state === 'starting') d.state = 'running';
        done();
      });
      worker.on('error', (err) => d.log.write(`transitd: ${err instanceof Error ? err.message : String(err)}\n`));
      d.exited = new Promise((resolve) => worker.once('exit', (code) => {
        done();
        if (d.worker === worker) d.worker = undefined;
        if (d.state !== 'stopping') d.log.write(`transitd ${d.name}: worker exited (code ${code})\n`);
        d.state = d.state === 'stopping' ? 'stopped' : 'exited';
        resolve();
        exitIfIdle();
      }));
    }
  };
  const start = (d: Droplet) => {
    if (d.state === 'starting' || d.state === 'running') return;
    d.state = 'starting';
    waiting.push(d);
    pump();
  };
  const stop = async (d: Droplet) => {
    if (d.state === 'stopping') return d.exited;
    if (!d.worker) { d.state = d.state === 'exited' ? 'exited' : 'stopped'; return undefined; }
    d.state = 'stopping';
    const worker = d.worker;
    worker.postMessage('stop');
    const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
    await d.exited;
    clearTimeout(timer);
    return undefined;
  };

  rmSync(control, { force: true });
  const server = createServer((sock) => {
    let text = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', async (chunk: string) => {
      text += chunk;
      if (!text.includes('\n')) return;
      const reply = (r: HostReply) => sock.end(`${JSON.stringify(r)}\n`);
      let req: HostRequest;
      try {
        req = JSON.parse(text) as HostRequest;
      } catch {
        reply({ ok: false, error: 'request: not JSON' });
        return;
      }
      const d = droplets.get(req.name);
      if (!d) { reply({ ok: false, error: `name: this host serves no droplet '${req.name}'` }); return; }
      if (req.op === 'start') start(d);
      else if (req.op === 'stop') await stop(d);
      else if (req.op !== 'status') { reply({ ok: false, error: `op: '${String(req.op)}' is not start, stop or status` }); return; }
      reply({ ok: true, state: d.state, live: live() });
      if (req.op === 'stop') exitIfIdle();
    });
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(control, resolve); });
  chmodSync(control, 0o600);
  console.log(`transitd host: ${droplets.size} droplets (${[...droplets.keys()].join(', ')}), control ${control}`);
  for (const d of droplets.values()) start(d);

  const stopAll = () => {
    setTimeout(() => process.exit(0), STOP_GRACE_MS + 1000).unref();
    void Promise.all([...droplets.values()].map(stop)).then(() => {
      for (const d of droplets.values()) d.state = d.state === 'exited' ? 'exited' : 'stopped';
      exitIfIdle();
    });
  };
  process.on('SIGTERM', stopAll);
  process.on('SIGINT', stopAll);
}

main().catch((err: unknown) => {
  console.error(`transitd host: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
