// `xvpc capture`: packets of a running droplet, at the exit of its data-path
// programs (the capture hook of its XDP or TC build, per verdict, filtered in the kernel) or on
// an interface (libpcap); printed one per line, or written as pcapng/pcap to
// a file or to stdout (`-w -`, for tcpdump or Wireshark).
import { createWriteStream, existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { XvpcError } from '../errors.js';
import { type Capture, PcapCapture, XdpCapture, hookPath } from '../capture/session.js';
import { DEFAULT_SNAPLEN, MAX_SNAPLEN, XDP_ACTIONS, type XdpAction } from '../capture/program.js';
import { summarizeFrame } from '../capture/decode.js';
import { type CaptureFormat, createEncoder } from '../capture/pcap.js';
import { BRIDGE, portName } from '../droplet/names.js';
import { type Command, UsageError, checkHost, checkPrefix, intOpt, parse, required } from './args.js';
import { findHost, underlayNetnsPath } from './hosts.js';
import { isIpv4 } from '../util/addr.js';

const OPTIONS = {
  prefix: { type: 'string' }, host: { type: 'string' }, actions: { type: 'string' },
  iface: { type: 'string', short: 'i' }, endpoint: { type: 'string' }, netns: { type: 'string' }, underlay: { type: 'boolean' },
  write: { type: 'string', short: 'w' }, count: { type: 'string', short: 'c' }, snaplen: { type: 'string', short: 's' },
  format: { type: 'string' }, duration: { type: 'string' }, force: { type: 'boolean' },
} as const;

export const captureCommand: Command = {
  summary: 'capture a host\'s packets where its data-path programs (TC or XDP) leave them (per action) or on an interface, as text, pcapng or pcap',
  usage: [
    'xvpc capture --prefix P --host NAME [--actions aborted,drop,pass,tx,redirect] [-w FILE|-] [-c COUNT]',
    '                    [-s SNAPLEN] [--format pcapng|pcap] [--duration SECS] [--force] [EXPRESSION...]',
    '       xvpc capture --prefix P --host NAME [-i IFACE] --endpoint VNI/IP [...] [EXPRESSION...]   (default: the endpoint\'s own device)',
    '       xvpc capture --prefix P --host NAME -i IFACE [--netns NS] [...] [EXPRESSION...]',
    '       xvpc capture --prefix P --underlay [--host NAME | -i IFACE] [...] [EXPRESSION...]',
    '',
    'EXPRESSION is a tcpdump filter, run in the kernel (e.g. \'geneve and icmp\', \'udp port 6081\').',
    'Without -i the packets are taken where the host\'s data-path programs (TC, the droplets\' default, or XDP) leave',
    'them (outer Geneve headers included), with the verdict each left with; -w - writes to stdout for',
    '`tcpdump -r -` or Wireshark.',
  ].join('\n'),
  example: [
    'xvpc capture --prefix demo1 --host switch --actions tx -c 4 geneve and icmp',
    '  xvpc capture --prefix demo1 --host left --actions redirect -w - | tcpdump -nr -',
    '  xvpc capture --prefix demo1 --host left --endpoint 3/10.0.0.2 -w left.pcapng icmp',
    '  xvpc capture --prefix demo1 --underlay udp port 6081',
  ].join('\n'),
  run: runCapture,
};

function parseActions(value: string | undefined): XdpAction[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(',').map((a) => a.trim().toLowerCase().replace(/^xdp_/, '')).filter(Boolean);
  if (list.length === 0) throw new UsageError('--actions needs at least one action');
  for (const a of list) {
    if (!(XDP_ACTIONS as readonly string[]).includes(a)) throw new UsageError(`--actions: '${a}' is not one of ${XDP_ACTIONS.join(', ')}`);
  }
  return list as XdpAction[];
}

function parseEndpoint(value: string): { vni: number; ip: string } {
  const m = /^(\d+)\/(\d+\.\d+\.\d+\.\d+)$/.exec(value);
  if (!m || !isIpv4(m[2])) throw new UsageError(`--endpoint must be VNI/IP (e.g. 3/10.0.0.2), not '${value}'`);
  return { vni: intOpt(m[1], 'endpoint VNI', 1, 0xffffff)!, ip: m[2] };
}

const time = (ns: bigint): string => {
  const d = new Date(Number(ns / 1_000_000n));
  const frac = String(ns % 1_000_000_000n).padStart(9, '0').slice(0, 6);
  return `${d.toTimeString().slice(0, 8)}.${frac}`;
};

export async function runCapture(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, true);
  const prefix = checkPrefix(required(values.prefix, 'prefix'));
  const filter = positionals.join(' ').trim();
  const actions = parseActions(values.actions);
  const count = intOpt(values.count, 'count', 1, Number.MAX_SAFE_INTEGER);
  const duration = intOpt(values.duration, 'duration', 1, 86_400);
  const hook = values.iface === undefined && !values.underlay && values.endpoint === undefined;
  const snaplen = intOpt(values.snaplen, 'snaplen', 64, hook ? MAX_SNAPLEN : 262144);
  const format = (values.format ?? (values.write?.endsWith('.pcap') ? 'pcap' : 'pcapng')) as CaptureFormat;
  if (format !== 'pcapng' && format !== 'pcap') throw new UsageError(`--format must be pcapng or pcap, not '${values.format}'`);
  if (values.format && values.write === undefined) throw new UsageError('--format goes with -w');
  if (values.write === '') throw new UsageError('-w needs a file name, or - for stdout');
  if (!hook && (actions || values.force)) throw new UsageError('--actions and --force are for the data-path hook (leave out -i/--underlay)');
  if (values.endpoint !== undefined && values.netns !== undefined) throw new UsageError('give --endpoint or --netns, not both');
  if (values.netns !== undefined && values.iface === undefined) throw new UsageError('--netns goes with -i IFACE');
  if ((values.endpoint !== undefined || values.netns !== undefined) && values.underlay) {
    throw new UsageError('--endpoint and --netns do not go with --underlay');
  }
  if (!values.underlay && values.host === undefined) throw new UsageError('--host is required (or --underlay)');
  const hostName = values.host !== undefined ? checkHost(values.host) : undefined;
  const endpoint = values.endpoint !== undefined ? parseEndpoint(values.endpoint) : undefined;

  // Everything on the command line is sound; now find the host and attach.
  let capture: Capture;
  let where: string;
  if (values.underlay) {
    const iface = values.iface ?? (hostName ? portName(hostName) : BRIDGE);
    if (hostName) await findHost(prefix, hostName);
    capture = new PcapCapture({ iface, netnsPath: underlayNetnsPath(prefix), filter, snaplen, name: `underlay:${iface}` });
    where = `underlay ${iface}`;
  } else {
    const host = await findHost(prefix, hostName!);
    if (hook) {
      capture = new XdpCapture({
        hookPath: hookPath(host.pinRoot), actions, filter, snaplen: snaplen ?? DEFAULT_SNAPLEN, name: hostName, force: values.force,
      });
      where = `${hostName} ${host.record.mode === 'tc' ? 'TC' : 'XDP'} ${(actions ?? XDP_ACTIONS).join(',')}`;
    } else {
      // An endpoint's own device unless -i names another: veth0 in its namespace, or ep<tag> in a shared one.
      const own = endpoint ? host.endpointLink(endpoint.vni, endpoint.ip) : undefined;
      const ns = own ? own.netns : values.netns;
      const iface = values.iface ?? own!.device;
      const netnsPath = ns ? await host.namespacePath(ns) : await host.netnsPath();
      if (endpoint && !existsSync(netnsPath)) throw new Error(`no endpoint ${endpoint.vni}/${endpoint.ip} on host ${hostName} (no namespace ${ns})`);
      capture = new PcapCapture({ iface, netnsPath, filter, snaplen, name: `${hostName}:${iface}` });
      where = `${hostName} ${iface}${ns ? ` in ${ns}` : ''}`;
    }
  }

  let out: Writable | undefined;
  let outError: Error | undefined;
  const onOutError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') outError = err; // a reader that went away (| head) just ends the capture
    void capture.stop();
  };
  process.stdout.on('error', onOutError);
  if (values.write !== undefined && values.write !== '-') {
    out = createWriteStream(values.write);
    out.on('error', onOutError);
  } else if (values.write === '-') {
    out = process.stdout;
  }
  const encoder = out ? createEncoder(format, capture.interfaces) : undefined;
  if (out && encoder) out.write(encoder.header());

  const stop = () => { void capture.stop(); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const timer = duration ? setTimeout(stop, duration * 1000) : undefined;
  console.error(`xvpc capture: listening on ${where}${filter ? ` (filter '${filter}')` : ''}${values.write !== undefined ? `, writing ${values.write === '-' ? 'stdout' : values.write} (${format})` : ''}`);

  let n = 0;
  try {
    for await (const p of capture) {
      n++;
      if (out && encoder) {
        const reason = p.dropReason ? ` reason=${p.dropReason}` : '';
        const comment = p.action ? `action=${p.action.toUpperCase()}${reason} ifindex=${p.ifindex}` : undefined;
        out.write(encoder.packet({ interfaceId: p.interfaceId, timestampNs: p.timestampNs, length: p.length, data: p.data, comment }));
      } else {
        // A drop names its reason (the drop counter it was counted in, without drop_).
        const reason = p.dropReason ? ` [${p.dropReason}]` : '';
        console.log(`${time(p.timestampNs)}${p.action ? ` ${p.action.toUpperCase().padEnd(8)}` : ''}${reason} ${summarizeFrame(p)} (${p.length} bytes)`);
      }
      if (count !== undefined && n >= count) break;
    }
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await capture.stop();
    if (out && out !== process.stdout) await new Promise<void>((resolve) => out!.end(resolve));
  }
  console.error(`xvpc capture: ${n} packet${n === 1 ? '' : 's'} captured${capture.stats.dropped ? `, ${capture.stats.dropped} dropped (not read in time)` : ''}`);
  if (outError) throw outError;
  if (capture.error) throw new XvpcError('UNAVAILABLE', capture.error.message);
  return 0;
}
