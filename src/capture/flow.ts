// A captured packet as a flow event, like `hubble observe` prints: the
// endpoints' addresses and ports (the inner frame of a Geneve packet, else the
// frame itself), protocol, VNI, the verdict the host's data path gave it and
// for drops its reason, and the underlay hosts when it is encapsulated.
import type { CapturedPacket } from './session.js';
import type { Frame } from './decode.js';

export interface FlowEvent {
  /** ISO time with microseconds */
  time: string;
  host: string;
  verdict: string;
  /** why it was dropped (a drop counter's name without drop_, e.g. 'spoofed'); null for other verdicts */
  dropReason: string | null;
  vni: number | null;
  protocol: string;
  src: string;
  dst: string;
  srcPort: number | null;
  dstPort: number | null;
  /** TCP flags, ICMP type/code, ARP operation */
  info: string;
  /** the underlay hosts of an encapsulated packet */
  underlay: { src: string; dst: string } | null;
  length: number;
}

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

function isoMicros(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const micros = String((ns / 1000n) % 1_000_000n).padStart(6, '0');
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${micros}Z`);
}

export function flowEvent(p: CapturedPacket, host: string): FlowEvent {
  const inner: Frame = p.inner ?? p;
  const base = {
    time: isoMicros(p.timestampNs), host, verdict: p.action ?? 'unknown', dropReason: p.dropReason ?? null, length: p.length,
    vni: p.geneve?.vni ?? null,
    underlay: p.inner && p.ipv4 ? { src: p.ipv4.src, dst: p.ipv4.dst } : null,
  };
  if (inner.arp) {
    return {
      ...base, protocol: 'arp', src: inner.arp.senderIp, dst: inner.arp.targetIp, srcPort: null, dstPort: null,
      info: inner.arp.op === 1 ? 'who-has' : inner.arp.op === 2 ? 'is-at' : `op ${inner.arp.op}`,
    };
  }
  if (!inner.ipv4) {
    return {
      ...base, protocol: inner.eth ? `ethertype 0x${inner.eth.type.toString(16).padStart(4, '0')}` : 'truncated',
      src: inner.eth?.src ?? '', dst: inner.eth?.dst ?? '', srcPort: null, dstPort: null, info: '',
    };
  }
  const l4 = inner.tcp ?? inner.udp;
  const info = inner.tcp ? `[${inner.tcp.flags || '.'}]`
    : inner.icmp ? (inner.icmp.type === 8 ? 'echo-request' : inner.icmp.type === 0 ? 'echo-reply' : `type ${inner.icmp.type} code ${inner.icmp.code}`)
      : '';
  return {
    ...base, protocol: PROTO[inner.ipv4.protocol] ?? `proto ${inner.ipv4.protocol}`,
    src: inner.ipv4.src, dst: inner.ipv4.dst, srcPort: l4?.srcPort ?? null, dstPort: l4?.dstPort ?? null, info,
  };
}

/** One line of text: time, host, verdict, vni, endpoints, protocol and what else is known. */
export function formatFlow(e: FlowEvent): string {
  const ep = (ip: string, port: number | null) => (port === null ? ip : `${ip}:${port}`);
  return [
    e.time.slice(11, 26), e.host.padEnd(8), e.verdict.toUpperCase().padEnd(8),
    e.vni === null ? 'vni -' : `vni ${e.vni}`,
    `${ep(e.src, e.srcPort)} -> ${ep(e.dst, e.dstPort)}`, e.protocol, e.info,
    e.dropReason ? `reason ${e.dropReason}` : '',
    e.underlay ? `(underlay ${e.underlay.src} -> ${e.underlay.dst})` : '',
  ].filter(Boolean).join(' ');
}
