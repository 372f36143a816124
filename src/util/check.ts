// Checks of single request fields, shared by transitd's validation and the
// controller's input checks: each returns the canonical value or throws
// INVALID_ARGUMENT naming the field.
import { invalid } from '../errors.js';
import { MAX_VNI } from '../abi/limits.js';
import { NOT_UNICAST_TEXT, formatCidr, formatIpv4, isUnicastIpv4, parseCidr, parseIpv4, parseMac } from './addr.js';

/** A value as an error message shows it: a string quoted, so '1' (text) does not read as the number 1. */
export const shown = (v: unknown): string => (typeof v === 'string' ? `'${v}'` : String(v));

export function vni(v: unknown, field = 'vni'): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_VNI)
    throw invalid(`${field}: ${shown(v)} is not a VNI (1..${MAX_VNI})`);
  return v;
}

export function u32(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw invalid(`${field}: ${shown(v)} is not a uint32`);
  return v;
}

export function ipv4(v: unknown, field: string): string { return formatIpv4(parseIpv4(v, field)); }

/** An IPv4 address one machine can have (isUnicastIpv4): endpoints, hosts, switches, routers. */
export function unicastIpv4(v: unknown, field: string): string {
  const n = parseIpv4(v, field);
  if (!isUnicastIpv4(n)) throw invalid(`${field}: ${formatIpv4(n)} is not a unicast address (${NOT_UNICAST_TEXT})`);
  return formatIpv4(n);
}

/** A canonical CIDR string (host bits must be clear). */
export function cidr(v: unknown, field = 'cidr'): string { return formatCidr(parseCidr(v, field)); }

export function mac(v: unknown, field: string): string {
  const b = parseMac(v, field);
  if (b[0] & 1) throw invalid(`${field}: '${String(v)}' is a multicast MAC`);
  return String(v).toLowerCase();
}

/**
 * A call's arguments: an object, holding only the keys `known` lists when
 * given (knownKeys). INVALID_ARGUMENT names the method otherwise.
 */
export function args(v: unknown, method: string, known?: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw invalid(`${method}: expected an object of arguments`);
  if (known) knownKeys(v as Record<string, unknown>, known, method);
  return v as Record<string, unknown>;
}

/** An interface name as the kernel takes it (IFNAMSIZ: at most 15 characters). */
export function interfaceName(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^[\w.-]{1,15}$/.test(v)) throw invalid(`${field}: '${String(v)}' is not an interface name`);
  return v;
}

/**
 * INVALID_ARGUMENT for a key `obj` has that `known` does not list: a misspelt
 * option (`securityGroup`, `port`) must not be dropped in silence, leaving a
 * group wider or an endpoint more open than its caller wrote.
 */
export function knownKeys(obj: Record<string, unknown>, known: readonly string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) throw invalid(`${where}: unknown argument '${k}' (it takes ${known.join(', ')})`);
  }
}
