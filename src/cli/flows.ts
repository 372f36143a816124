// `xvpc flows`: flow events of a prefix's hosts, decoded from their capture
// hooks (src/capture), as text or JSON lines, like `hubble observe`.
import { XvpcError } from '../errors.js';
import { XdpCapture, hookPath } from '../capture/session.js';
import { XDP_ACTIONS, type XdpAction } from '../capture/program.js';
import { flowEvent, formatFlow } from '../capture/flow.js';
import { listRecords } from '../droplet/records.js';
import { type Command, UsageError, checkHost, checkPrefix, intOpt, parse, required } from './args.js';
import { findHost } from './hosts.js';

const OPTIONS = {
  prefix: { type: 'string' }, host: { type: 'string', multiple: true }, json: { type: 'boolean' },
  verdict: { type: 'string' }, count: { type: 'string', short: 'c' }, duration: { type: 'string' }, force: { type: 'boolean' },
} as const;

export const flowsCommand: Command = {
  summary: 'watch decoded flow events (endpoints, protocol, ports, verdict, drop reason) on a prefix\'s hosts',
  usage: [
    'xvpc flows --prefix P [--host NAME]... [--verdict drop,pass,tx,redirect,aborted] [--json] [-c COUNT]',
    '           [--duration SECS] [--force] [EXPRESSION...]',
    '',
    'One event per packet leaving a host\'s data path: time, host, verdict (and a drop\'s reason), VNI,',
    'inner endpoints and ports, protocol (the underlay hosts of encapsulated packets too). EXPRESSION is a tcpdump filter',
    'on the packet as it leaves (outer headers included, e.g. \'geneve and icmp\'). --json: one JSON',
    'object per line. Without --host every droplet of the prefix is watched.',
  ].join('\n'),
  example: 'xvpc flows --prefix demo1 --host switch\n  xvpc flows --prefix demo1 --verdict drop --json',
  run: runFlows,
};

export async function runFlows(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  const prefix = checkPrefix(required(values.prefix, 'prefix'));
  const filter = positionals.join(' ').trim();
  const count = intOpt(values.count, 'count', 1, Number.MAX_SAFE_INTEGER);
  const duration = intOpt(values.duration, 'duration', 1, 86_400);
  let actions: XdpAction[] | undefined;
  if (values.verdict !== undefined) {
    actions = values.verdict.split(',').map((a) => a.trim().toLowerCase()).filter(Boolean) as XdpAction[];
    const bad = actions.find((a) => !XDP_ACTIONS.includes(a));
    if (bad !== undefined || actions.length === 0) throw new UsageError(`--verdict: '${bad ?? ''}' is not one of ${XDP_ACTIONS.join(', ')}`);
  }
  let names = (values.host ?? []).map(checkHost);
  if (names.length === 0) names = (await listRecords(prefix)).map((r) => r.name).sort();
  if (names.length === 0) throw new Error(`no droplets in prefix '${prefix}'`);

  const captures: { name: string; capture: XdpCapture }[] = [];
  try {
    for (const name of names) {
      const host = await findHost(prefix, name);
      captures.push({ name, capture: new XdpCapture({ hookPath: hookPath(host.pinRoot), actions, filter, snaplen: 256, name, force: values.force }) });
    }
  } catch (err) {
    for (const c of captures) await c.capture.stop();
    throw err;
  }
  const stopAll = () => { for (const c of captures) void c.capture.stop(); };
  process.once('SIGINT', stopAll);
  process.once('SIGTERM', stopAll);
  process.stdout.on('error', stopAll); // a reader that went away (| head)
  const timer = duration ? setTimeout(stopAll, duration * 1000) : undefined;
  console.error(`xvpc flows: watching ${names.join(', ')}${filter ? ` (filter '${filter}')` : ''}`);

  let n = 0;
  try {
    await Promise.all(captures.map(async ({ name, capture }) => {
      for await (const p of capture) {
        if (count !== undefined && n >= count) break;
        n++;
        const e = flowEvent(p, name);
        console.log(values.json ? JSON.stringify(e) : formatFlow(e));
        if (count !== undefined && n >= count) { stopAll(); break; }
      }
    }));
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stopAll);
    process.off('SIGTERM', stopAll);
    for (const c of captures) await c.capture.stop();
  }
  const failed = captures.find((c) => c.capture.error);
  if (failed) throw new XvpcError('UNAVAILABLE', `${failed.name}: ${failed.capture.error!.message}`);
  return 0;
}
