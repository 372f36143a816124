// IPv4, CIDR and MAC parsing with errors that name the field.
import { invalid } from '../errors.js';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function isIpv4(s: unknown): s is string { return typeof s === 'string' && IPV4.test(s); }

/** "10.0.0.2" -> 0x0a000002 (an unsigned 32-bit number). */
export function parseIpv4(s: unknown, field: string): number {
  if (!isIpv4(s)) throw invalid(`${field}: '${String(s)}' is not an IPv4 address`);
  return s.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr { prefix: number; len: number }

/** "10.0.0.0/16" -> { prefix, len }; host bits must be zero. */
export function parseCidr(s: unknown, field: string): Cidr {
  if (typeof s !== 'string' || !s.includes('/')) throw invalid(`${field}: '${String(s)}' is not a CIDR (a.b.c.d/len)`);
  const [ip, lenText] = s.split('/');
  const prefix = parseIpv4(ip, field);
  const len = Number(lenText);
  if (!/^\d{1,2}$/.test(lenText) || len > 32) throw invalid(`${field}: '${s}' has a bad prefix length`);
  if ((prefix & ~maskOf(len)) >>> 0 !== 0) throw invalid(`${field}: '${s}' has host bits set`);
  return { prefix, len };
}

export function formatCidr(c: Cidr): string { return `${formatIpv4(c.prefix)}/${c.len}`; }

export function maskOf(len: number): number { return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0; }

export function cidrContains(c: Cidr, ip: number): boolean { return ((ip & maskOf(c.len)) >>> 0) === c.prefix; }

/** True when `inner` lies entirely inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.len >= outer.len && cidrContains(outer, inner.prefix);
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean { return cidrWithin(a, b) || cidrWithin(b, a); }

export function parseMac(s: unknown, field: string): Buffer {
  if (typeof s !== 'string' || !MAC.test(s)) throw invalid(`${field}: '${String(s)}' is not a MAC address`);
  return Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(b: Buffer | Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}
