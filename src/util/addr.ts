// IPv4, CIDR and MAC parsing with errors that name the field.
import { isIP } from 'node:net';
import { invalid } from '../errors.js';

// Accepted text (test/unit/addr.test.ts checks the scanners against these regexps):
//   IPv4: /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
//   MAC:  /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i

export function isIpv4(s: unknown): s is string { return typeof s === 'string' && scanIpv4(s) >= 0; }

/**
 * "10.0.0.2" -> 0x0a000002 (an unsigned 32-bit number); exactly the strings
 * the IPv4 pattern above matches. A scan of char codes with no allocation: packing a million
 * endpoint records parses three million addresses.
 */
export function parseIpv4(s: unknown, field: string): number {
  const n = typeof s === 'string' ? scanIpv4(s) : -1;
  if (n < 0) throw invalid(`${field}: '${String(s)}' is not an IPv4 address`);
  return n;
}

/**
 * The address blocks no machine's address comes from: 0.0.0.0/8 ("this
 * network"), loopback, multicast (224/4) and the reserved 240/4 with the
 * limited broadcast. A VPC may not overlap them.
 */
export const NOT_UNICAST_BLOCKS = ['0.0.0.0/8', '127.0.0.0/8', '224.0.0.0/3'] as const;

/** What isUnicastIpv4 refuses, as error messages say it. */
export const NOT_UNICAST_TEXT = '0.0.0.0/8, loopback, multicast and 240/4 with the broadcast are not';

/**
 * Why a range of addresses cannot be a VPC's: the block of NOT_UNICAST_BLOCKS
 * it overlaps, said as errors say it; undefined when it overlaps none.
 */
export function notUnicastOverlap(c: Cidr): string | undefined {
  const block = NOT_UNICAST_BLOCKS.find((b) => cidrOverlaps(c, parseCidr(b, 'block')));
  return block && `${formatCidr(c)} overlaps ${block}, where no endpoint's address can come from`;
}

/** Whether IPv4 n (host order) can be one machine's address: outside NOT_UNICAST_BLOCKS (the same fact by its first octet, for per-record checks). */
export function isUnicastIpv4(n: number): boolean {
  const top = n >>> 24;
  return top !== 0 && top !== 127 && top < 224;
}

/** Four decimal octets 0..255 without leading zeros, dot-separated; -1 when not. */
function scanIpv4(s: string): number {
  const len = s.length;
  if (len < 7 || len > 15) return -1;
  let acc = 0;
  let i = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 46 /* . */) return -1;
      i++;
    }
    const start = i;
    let octet = 0;
    while (i < len && i - start < 3) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      octet = octet * 10 + d;
      i++;
    }
    const digits = i - start;
    if (digits === 0 || octet > 255 || (digits > 1 && s.charCodeAt(start) === 48 /* leading 0 */)) return -1;
    acc = acc * 256 + octet;
  }
  return i === len ? acc : -1;
}

export function formatIpv4(n: number): string {
  // A template, not an array join: a Dump formats a million of these.
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export interface Cidr { prefix: number; len: number }

/** "10.0.0.0/16" -> { prefix, len }; host bits must be zero. */
export function parseCidr(s: unknown, field: string): Cidr {
  const parts = typeof s === 'string' ? s.split('/') : [];
  if (parts.length !== 2) throw invalid(`${field}: '${String(s)}' is not a CIDR (a.b.c.d/len)`);
  const [ip, lenText] = parts;
  const prefix = parseIpv4(ip, field);
  const len = Number(lenText);
  // No leading zeros, as in the address part: '/08' is refused like '010.0.0.0'.
  if (!/^(0|[1-9]\d?)$/.test(lenText) || len > 32) throw invalid(`${field}: '${s}' has a bad prefix length (0..32, no leading zeros)`);
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
  const b = Buffer.alloc(6);
  writeMac(b, 0, s, field);
  return b;
}

/** Parses MAC text straight into b[off..off+6) (no Buffer per address); exactly the strings the MAC pattern matches. */
export function writeMac(b: Buffer, off: number, s: unknown, field: string): void {
  if (typeof s !== 'string' || s.length !== 17) throw invalid(`${field}: '${String(s)}' is not a MAC address`);
  for (let k = 0; k < 6; k++) {
    const hi = hexDigit(s.charCodeAt(3 * k));
    const lo = hexDigit(s.charCodeAt(3 * k + 1));
    if (hi < 0 || lo < 0 || (k < 5 && s.charCodeAt(3 * k + 2) !== 58 /* : */)) throw invalid(`${field}: '${s}' is not a MAC address`);
    b[off + k] = hi * 16 + lo;
  }
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20; // ASCII lower case
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

const HEX2 = Array.from({ length: 256 }, (_, x) => x.toString(16).padStart(2, '0'));

/** The 6 bytes at `off` of `b` as aa:bb:cc:dd:ee:ff (no subarray: a Buffer view costs more than the formatting). */
export function formatMac(b: Buffer | Uint8Array, off = 0): string {
  return `${HEX2[b[off]]}:${HEX2[b[off + 1]]}:${HEX2[b[off + 2]]}:${HEX2[b[off + 3]]}:${HEX2[b[off + 4]]}:${HEX2[b[off + 5]]}`;
}

/**
 * An address to listen on, 'A.B.C.D:PORT' or '[IPv6]:PORT' (port 0: any free
 * one): checked before anything is opened, so a typo fails at once rather
 * than after the data path is up. No host names: a daemon binds where it is
 * told, not where a resolver points. INVALID_ARGUMENT names the flag.
 */
export function checkBindAddress(raw: string, flag: string): string {
  const bad = () => invalid(`${flag}: '${raw}' is not ADDR:PORT (an IPv4 address or [IPv6], e.g. 172.30.0.2:7443)`);
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9a-fA-F:.]+)\]):(\d{1,5})$/.exec(raw);
  if (!m || Number(m[3]) > 65535) throw bad();
  if (m[1] !== undefined && scanIpv4(m[1]) < 0) throw bad();
  if (m[2] !== undefined && isIP(m[2]) !== 6) throw bad();
  return raw;
}
