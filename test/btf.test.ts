// src/abi can never drift from native/bpf/xvpc.h: every struct size, every
// member offset, the array limits, the enums and the counter names are checked
// against the BTF of both builds' objects.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bpfObjectPath } from '../src/dataplane/bpf.js';
import {
  CtState, DROP_REASON_MAP, ENDPOINT_VALUE, EndpointType, LAYOUTS, MAX_BACKENDS, MAX_MEMBERS, SG_ATTACH_VALUE, SG_GROUP_VALUE,
  SG_MAX_GROUPS, SG_MAX_RULES, SG_NAME_LEN, SLOT_TABLE_SIZE, STAT_NAMES, SgDir, SgProto, XVPC_MEMBERS,
} from '../src/abi/index.js';

interface BtfMember { name: string; type_id: number; bits_offset: number }
interface BtfType {
  id: number; kind: string; name?: string; size?: number; nr_elems?: number;
  members?: BtfMember[]; values?: { name: string; val: number }[];
}

for (const object of ['xvpc', 'xvpc_tc']) {
  const types: BtfType[] = JSON.parse(
    execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath(object), '-j'], { encoding: 'utf8' }),
  ).types;

  const named = (kind: string, name: string): BtfType => {
    const t = types.find((x) => x.kind === kind && x.name === name);
    if (!t) throw new Error(`${kind} ${name} is not in the BTF of ${object}.o`);
    return t;
  };
  /** Element count of an array member of a struct. */
  const arrayLength = (struct: string, member: string): number => {
    const m = named('STRUCT', struct).members!.find((x) => x.name === member);
    if (!m) throw new Error(`struct ${struct} has no member ${member}`);
    const t = types.find((x) => x.id === m.type_id);
    if (t?.kind !== 'ARRAY') throw new Error(`${struct}.${member} is not an array`);
    return t.nr_elems!;
  };

  describe(`src/abi matches the C layouts in the BTF of ${object}.o`, () => {
    for (const layout of LAYOUTS) {
      it(`struct ${layout.name}: ${layout.size} bytes, members at ${Object.values(layout.off).join(',')}`, () => {
        const t = named('STRUCT', layout.name);
        expect(t.size).toBe(layout.size);
        // Every member, in C order, at its byte offset: none missing, none extra.
        const fromBtf = t.members!.map((m) => [m.name, m.bits_offset / 8]);
        expect(fromBtf).toEqual(Object.entries(layout.off));
      });
    }

    it('drop_reason holds one __u32 per CPU (the capture hook reads it)', () => {
      // A map in BTF: a VAR of an anonymous struct whose members point at the key and value types.
      const v = named('VAR', DROP_REASON_MAP.name);
      const def = types.find((x) => x.id === (v as BtfType & { type_id: number }).type_id)!;
      const sizeOf = (member: string): number | undefined => {
        const ptr = types.find((x) => x.id === def.members!.find((m) => m.name === member)?.type_id);
        let t = types.find((x) => x.id === (ptr as BtfType & { type_id?: number } | undefined)?.type_id);
        while (t?.kind === 'TYPEDEF' || t?.kind === 'CONST' || t?.kind === 'VOLATILE') t = types.find((x) => x.id === (t as BtfType & { type_id: number }).type_id);
        return t?.size;
      };
      expect(sizeOf('value')).toBe(DROP_REASON_MAP.valueSize);
      expect(sizeOf('key')).toBe(4);
    });

    it('limits follow the array lengths', () => {
      expect(arrayLength(XVPC_MEMBERS.name, 'members')).toBe(MAX_MEMBERS);
      expect(arrayLength(XVPC_MEMBERS.name, 'slots')).toBe(SLOT_TABLE_SIZE);
      expect(arrayLength(ENDPOINT_VALUE.name, 'backends')).toBe(MAX_BACKENDS);
      expect(arrayLength(SG_ATTACH_VALUE.name, 'groups')).toBe(SG_MAX_GROUPS);
      expect(arrayLength(SG_GROUP_VALUE.name, 'rules')).toBe(SG_MAX_RULES);
      expect(arrayLength(SG_GROUP_VALUE.name, 'name')).toBe(SG_NAME_LEN);
    });

    // The enums are in the XDP object's BTF only (the TC build's code keeps no value of the enum types).
    if (object !== 'xvpc') return;
    it('counter names follow enum xvpc_stat', () => {
      const values = named('ENUM', 'xvpc_stat').values!;
      const expected = STAT_NAMES.map((n, i) => ({ name: `XVPC_STAT_${n.toUpperCase()}`, val: i }));
      expect(values.filter((v) => v.name !== 'XVPC_STAT_MAX')).toEqual(expected);
      expect(values.find((v) => v.name === 'XVPC_STAT_MAX')?.val).toBe(STAT_NAMES.length);
    });

    it('security-group enums follow xvpc_sg_dir, xvpc_sg_proto, xvpc_ct_state', () => {
      const of = (name: string) => Object.fromEntries(named('ENUM', name).values!.map((v) => [v.name, v.val]));
      expect(of('xvpc_sg_dir')).toEqual({ XVPC_SG_INGRESS: SgDir.INGRESS, XVPC_SG_EGRESS: SgDir.EGRESS });
      expect(of('xvpc_sg_proto')).toEqual({ XVPC_SG_ANY: SgProto.ANY, XVPC_SG_ICMP: SgProto.ICMP, XVPC_SG_TCP: SgProto.TCP, XVPC_SG_UDP: SgProto.UDP });
      expect(of('xvpc_ct_state')).toEqual({
        XVPC_CT_NEW: CtState.NEW, XVPC_CT_ESTABLISHED: CtState.ESTABLISHED, XVPC_CT_CLOSING: CtState.CLOSING, XVPC_CT_CLOSED: CtState.CLOSED,
      });
    });

    it('endpoint types follow enum xvpc_ep_type', () => {
      const values = named('ENUM', 'xvpc_ep_type').values!;
      expect(values).toEqual([
        { name: 'XVPC_EP_SIMPLE', val: EndpointType.SIMPLE },
        { name: 'XVPC_EP_SCALED', val: EndpointType.SCALED },
        { name: 'XVPC_EP_HOST', val: EndpointType.HOST },
        { name: 'XVPC_EP_GATEWAY', val: EndpointType.GATEWAY },
      ]);
    });
  });
}
