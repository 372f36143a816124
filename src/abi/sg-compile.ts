// A security group compiled into the data path's two tries (native/bpf/policy.h):
// per direction ("table" = id * 2 + direction), sg_cidrs gets one entry per
// distinct rule prefix (its length and the protocols with a rule at exactly
// that prefix), sg_ports one entry per (prefix, protocol, aligned port block).
// Entries come as key/value buffers keyed by the key's hex, so the loader can
// write a group's new entries, then remove the ones it no longer has.
import { SG_PROTO_BIT, SgDir, SgProto } from './enums.js';
import { SG_CIDR_KEY as CK, SG_CIDR_VALUE as CV, SG_PORT_KEY as PK, SG_PORT_VALUE as PV } from './layout.js';
import { sgRuleToKernel, type SecurityGroupRecord, type SecurityRule } from './sg-records.js';

/** bits of sg_port_key before the port: table + ip + len + proto (XVPC_SG_PORT_KEY_FIXED) */
export const SG_PORT_KEY_FIXED = 80;

export interface CompiledGroup {
  cidrs: Map<string, { key: Buffer; value: Buffer }>;
  ports: Map<string, { key: Buffer; value: Buffer }>;
}

/** [lo, hi] as the fewest aligned blocks: [start, prefix bits of 16]. */
export function portBlocks(lo: number, hi: number): [number, number][] {
  const out: [number, number][] = [];
  let p = lo;
  while (p <= hi) {
    let size = 1;
    while (size < 65536 && p % (size * 2) === 0 && p + size * 2 - 1 <= hi) size *= 2;
    out.push([p, 16 - Math.log2(size)]);
    p += size;
  }
  return out;
}

export const sgTable = (id: number, dir: SgDir): number => (id * 2 + dir) >>> 0;

function cidrKey(table: number, ip: number, len: number): Buffer {
  const b = Buffer.alloc(CK.size);
  b.writeUInt32LE(32 + len, CK.off.prefixlen);
  b.writeUInt32LE(table, CK.off.table);
  b.writeUInt32BE(ip, CK.off.ip);
  return b;
}

function portKey(table: number, ip: number, len: number, proto: number, port: number, portBits: number): Buffer {
  const b = Buffer.alloc(PK.size);
  b.writeUInt32LE(SG_PORT_KEY_FIXED + portBits, PK.off.prefixlen);
  b.writeUInt32LE(table, PK.off.table);
  b.writeUInt32BE(ip, PK.off.ip);
  b.writeUInt8(len, PK.off.len);
  b.writeUInt8(proto, PK.off.proto);
  b.writeUInt16BE(port, PK.off.port);
  return b;
}

export function compileGroup(g: SecurityGroupRecord): CompiledGroup {
  const out: CompiledGroup = { cidrs: new Map(), ports: new Map() };
  const protos = new Map<string, { key: Buffer; len: number; bits: number }>();
  const dirs: [SgDir, SecurityRule[]][] = [[SgDir.INGRESS, g.ingress], [SgDir.EGRESS, g.egress]];
  for (const [dir, rules] of dirs) {
    const table = sgTable(g.id, dir);
    for (const rule of rules) {
      const r = sgRuleToKernel(rule);
      const ck = cidrKey(table, r.ip, r.len);
      const c = protos.get(ck.toString('hex')) ?? { key: ck, len: r.len, bits: 0 };
      c.bits |= SG_PROTO_BIT[r.proto];
      protos.set(ck.toString('hex'), c);
      const value = Buffer.alloc(PV.size);
      value.writeUInt32LE(1, PV.off.allow);
      const add = (k: Buffer) => out.ports.set(k.toString('hex'), { key: k, value });
      if ((r.proto === SgProto.TCP || r.proto === SgProto.UDP) && !(r.lo === 0 && r.hi === 65535)) {
        for (const [start, bits] of portBlocks(r.lo, r.hi)) add(portKey(table, r.ip, r.len, r.proto, start, bits));
      } else {
        add(portKey(table, r.ip, r.len, r.proto, 0, 0));
      }
    }
  }
  for (const [hex, c] of protos) {
    const v = Buffer.alloc(CV.size);
    v.writeUInt8(c.len, CV.off.len);
    v.writeUInt8(c.bits, CV.off.protos);
    out.cidrs.set(hex, { key: c.key, value: v });
  }
  return out;
}
