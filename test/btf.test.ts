// src/abi can never drift from native/bpf/xvpc.h: every struct size, every
// member offset, the array limits, the enums and the counter names are checked
// against the BTF of both builds' objects.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bpfObjectPath } from '../src/dataplane/bpf.js';
import {
  ENDPOINT_VALUE, EndpointType, LAYOUTS, MAX_BACKENDS, MAX_MEMBERS, SLOT_TABLE_SIZE, STAT_NAMES, XVPC_MEMBERS,
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

    it('limits follow the array lengths', () => {
      expect(arrayLength(XVPC_MEMBERS.name, 'members')).toBe(MAX_MEMBERS);
      expect(arrayLength(XVPC_MEMBERS.name, 'slots')).toBe(SLOT_TABLE_SIZE);
      expect(arrayLength(ENDPOINT_VALUE.name, 'backends')).toBe(MAX_BACKENDS);
    });

    // The enums are in the XDP object's BTF only (the TC build's code keeps no value of the enum types).
    if (object !== 'xvpc') return;
    it('counter names follow enum xvpc_stat', () => {
      const values = named('ENUM', 'xvpc_stat').values!;
      const expected = STAT_NAMES.map((n, i) => ({ name: `XVPC_STAT_${n.toUpperCase()}`, val: i }));
      expect(values.filter((v) => v.name !== 'XVPC_STAT_MAX')).toEqual(expected);
      expect(values.find((v) => v.name === 'XVPC_STAT_MAX')?.val).toBe(STAT_NAMES.length);
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
