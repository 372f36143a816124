#!/usr/bin/env node
// A shared transitd host: one Node process serving many emulated hosts
// (netns droplets). Each droplet's transitd (serve.ts) runs on this one
// thread inside netnsContext.run(<its namespace>): whatever acts in a network
// namespace (the addon's attach and link calls, the commands it starts) moves
// the thread into the droplet's namespace for that synchronous call and back
// (src/dataplane/netns-context.ts), and every gRPC call runs in the context
// its server was started in. So Node's own memory (~18 MB anonymous per V8
// isolate: a process or a worker thread each cost that) is paid once.
//
//   host.js --control PATH --netns NS_PATH --log LOG <transitd args> [--netns ...]...
//
// Every group from one --netns to the next is one droplet: its namespace, the
// log its transitd writes to, and transitd's own arguments. A control socket
// (host-control.ts) starts, stops and reports one droplet's transitd;
// SIGTERM/SIGINT stop them all. The host exits once none is left.
// Not here: --listen and --metrics (their sockets would be opened outside the
// droplet's namespace), and the XVPC_TEST_CRASH_AFTER_RECORDS hook kills the
// whole host.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createWriteStream, chmodSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { format } from 'node:util';
import { netnsContext } from '../dataplane/netns-context.js';
import { parseHostArgs } from './host-args.js';
import type { HostReply, HostRequest, TransitdState } from './host-control.js';
import { serveTransitd, type RunningTransitd } from './serve.js';

interface Droplet {
  name: string;
  netns: string;
  args: string[];
  log: WriteStream;
  state: TransitdState;
  running?: RunningTransitd;
  /** settles when start-up has ended, served or failed */
  starting?: Promise<void>;
}

/** How many droplets load their programs at once (verifier time; the JS thread is one). */
const PARALLEL_START = 4;
const STOP_GRACE_MS = 3000;

/** Where console output goes: the log of the droplet whose work is running, else this process's stdout/stderr. */
const logContext = new AsyncLocalStorage<WriteStream>();
function routeConsole(): void {
  const to = (fallback: NodeJS.WriteStream) => (...args: unknown[]) => {
    (logContext.getStore() ?? fallback).write(`${format(...args)}\n`);
  };
  console.log = to(process.stdout);
  console.info = console.log;
  console.warn = to(process.stderr);
  console.error = console.warn;
}

async function main(): Promise<void> {
  process.umask(0o077); // sockets, journals and logs are root-only, as transitd's are
  const { control, droplets: given } = parseHostArgs(process.argv.slice(2));
  routeConsole();
  const droplets = new Map<string, Droplet>(given.map((d) => [d.name, {
    ...d, state: 'stopped' as TransitdState, log: createWriteStream(d.log, { flags: 'a', mode: 0o600 }),
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

  // Start-up queue: at most PARALLEL_START droplets loading at once.
  const waiting: Droplet[] = [];
  let loading = 0;
  const pump = () => {
    while (loading < PARALLEL_START && waiting.length > 0) {
      const d = waiting.shift()!;
      if (d.state !== 'starting') continue; // stopped while it waited
      loading++;
      d.starting = logContext.run(d.log, () => netnsContext.run(d.netns, () => serveTransitd(d.args))).then(
        async (running) => {
          if (!running) throw new Error('--help is no droplet');
          if (d.state === 'starting') { d.running = running; d.state = 'running'; return; }
          await running.stop(); // stopped while it started
        },
      ).catch((err: unknown) => {
        d.log.write(`transitd: ${err instanceof Error ? err.message : String(err)}\n`);
        d.state = 'exited';
      }).finally(() => {
        loading--;
        pump();
        exitIfIdle();
      });
    }
  };
  const start = (d: Droplet) => {
    if (d.state === 'starting' || d.state === 'running' || d.state === 'stopping') return;
    d.state = 'starting';
    waiting.push(d);
    pump();
  };
  const stop = async (d: Droplet) => {
    if (d.state === 'starting') {
      d.state = 'stopping';
      await d.starting; // a start in flight stops itself once it served
    } else if (d.state === 'running') {
      d.state = 'stopping';
      const running = d.running!;
      d.running = undefined;
      await Promise.race([running.stop(), new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
    } else {
      return;
    }
    if (d.state === 'stopping') d.state = 'stopped';
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
    void Promise.all([...droplets.values()].map(stop)).then(exitIfIdle);
  };
  process.on('SIGTERM', stopAll);
  process.on('SIGINT', stopAll);
}

main().catch((err: unknown) => {
  console.error(`transitd host: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
