// Frames for BPF_PROG_TEST_RUN: Ethernet, IPv4 (checksummed), UDP, and the
// Geneve encapsulation xvpc puts on the wire (see native/bpf/README.md).
import { parseIpv4, parseMac } from '../dist/util/addr.js';

const ETH_P_IP = 0x0800;
const ETH_P_TEB = 0x6558;
export const GENEVE_PORT = 6081;
const OPT_CLASS = 0x0111;
const OPT_RTS = 0x48;

export function ethernet(dst: string, src: string, type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(14);
  parseMac(dst, 'dst').copy(h, 0);
  parseMac(src, 'src').copy(h, 6);
  h.writeUInt16BE(type, 12);
  return Buffer.concat([h, payload]);
}

function ipChecksum(h: Buffer): number {
  let sum = 0;
  for (let i = 0; i < h.length; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, ttl = 64): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt8(0x45, 0);
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt8(ttl, 8);
  h.writeUInt8(proto, 9);
  h.writeUInt32BE(parseIpv4(src, 'src'), 12);
  h.writeUInt32BE(parseIpv4(dst, 'dst'), 16);
  h.writeUInt16BE(ipChecksum(h), 10);
  return Buffer.concat([h, payload]);
}

/** UDP with checksum 0 (as the overlay's outer header; fine for a test run of the inner one too). */
export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export interface Host { ip: string; mac: string }

/** An inner Ethernet/IPv4/UDP frame of exactly `frameBytes` bytes (no FCS). */
export function innerUdpFrame(src: Host, dst: Host, frameBytes = 64): Buffer {
  const payload = Buffer.alloc(Math.max(0, frameBytes - 14 - 20 - 8), 0x5a);
  return ethernet(dst.mac, src.mac, ETH_P_IP, ipv4(src.ip, dst.ip, 17, udp(40000, 7000, payload)));
}

/** `inner` in Geneve (VNI, one RTS option naming `from`) from host `from` to host `to`. */
export function geneve(from: Host, to: Host, vni: number, inner: Buffer, ttl = 64): Buffer {
  const g = Buffer.alloc(8 + 16);
  g.writeUInt8(16 / 4, 0); // version 0, option length in words
  g.writeUInt16BE(ETH_P_TEB, 2);
  g.writeUIntBE(vni, 4, 3);
  g.writeUInt16BE(OPT_CLASS, 8);
  g.writeUInt8(OPT_RTS, 10);
  g.writeUInt8(12 / 4, 11);
  g.writeUInt32BE(parseIpv4(from.ip, 'from.ip'), 12);
  parseMac(from.mac, 'from.mac').copy(g, 16);
  return ethernet(to.mac, from.mac, ETH_P_IP, ipv4(from.ip, to.ip, 17, udp(49152 + 77, GENEVE_PORT, Buffer.concat([g, inner])), ttl));
}

/** Outer IPv4 destination of an Ethernet/IPv4 frame. */
export const outerDst = (frame: Buffer): string => [...frame.subarray(30, 34)].join('.');
