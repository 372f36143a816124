// Security-group records of native/bpf/xvpc.h: the rule as users write it
// (checked here, once), a group's definition (sg_groups), an endpoint's
// groups (sg_attach), the conntrack configuration (sg_cfg) and entries.
import { invalid } from '../errors.js';
import { formatCidr, formatIpv4, maskOf, parseCidr } from '../util/addr.js';
import { knownKeys } from '../util/check.js';
import { SgDir, SgProto } from './enums.js';
import {
  CT_KEY, CT_VALUE, ENDPOINT_KEY as EK, SG_ATTACH_VALUE as SA, SG_CFG_VALUE as SC, SG_GROUP_VALUE as SGV, SG_RULE as SR,
} from './layout.js';
import { SG_MAX_DEPTH, SG_MAX_GROUPS, SG_MAX_RULES, SG_NAME_LEN } from './limits.js';

/** A rule as the API takes it: allows protocol from/to cidr (default 0.0.0.0/0) on ports ('80', '8000-8080'; tcp/udp only; default all). */
export interface SecurityRule { protocol: 'tcp' | 'udp' | 'icmp' | 'any'; cidr?: string; ports?: string }

/** The prefix of a rule that names none: every address. */
export const SG_ANY_CIDR = '0.0.0.0/0';

/** A rule with its defaults written out (cidr SG_ANY_CIDR; ports '' for all), as transitd's messages carry it. */
export const sgRuleFilled = (r: SecurityRule): Required<SecurityRule> => ({ protocol: r.protocol, cidr: r.cidr ?? SG_ANY_CIDR, ports: r.ports ?? '' });

/** A security group on a host: its id (the controller's), VPC, name and rules. */
export interface SecurityGroupRecord { id: number; vni: number; name: string; ingress: SecurityRule[]; egress: SecurityRule[] }
export interface SecurityGroupKey { id: number }
/** The groups (ids) attached to endpoint (vni, ip). */
export interface SecurityAttachRecord { vni: number; ip: string; groups: number[] }

/** A rule in the kernel's terms. */
export interface SgRule { ip: number; len: number; proto: SgProto; lo: number; hi: number }

const PROTOS: Record<string, SgProto> = { tcp: SgProto.TCP, udp: SgProto.UDP, icmp: SgProto.ICMP, any: SgProto.ANY };
const PROTO_NAMES = new Map<SgProto, SecurityRule['protocol']>(Object.entries(PROTOS).map(([n, p]) => [p, n as SecurityRule['protocol']]));
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function sgName(v: unknown, field = 'name'): string {
  if (typeof v !== 'string' || !NAME.test(v) || Buffer.byteLength(v) >= SG_NAME_LEN)
    throw invalid(`${field}: '${String(v)}' is not a group name (letters, digits, '_', '.', '-', at most ${SG_NAME_LEN - 1})`);
  return v;
}

function port(text: string, field: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw invalid(`${field}: port '${text}' is out of range (1..65535)`);
  return n;
}

const RULE_KEYS = ['protocol', 'cidr', 'ports'] as const;

/** A rule checked and made canonical (cidr always present); INVALID_ARGUMENT names the field. */
export function sgRule(r: unknown, field: string): SecurityRule {
  if (typeof r !== 'object' || r === null) throw invalid(`${field}: must be a rule { protocol, cidr?, ports? }`);
  knownKeys(r as Record<string, unknown>, RULE_KEYS, field);
  const { protocol, cidr, ports } = r as Record<string, unknown>;
  if (typeof protocol !== 'string' || !Object.hasOwn(PROTOS, protocol))
    throw invalid(`${field}.protocol: unknown protocol '${String(protocol)}' (tcp, udp, icmp or any)`);
  // Left out means every address or port; an empty string is refused, not read as "all".
  const c = formatCidr(parseCidr(cidr === undefined ? SG_ANY_CIDR : cidr, `${field}.cidr`));
  const out: SecurityRule = { protocol: protocol as SecurityRule['protocol'], cidr: c };
  if (ports !== undefined) {
    if (protocol !== 'tcp' && protocol !== 'udp') throw invalid(`${field}.ports: only tcp and udp rules have ports, not ${protocol}`);
    if (typeof ports !== 'string' || !/^\d+(-\d+)?$/.test(ports)) throw invalid(`${field}.ports: '${String(ports)}' is not a port or range ('80', '8000-8080')`);
    const [a, b = a] = ports.split('-');
    const lo = port(a, `${field}.ports`);
    const hi = port(b, `${field}.ports`);
    if (lo > hi) throw invalid(`${field}.ports: '${ports}' is reversed`);
    out.ports = lo === hi ? String(lo) : `${lo}-${hi}`;
  }
  return out;
}

