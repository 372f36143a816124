// `xvpc stats`: the data-path counters of a prefix's hosts, by name, one column per
// host; --watch redraws them every interval with what changed.
import { connectTransitd, type TransitdClient } from '../transitd/client.js';
import { STAT_NAMES } from '../abi/index.js';
import { socketPath } from '../droplet/names.js';
import { listRecords } from '../droplet/records.js';
import { type Command, UsageError, assertDroplet, checkHost, checkPrefix, intOpt, parse, printJson } from './args.js';

const OPTIONS = {
  prefix: { type: 'string' }, host: { type: 'string', multiple: true }, socket: { type: 'string' },
  all: { type: 'boolean' }, json: { type: 'boolean' },
  watch: { type: 'boolean', short: 'w' }, interval: { type: 'string' }, count: { type: 'string', short: 'n' },
} as const;

export const statsCommand: Command = {
  summary: 'data-path counters (TC or XDP build) by name, one column per host (--watch: redraw every second with deltas)',
  usage: [
    'xvpc stats --prefix P [--host NAME]... [--all] [--json] [--watch [--interval SECS] [-n COUNT]]',
    '       xvpc stats --socket PATH [...]',
    '',
    'Counters that are 0 everywhere are left out unless --all. With --watch, each refresh shows the',
    'value and, in brackets, its change since the last one; with --json, one JSON object per refresh.',
  ].join('\n'),
  example: 'xvpc stats --prefix demo1\n  xvpc stats --prefix demo1 --host switch --watch --interval 2',
  run: runStats,
};

type Counters = Record<string, number>;

function table(hosts: string[], now: Counters[], before: Counters[] | undefined, all: boolean): string {
  const names = STAT_NAMES.filter((n) => all || now.some((c) => (c[n] ?? 0) !== 0));
  const cell = (i: number, n: string) => {
    const v = now[i][n] ?? 0;
    return before ? `${v} (+${v - (before[i][n] ?? 0)})` : String(v);
  };
  const widths = hosts.map((h, i) => Math.max(h.length, ...names.map((n) => cell(i, n).length)));
  const w0 = Math.max(7, ...names.map((n) => n.length));
  const row = (first: string, cells: string[]) => `${first.padEnd(w0)}  ${cells.map((c, i) => c.padStart(widths[i])).join('  ')}`;
  const lines = [row('counter', hosts), ...names.map((n) => row(n, hosts.map((_, i) => cell(i, n))))];
  if (names.length === 0) lines.push('(every counter is 0)');
  return lines.join('\n');
}

export async function runStats(args: string[]): Promise<number> {
  const { values } = parse(args, OPTIONS);
  const interval = intOpt(values.interval, 'interval', 1, 3600) ?? 1;
  const count = intOpt(values.count, 'count', 1, Number.MAX_SAFE_INTEGER);
  if (!values.watch && (values.interval !== undefined || values.count !== undefined)) throw new UsageError('--interval and -n go with --watch');

  let targets: { name: string; address: string }[];
  if (values.socket !== undefined) {
    if (values.prefix !== undefined || values.host !== undefined) throw new UsageError('give --socket or --prefix/--host, not both');
    targets = [{ name: values.socket, address: `unix://${values.socket}` }];
  } else {
    if (values.prefix === undefined) throw new UsageError('--prefix is required (or --socket)');
    const prefix = checkPrefix(values.prefix);
    let names = (values.host ?? []).map(checkHost);
    if (names.length === 0) {
      names = (await listRecords(prefix)).map((r) => r.name).sort();
      if (names.length === 0) throw new Error(`no droplets in prefix '${prefix}'`);
    }
    for (const n of names) await assertDroplet(prefix, n);
    targets = names.map((name) => ({ name, address: `unix://${socketPath(prefix, name)}` }));
  }

  const clients: TransitdClient[] = targets.map((t) => connectTransitd(t.name, t.address, 5000));
  const read = async (): Promise<Counters[]> => Promise.all(clients.map(async (c) => {
    const r = await c.getStats({});
    return Object.fromEntries(Object.entries(r.counters).map(([k, v]) => [k, Number(v)]));
  }));
  const hosts = targets.map((t) => t.name);
  try {
    if (!values.watch) {
      const now = await read();
      if (values.json) printJson(Object.fromEntries(hosts.map((h, i) => [h, now[i]])));
      else console.log(table(hosts, now, undefined, values.all ?? false));
      return 0;
    }
    let stopped = false;
    let wake: (() => void) | undefined;
    const stop = () => { stopped = true; wake?.(); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      let before: Counters[] | undefined;
      for (let i = 0; !stopped && (count === undefined || i < count); i++) {
        if (i > 0) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, interval * 1000);
            wake = () => { clearTimeout(t); resolve(); };
          });
          if (stopped) break;
        }
        const now = await read();
        if (values.json) {
          console.log(JSON.stringify({ time: new Date().toISOString(), counters: Object.fromEntries(hosts.map((h, j) => [h, now[j]])) }));
        } else {
          if (process.stdout.isTTY) process.stdout.write('\x1b[H\x1b[2J');
          console.log(`${new Date().toTimeString().slice(0, 8)}  every ${interval}s${process.stdout.isTTY ? ' (Ctrl-C to stop)' : ''}`);
          console.log(`${table(hosts, now, before, values.all ?? false)}\n`);
        }
        before = now;
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  } finally {
    for (const c of clients) c.close();
  }
}
