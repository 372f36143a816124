// Decoding captured frames: Ethernet, ARP, IPv4, ICMP, TCP, UDP and, for UDP
// to port 6081, Geneve with its options and the inner frame it carries.
// Decoding never throws: a header that is cut short is simply left out.
import { formatIpv4, formatMac } from '../util/addr.js';

export const GENEVE_PORT = 6081;
const GENEVE_OPT_CLASS = 0x0111;
const OPT_RTS = 0x48;

export interface EthHeader { src: string; dst: string; type: number }
export interface ArpHeader { op: number; senderMac: string; senderIp: string; targetMac: string; targetIp: string }
export interface Ipv4Header {
  src: string; dst: string; protocol: number; ttl: number; id: number; length: number; headerLength: number;
  /** more-fragments flag and fragment offset (in bytes) */
  moreFragments: boolean; fragmentOffset: number; checksum: number;
}
export interface IcmpHeader { type: number; code: number; id?: number; seq?: number }
export interface TcpHeader { srcPort: number; dstPort: number; seq: number; ack: number; flags: string; window: number }
export interface UdpHeader { srcPort: number; dstPort: number; length: number; checksum: number }
export interface GeneveOption { class: number; type: number; data: Buffer }
export interface GeneveHeader {
  version: number; oam: boolean; critical: boolean; protocol: number; vni: number; options: GeneveOption[];
  /** xvpc's "return to sender" option: the host that sent it (feeds the direct path) */
  rts?: { hostIp: string; hostMac: string };
}

/** The headers of one frame; `inner` is the frame a Geneve packet carries. */
export interface Frame {
  eth?: EthHeader;
  arp?: ArpHeader;
  ipv4?: Ipv4Header;
  icmp?: IcmpHeader;
  tcp?: TcpHeader;
  udp?: UdpHeader;
  geneve?: GeneveHeader;
  inner?: Frame;
}

const TCP_FLAGS = ['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'];

export function decodeFrame(data: Buffer, depth = 0): Frame {
  const f: Frame = {};
  if (data.length < 14) return f;
  f.eth = { dst: formatMac(data.subarray(0, 6)), src: formatMac(data.subarray(6, 12)), type: data.readUInt16BE(12) };
  const l3 = data.subarray(14);
  if (f.eth.type === 0x0806 && l3.length >= 28) {
    f.arp = {
      op: l3.readUInt16BE(6),
      senderMac: formatMac(l3.subarray(8, 14)), senderIp: formatIpv4(l3.readUInt32BE(14)),
      targetMac: formatMac(l3.subarray(18, 24)), targetIp: formatIpv4(l3.readUInt32BE(24)),
    };
    return f;
  }
  if (f.eth.type !== 0x0800 || l3.length < 20 || l3[0] >> 4 !== 4) return f;
  const ihl = (l3[0] & 0x0f) * 4;
  const frag = l3.readUInt16BE(6);
  f.ipv4 = {
    src: formatIpv4(l3.readUInt32BE(12)), dst: formatIpv4(l3.readUInt32BE(16)), protocol: l3[9], ttl: l3[8],
    id: l3.readUInt16BE(4), length: l3.readUInt16BE(2), headerLength: ihl,
    moreFragments: (frag & 0x2000) !== 0, fragmentOffset: (frag & 0x1fff) * 8, checksum: l3.readUInt16BE(10),
  };
  if (ihl < 20 || f.ipv4.fragmentOffset !== 0) return f;
  const l4 = l3.subarray(ihl);
  switch (f.ipv4.protocol) {
    case 1:
      if (l4.length >= 4) {
        f.icmp = { type: l4[0], code: l4[1] };
        if ((l4[0] === 0 || l4[0] === 8) && l4.length >= 8) { f.icmp.id = l4.readUInt16BE(4); f.icmp.seq = l4.readUInt16BE(6); }
      }
      break;
    case 6:
      if (l4.length >= 20) {
        const bits = l4[13];
        f.tcp = {
          srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), seq: l4.readUInt32BE(4), ack: l4.readUInt32BE(8),
          flags: TCP_FLAGS.filter((_, i) => bits & (1 << i)).join(''), window: l4.readUInt16BE(14),
        };
      }
      break;
    case 17:
      if (l4.length >= 8) {
        f.udp = { srcPort: l4.readUInt16BE(0), dstPort: l4.readUInt16BE(2), length: l4.readUInt16BE(4), checksum: l4.readUInt16BE(6) };
        if (f.udp.dstPort === GENEVE_PORT && depth === 0) decodeGeneve(l4.subarray(8), f);
      }
      break;
    default:
  }
  return f;
}

function decodeGeneve(g: Buffer, f: Frame): void {
  if (g.length < 8) return;
  const optBytes = (g[0] & 0x3f) * 4;
  const h: GeneveHeader = {
    version: g[0] >> 6, oam: (g[1] & 0x80) !== 0, critical: (g[1] & 0x40) !== 0, protocol: g.readUInt16BE(2),
    vni: (g[4] << 16) | (g[5] << 8) | g[6], options: [],
  };
  f.geneve = h;
  if (g.length < 8 + optBytes) return;
  for (let off = 8; off + 4 <= 8 + optBytes;) {
    const len = 4 + (g[off + 3] & 0x1f) * 4;
    if (off + len > 8 + optBytes) break;
    const opt = { class: g.readUInt16BE(off), type: g[off + 2], data: Buffer.from(g.subarray(off + 4, off + len)) };
    h.options.push(opt);
    if (opt.class === GENEVE_OPT_CLASS && opt.type === OPT_RTS && opt.data.length >= 10) {
      h.rts = { hostIp: formatIpv4(opt.data.readUInt32BE(0)), hostMac: formatMac(opt.data.subarray(4, 10)) };
    }
    off += len;
  }
  if (h.protocol === 0x6558) f.inner = decodeFrame(g.subarray(8 + optBytes), 1);
}

const PROTO: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

/** One line per frame, tcpdump-like, for the CLI's text output. */
export function summarizeFrame(f: Frame): string {
  const parts: string[] = [];
  const one = (x: Frame): string => {
    if (x.arp) {
      return x.arp.op === 1 ? `ARP who-has ${x.arp.targetIp} tell ${x.arp.senderIp}` : `ARP ${x.arp.senderIp} is-at ${x.arp.senderMac}`;
    }
    if (!x.ipv4) return x.eth ? `${x.eth.src} > ${x.eth.dst} ethertype 0x${x.eth.type.toString(16).padStart(4, '0')}` : 'truncated';
    const { src, dst } = x.ipv4;
    if (x.icmp) {
      const kind = x.icmp.type === 8 ? 'echo request' : x.icmp.type === 0 ? 'echo reply' : `type ${x.icmp.type} code ${x.icmp.code}`;
      return `${src} > ${dst}: ICMP ${kind}${x.icmp.id !== undefined ? ` id ${x.icmp.id} seq ${x.icmp.seq}` : ''}`;
    }
    if (x.tcp) return `${src}.${x.tcp.srcPort} > ${dst}.${x.tcp.dstPort}: TCP [${x.tcp.flags || '.'}] seq ${x.tcp.seq}`;
    if (x.udp) return `${src}.${x.udp.srcPort} > ${dst}.${x.udp.dstPort}: UDP${x.geneve ? ` Geneve vni ${x.geneve.vni}` : ''}`;
    return `${src} > ${dst}: ${PROTO[x.ipv4.protocol] ?? `proto ${x.ipv4.protocol}`}`;
  };
  parts.push(one(f));
  if (f.inner) parts.push(one(f.inner));
  return parts.join(' | ');
}