export function sgRuleToKernel(r: SecurityRule): SgRule {
  const c = parseCidr(r.cidr ?? SG_ANY_CIDR, 'cidr');
  const [lo, hi] = r.ports ? (r.ports.includes('-') ? r.ports.split('-').map(Number) : [Number(r.ports), Number(r.ports)]) : [0, 65535];
  return { ip: c.prefix, len: c.len, proto: PROTOS[r.protocol], lo, hi };
}

function sgRuleFromKernel(k: SgRule): SecurityRule {
  const r: SecurityRule = { protocol: PROTO_NAMES.get(k.proto) ?? 'any', cidr: formatCidr({ prefix: k.ip, len: k.len }) };
  if ((k.proto === SgProto.TCP || k.proto === SgProto.UDP) && !(k.lo === 0 && k.hi === 65535)) r.ports = k.lo === k.hi ? String(k.lo) : `${k.lo}-${k.hi}`;
  return r;
}

/** How deep the rule prefixes of one direction nest (the data path walks at most SG_MAX_DEPTH). */
export function sgNesting(rules: readonly SecurityRule[]): number {
  const cidrs = [...new Set(rules.map((r) => r.cidr ?? SG_ANY_CIDR))].map((c) => parseCidr(c, 'cidr'));
  const within = (a: { prefix: number; len: number }, b: { prefix: number; len: number }) => a.len >= b.len && ((a.prefix & maskOf(b.len)) >>> 0) === b.prefix;
  return cidrs.reduce((m, c) => Math.max(m, cidrs.filter((o) => within(c, o)).length), 0);
}

/** A whole group checked: name, rule count and nesting within the kernel's limits. */
export function sgRules(ingress: unknown, egress: unknown): { ingress: SecurityRule[]; egress: SecurityRule[] } {
  const list = (v: unknown, field: string) => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw invalid(`${field}: must be a list of rules`);
    return v.map((r, i) => sgRule(r, `${field}[${i}]`));
  };
  const out = { ingress: list(ingress, 'ingress'), egress: list(egress, 'egress') };
  const n = out.ingress.length + out.egress.length;
  if (n > SG_MAX_RULES) throw invalid(`ingress, egress: ${n} rules; a group holds at most ${SG_MAX_RULES}`);
  for (const dir of ['ingress', 'egress'] as const) {
    const depth = sgNesting(out[dir]);
    if (depth > SG_MAX_DEPTH) throw invalid(`${dir}: rule CIDRs nest ${depth} deep; at most ${SG_MAX_DEPTH} may hold one address`);
  }
  return out;
}

// --- sg_groups --------------------------------------------------------------
export function sgGroupKey(id: number): Buffer { const b = Buffer.alloc(4); b.writeUInt32LE(id); return b; }

export function encodeSgGroup(g: SecurityGroupRecord): Buffer {
  const b = Buffer.alloc(SGV.size);
  const rules = [...g.ingress.map((r) => [SgDir.INGRESS, r] as const), ...g.egress.map((r) => [SgDir.EGRESS, r] as const)];
  if (rules.length > SG_MAX_RULES) throw invalid(`ingress, egress: ${rules.length} rules; a group holds at most ${SG_MAX_RULES}`);
  b.writeUInt32LE(g.vni, SGV.off.vni);
  b.writeUInt32LE(rules.length, SGV.off.count);
  b.write(sgName(g.name), SGV.off.name, SG_NAME_LEN - 1, 'utf8');
  rules.forEach(([dir, r], i) => {
    const k = sgRuleToKernel(r);
    const o = SGV.off.rules + i * SR.size;
    b.writeUInt32BE(k.ip, o + SR.off.ip);
    b.writeUInt8(k.len, o + SR.off.len);
    b.writeUInt8(k.proto, o + SR.off.proto);
    b.writeUInt8(dir, o + SR.off.dir);
    b.writeUInt16LE(k.lo, o + SR.off.port_lo);
    b.writeUInt16LE(k.hi, o + SR.off.port_hi);
  });
  return b;
}

export function decodeSgGroup(key: Buffer, v: Buffer): SecurityGroupRecord {
  const count = Math.min(v.readUInt32LE(SGV.off.count), SG_MAX_RULES);
  const name = v.subarray(SGV.off.name, SGV.off.name + SG_NAME_LEN).toString('utf8').replace(/\0.*$/s, '');
  const g: SecurityGroupRecord = { id: key.readUInt32LE(0), vni: v.readUInt32LE(SGV.off.vni), name, ingress: [], egress: [] };
  for (let i = 0; i < count; i++) {
    const o = SGV.off.rules + i * SR.size;
    const k: SgRule = {
      ip: v.readUInt32BE(o + SR.off.ip), len: v.readUInt8(o + SR.off.len), proto: v.readUInt8(o + SR.off.proto),
      lo: v.readUInt16LE(o + SR.off.port_lo), hi: v.readUInt16LE(o + SR.off.port_hi),
    };
    (v.readUInt8(o + SR.off.dir) === SgDir.EGRESS ? g.egress : g.ingress).push(sgRuleFromKernel(k));
  }
  return g;
}

