// Crafted packets for the packet-level XDP tests: builders that lay out exact
// bytes (lengths and checksums computed unless a field is overridden to make
// a broken packet) and parsers that read an output buffer back field by field.
// Addresses are written as strings: "10.0.0.1", "02:00:00:00:00:01".

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_TEB = 0x6558; // Geneve protocol: an Ethernet frame follows

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const GENEVE_PORT = 6081;
export const OPT_CLASS_XVPC = 0x0111;
export const OPT_RTS = 0x48;
export const OPT_SCALED = 0x49;
export const OPT_CRITICAL = 0x80;

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export const ETH_LEN = 14;
export const IPV4_LEN = 20;
export const UDP_LEN = 8;
export const GENEVE_LEN = 8;
export const ARP_LEN = 28;
export const ZERO_MAC = '00:00:00:00:00:00';
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

// ---- addresses --------------------------------------------------------------

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) throw new Error(`bad MAC '${mac}'`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function fmtMac(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** "10.0.0.1" -> 0x0a000001 (unsigned). */
export function ipNum(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 '${ip}'`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function ipBytes(ip: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(ipNum(ip));
  return b;
}

export function fmtIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

// ---- checksums ----------------------------------------------------------------

/** RFC 1071: the one's complement of the one's-complement sum of 16-bit words. */
export function inetChecksum(buf: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += (buf[i] << 8) | buf[i + 1];
  if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** True when the IPv4 header at `off` (its IHL counted) sums to zero with its checksum. */
export function ipv4ChecksumOk(buf: Buffer, off = ETH_LEN): boolean {
  const ihl = (buf[off] & 0x0f) * 4;
  return inetChecksum(buf.subarray(off, off + ihl)) === 0;
}

/** Recomputes the IPv4 header checksum at `off` in place (after editing a crafted packet). */
export function fixIpv4Checksum(buf: Buffer, off = ETH_LEN): Buffer {
  const ihl = (buf[off] & 0x0f) * 4;
  buf.writeUInt16BE(0, off + 10);
  buf.writeUInt16BE(inetChecksum(buf.subarray(off, off + ihl)), off + 10);
  return buf;
}

// ---- Ethernet ------------------------------------------------------------------

export interface EthOpts { dst: string; src: string; type: number }

export function eth(o: EthOpts, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(ETH_LEN);
  macBytes(o.dst).copy(h, 0);
  macBytes(o.src).copy(h, 6);
  h.writeUInt16BE(o.type, 12);
  return Buffer.concat([h, payload]);
}

// ---- IPv4 ----------------------------------------------------------------------

export interface Ipv4Opts {
  src: string;
  dst: string;
  proto: number;
  ttl?: number;        // 64
  tos?: number;        // 0
  id?: number;         // 0
  df?: boolean;        // false
  mf?: boolean;        // false
  fragOffset?: number; // in 8-byte units, 0
  /** IP options, a multiple of 4 bytes (IHL grows to match) */
  options?: Buffer;
  // Overrides, to craft broken headers:
  version?: number;
  ihl?: number;
  totLen?: number;
  checksum?: number;
}

export function ipv4(o: Ipv4Opts, payload: Buffer = Buffer.alloc(0)): Buffer {
  const options = o.options ?? Buffer.alloc(0);
  if (options.length % 4 !== 0 || options.length > 40) throw new Error('IPv4 options: a multiple of 4 bytes, at most 40');
  const hlen = IPV4_LEN + options.length;
  const h = Buffer.alloc(hlen);
  h[0] = ((o.version ?? 4) << 4) | ((o.ihl ?? hlen / 4) & 0x0f);
  h[1] = o.tos ?? 0;
  h.writeUInt16BE(o.totLen ?? hlen + payload.length, 2);
  h.writeUInt16BE(o.id ?? 0, 4);
  h.writeUInt16BE((o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff), 6);
  h[8] = o.ttl ?? 64;
  h[9] = o.proto;
  ipBytes(o.src).copy(h, 12);
  ipBytes(o.dst).copy(h, 16);
  options.copy(h, IPV4_LEN);
  h.writeUInt16BE(o.checksum ?? inetChecksum(h), 10);
  return Buffer.concat([h, payload]);
}

// ---- UDP, TCP, ICMP --------------------------------------------------------------

export interface UdpOpts { sport: number; dport: number; len?: number; checksum?: number }

/** UDP header; the checksum is 0 (none) unless given. */
export function udp(o: UdpOpts, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(UDP_LEN);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt16BE(o.len ?? UDP_LEN + payload.length, 4);
  h.writeUInt16BE(o.checksum ?? 0, 6);
  return Buffer.concat([h, payload]);
}

export interface TcpOpts { sport: number; dport: number; seq?: number; ack?: number; flags?: number; window?: number }

/** A minimal TCP header (no options, checksum 0: the data plane never reads it). */
export function tcp(o: TcpOpts, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(o.sport, 0);
  h.writeUInt16BE(o.dport, 2);
  h.writeUInt32BE((o.seq ?? 1) >>> 0, 4);
  h.writeUInt32BE((o.ack ?? 0) >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = o.flags ?? 0x02; // SYN
  h.writeUInt16BE(o.window ?? 65535, 14);
  return Buffer.concat([h, payload]);
}

export interface IcmpEchoOpts { type?: number; code?: number; id?: number; seq?: number }

/** ICMP echo request (type 8) or reply (type 0) with its checksum. */
export function icmpEcho(o: IcmpEchoOpts = {}, payload: Buffer = Buffer.from('xvpc-ping-payload')): Buffer {
  const m = Buffer.concat([Buffer.alloc(8), payload]);
  m[0] = o.type ?? 8;
  m[1] = o.code ?? 0;
  m.writeUInt16BE(o.id ?? 0x1234, 4);
  m.writeUInt16BE(o.seq ?? 1, 6);
  m.writeUInt16BE(inetChecksum(m), 2);
  return m;
}

// ---- ARP ----------------------------------------------------------------------------

export interface ArpOpts {
  op: number; sha: string; spa: string; tha?: string; tpa: string;
  htype?: number; ptype?: number; hlen?: number; plen?: number;
}

/** Ethernet/IPv4 ARP body (28 bytes). */
export function arp(o: ArpOpts): Buffer {
  const b = Buffer.alloc(ARP_LEN);
  b.writeUInt16BE(o.htype ?? 1, 0);
  b.writeUInt16BE(o.ptype ?? ETH_P_IP, 2);
  b[4] = o.hlen ?? 6;
  b[5] = o.plen ?? 4;
  b.writeUInt16BE(o.op, 6);
  macBytes(o.sha).copy(b, 8);
  ipBytes(o.spa).copy(b, 14);
  macBytes(o.tha ?? ZERO_MAC).copy(b, 18);
  ipBytes(o.tpa).copy(b, 24);
  return b;
}

// ---- Geneve (RFC 8926) ------------------------------------------------------------------

export interface GeneveOption {
  cls: number;
  type: number;
  data: Buffer;
  /** Length field (data in 4-byte words); defaults to data.length / 4. */
  lenWords?: number;
}

export function geneveOption(o: GeneveOption): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(o.cls, 0);
  h[2] = o.type;
  h[3] = (o.lenWords ?? Math.ceil(o.data.length / 4)) & 0x1f;
  return Buffer.concat([h, o.data]);
}

/** xvpc's "return to sender" option: the sending host's IPv4 and MAC. */
/** RTS flags (native/bpf/wire.h): sent past the switch; the inner source is not the sender's (scaled reply). */
export const RTS_F_DIRECT = 0x1;
export const RTS_F_NO_LEARN = 0x2;

export function rtsOption(hostIp: string, hostMac: string, flags = 0): GeneveOption {
  return { cls: OPT_CLASS_XVPC, type: OPT_RTS, data: Buffer.concat([ipBytes(hostIp), macBytes(hostMac), Buffer.from([flags, 0])]) };
}

export interface GeneveOpts {
  vni: number;
  protocol?: number;   // 0x6558
  version?: number;    // 0
  oam?: boolean;       // O bit
  critical?: boolean;  // C bit
  /** Options, or their raw bytes. */
  options?: GeneveOption[] | Buffer;
  /** Opt Len field (4-byte words); defaults to the options' length. */
  optLenWords?: number;
  rsvd?: number;
}

export function geneve(o: GeneveOpts, payload: Buffer = Buffer.alloc(0)): Buffer {
  const opts = Buffer.isBuffer(o.options) ? o.options : Buffer.concat((o.options ?? []).map(geneveOption));
  const h = Buffer.alloc(GENEVE_LEN);
  h[0] = (((o.version ?? 0) & 3) << 6) | ((o.optLenWords ?? opts.length / 4) & 0x3f);
  h[1] = (o.oam ? 0x80 : 0) | (o.critical ? 0x40 : 0);
  h.writeUInt16BE(o.protocol ?? ETH_P_TEB, 2);
  h[4] = (o.vni >>> 16) & 0xff;
  h[5] = (o.vni >>> 8) & 0xff;
  h[6] = o.vni & 0xff;
  h[7] = o.rsvd ?? 0;
  return Buffer.concat([h, opts, payload]);
}

export interface OuterOpts {
  srcMac: string; dstMac: string; srcIp: string; dstIp: string;
  ttl?: number; id?: number; tos?: number; df?: boolean;
  sport?: number;          // 50000
  dport?: number;          // 6081
  udpChecksum?: number;    // 0
}

/** A whole underlay frame: Ethernet / IPv4 / UDP / Geneve / inner frame. */
export function geneveFrame(outer: OuterOpts, g: GeneveOpts, inner: Buffer): Buffer {
  return eth({ dst: outer.dstMac, src: outer.srcMac, type: ETH_P_IP },
    ipv4({ src: outer.srcIp, dst: outer.dstIp, proto: IPPROTO_UDP, ttl: outer.ttl, id: outer.id, tos: outer.tos, df: outer.df },
      udp({ sport: outer.sport ?? 50000, dport: outer.dport ?? GENEVE_PORT, checksum: outer.udpChecksum },
        geneve(g, inner))));
}

// ---- parsers --------------------------------------------------------------------------

export interface EthHeader { dst: string; src: string; type: number; next: number }

export function parseEth(buf: Buffer, off = 0): EthHeader {
  need(buf, off + ETH_LEN, 'Ethernet');
  return { dst: fmtMac(buf.subarray(off, off + 6)), src: fmtMac(buf.subarray(off + 6, off + 12)), type: buf.readUInt16BE(off + 12), next: off + ETH_LEN };
}

export interface Ipv4Header {
  version: number; ihl: number; tos: number; totLen: number; id: number;
  df: boolean; mf: boolean; fragOffset: number; ttl: number; proto: number;
  checksum: number; checksumOk: boolean; src: string; dst: string;
  options: Buffer; next: number;
}

export function parseIpv4(buf: Buffer, off = ETH_LEN): Ipv4Header {
  need(buf, off + IPV4_LEN, 'IPv4');
  const ihl = buf[off] & 0x0f;
  need(buf, off + ihl * 4, 'IPv4 options');
  const frag = buf.readUInt16BE(off + 6);
  return {
    version: buf[off] >> 4, ihl, tos: buf[off + 1], totLen: buf.readUInt16BE(off + 2), id: buf.readUInt16BE(off + 4),
    df: (frag & 0x4000) !== 0, mf: (frag & 0x2000) !== 0, fragOffset: frag & 0x1fff,
    ttl: buf[off + 8], proto: buf[off + 9], checksum: buf.readUInt16BE(off + 10), checksumOk: ipv4ChecksumOk(buf, off),
    src: fmtIp(buf.readUInt32BE(off + 12)), dst: fmtIp(buf.readUInt32BE(off + 16)),
    options: Buffer.from(buf.subarray(off + IPV4_LEN, off + ihl * 4)), next: off + ihl * 4,
  };
}

export interface UdpHeader { sport: number; dport: number; len: number; checksum: number; next: number }

export function parseUdp(buf: Buffer, off: number): UdpHeader {
  need(buf, off + UDP_LEN, 'UDP');
  return { sport: buf.readUInt16BE(off), dport: buf.readUInt16BE(off + 2), len: buf.readUInt16BE(off + 4), checksum: buf.readUInt16BE(off + 6), next: off + UDP_LEN };
}

export interface ParsedGeneveOption { cls: number; type: number; critical: boolean; lenWords: number; reserved: number; data: Buffer }
export interface GeneveHeader {
  version: number; optLenWords: number; oam: boolean; critical: boolean; flagsRest: number;
  protocol: number; vni: number; rsvd: number; options: ParsedGeneveOption[]; next: number;
}

export function parseGeneve(buf: Buffer, off: number): GeneveHeader {
  need(buf, off + GENEVE_LEN, 'Geneve');
  const optLenWords = buf[off] & 0x3f;
  const end = off + GENEVE_LEN + optLenWords * 4;
  need(buf, end, 'Geneve options');
  const options: ParsedGeneveOption[] = [];
  for (let p = off + GENEVE_LEN; p < end;) {
    const lenWords = buf[p + 3] & 0x1f;
    if (p + 4 + lenWords * 4 > end) throw new Error('Geneve option runs past opt_len');
    options.push({
      cls: buf.readUInt16BE(p), type: buf[p + 2], critical: (buf[p + 2] & OPT_CRITICAL) !== 0, lenWords,
      reserved: buf[p + 3] >> 5, data: Buffer.from(buf.subarray(p + 4, p + 4 + lenWords * 4)),
    });
    p += 4 + lenWords * 4;
  }
  return {
    version: buf[off] >> 6, optLenWords, oam: (buf[off + 1] & 0x80) !== 0, critical: (buf[off + 1] & 0x40) !== 0,
    flagsRest: buf[off + 1] & 0x3f, protocol: buf.readUInt16BE(off + 2),
    vni: (buf[off + 4] << 16) | (buf[off + 5] << 8) | buf[off + 6], rsvd: buf[off + 7], options, next: end,
  };
}

export interface Rts { hostIp: string; hostMac: string; flags: number; zero: number }

export function parseRts(data: Buffer): Rts {
  need(data, 12, 'RTS option');
  return { hostIp: fmtIp(data.readUInt32BE(0)), hostMac: fmtMac(data.subarray(4, 10)), flags: data[10], zero: data[11] };
}

export interface ArpBody {
  htype: number; ptype: number; hlen: number; plen: number; op: number;
  sha: string; spa: string; tha: string; tpa: string; next: number;
}

export function parseArp(buf: Buffer, off = ETH_LEN): ArpBody {
  need(buf, off + ARP_LEN, 'ARP');
  return {
    htype: buf.readUInt16BE(off), ptype: buf.readUInt16BE(off + 2), hlen: buf[off + 4], plen: buf[off + 5],
    op: buf.readUInt16BE(off + 6), sha: fmtMac(buf.subarray(off + 8, off + 14)), spa: fmtIp(buf.readUInt32BE(off + 14)),
    tha: fmtMac(buf.subarray(off + 18, off + 24)), tpa: fmtIp(buf.readUInt32BE(off + 24)), next: off + ARP_LEN,
  };
}

export interface GeneveFrame { eth: EthHeader; ip: Ipv4Header; udp: UdpHeader; geneve: GeneveHeader; inner: Buffer }

/** Splits an underlay frame into its outer headers and the inner frame (a copy). */
export function parseGeneveFrame(buf: Buffer): GeneveFrame {
  const e = parseEth(buf);
  if (e.type !== ETH_P_IP) throw new Error(`outer ethertype 0x${e.type.toString(16)} is not IPv4`);
  const ip = parseIpv4(buf, e.next);
  if (ip.proto !== IPPROTO_UDP) throw new Error(`outer protocol ${ip.proto} is not UDP`);
  const u = parseUdp(buf, ip.next);
  const g = parseGeneve(buf, u.next);
  return { eth: e, ip, udp: u, geneve: g, inner: Buffer.from(buf.subarray(g.next)) };
}

function need(buf: Uint8Array, end: number, what: string): void {
  if (buf.length < end) throw new Error(`${what} header cut: need ${end} bytes, have ${buf.length}`);
}