// --- sg_attach (key: struct endpoint_key) -------------------------------------
export function encodeSgAttach(a: SecurityAttachRecord): Buffer {
  if (a.groups.length > SG_MAX_GROUPS) throw invalid(`groups: ${a.groups.length}; an endpoint has at most ${SG_MAX_GROUPS}`);
  const b = Buffer.alloc(SA.size);
  b.writeUInt32LE(a.groups.length, SA.off.count);
  a.groups.forEach((g, i) => b.writeUInt32LE(g, SA.off.groups + 4 * i));
  return b;
}
export function decodeSgAttach(key: Buffer, v: Buffer): SecurityAttachRecord {
  const count = Math.min(v.readUInt32LE(SA.off.count), SG_MAX_GROUPS);
  return {
    vni: key.readUInt32LE(EK.off.vni), ip: formatIpv4(key.readUInt32BE(EK.off.ip)),
    groups: Array.from({ length: count }, (_, i) => v.readUInt32LE(SA.off.groups + 4 * i)),
  };
}

// --- sg_cfg -------------------------------------------------------------------
/** Conntrack timeouts in milliseconds (absent or 0: the data path's defaults, xvpc.h). */
export interface ConntrackTimeouts {
  tcpNew?: number; tcpEstablished?: number; tcpClosing?: number; tcpClosed?: number; udp?: number; icmp?: number; other?: number;
}
const CFG_FIELDS = [
  ['tcpNew', 'tcp_new'], ['tcpEstablished', 'tcp_established'], ['tcpClosing', 'tcp_closing'], ['tcpClosed', 'tcp_closed'],
  ['udp', 'udp'], ['icmp', 'icmp'], ['other', 'other'],
] as const;

/**
 * sg_cfg's value. gen: the timeouts' generation, to be moved with every change
 * of them (sgCfgGen): a conntrack entry written under another one takes the
 * data path's full check once (native/bpf/conntrack.h, hold).
 */
export function encodeSgCfg(t: ConntrackTimeouts, ctCapacity: number, gen = 0): Buffer {
  const b = Buffer.alloc(SC.size);
  for (const [ts, c] of CFG_FIELDS) b.writeBigUInt64LE(BigInt(Math.round((t[ts] ?? 0) * 1e6)), SC.off[c]);
  b.writeUInt32LE(ctCapacity, SC.off.ct_capacity);
  b.writeUInt32LE(gen >>> 0, SC.off.gen);
  return b;
}
export function decodeSgCfg(v: Buffer): { timeouts: ConntrackTimeouts; ctCapacity: number; gen: number } {
  const timeouts: ConntrackTimeouts = {};
  for (const [ts, c] of CFG_FIELDS) timeouts[ts] = Number(v.readBigUInt64LE(SC.off[c])) / 1e6;
  return { timeouts, ctCapacity: v.readUInt32LE(SC.off.ct_capacity), gen: v.readUInt32LE(SC.off.gen) };
}
/** The gen to write with `next` over `prev` (the value sg_cfg holds, if any): the same timeouts keep it, others move it. */
export function sgCfgGen(prev: Buffer | undefined, next: ConntrackTimeouts): number {
  if (!prev) return 0;
  const was = decodeSgCfg(prev);
  const same = CFG_FIELDS.every(([ts, c]) => prev.readBigUInt64LE(SC.off[c]) === BigInt(Math.round((next[ts] ?? 0) * 1e6)));
  return same ? was.gen : (was.gen + 1) >>> 0;
}

// --- conntrack ----------------------------------------------------------------
export interface CtEntry {
  vni: number; localIp: string; remoteIp: string; localPort: number; remotePort: number; proto: number;
  /** deadline, bpf_ktime_get_coarse_ns() time */
  expires: bigint; state: number; origin: SgDir; fins: number;
}
export function decodeCt(key: Buffer, v: Buffer): CtEntry {
  return {
    vni: key.readUInt32LE(CT_KEY.off.vni), localIp: formatIpv4(key.readUInt32BE(CT_KEY.off.local_ip)),
    remoteIp: formatIpv4(key.readUInt32BE(CT_KEY.off.remote_ip)), localPort: key.readUInt16BE(CT_KEY.off.local_port),
    remotePort: key.readUInt16BE(CT_KEY.off.remote_port), proto: key.readUInt8(CT_KEY.off.proto),
    expires: v.readBigUInt64LE(CT_VALUE.off.expires), state: v.readUInt8(CT_VALUE.off.state),
    origin: v.readUInt8(CT_VALUE.off.origin), fins: v.readUInt8(CT_VALUE.off.fins),
  };
}

