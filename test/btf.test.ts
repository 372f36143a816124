// The TS codecs and counter names can never drift from native/bpf/xvpc.h:
// their sizes and order are checked against the object's own BTF.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bpfObjectPath } from '../src/dataplane/bpf.js';
import { EndpointType, SIZES } from '../src/dataplane/records.js';
import { STAT_NAMES } from '../src/dataplane/stats.js';

interface BtfType { kind: string; name?: string; size?: number; values?: { name: string; val: number }[] }

const types: BtfType[] = JSON.parse(
  execFileSync('bpftool', ['btf', 'dump', 'file', bpfObjectPath('xvpc'), '-j'], { encoding: 'utf8' }),
).types;

const named = (kind: string, name: string): BtfType => {
  const t = types.find((x) => x.kind === kind && x.name === name);
  if (!t) throw new Error(`${kind} ${name} is not in the BTF of xvpc.o`);
  return t;
};

describe('records match the C layouts in BTF', () => {
  for (const [name, size] of Object.entries(SIZES)) {
    it(`struct ${name} is ${size} bytes`, () => {
      expect(named('STRUCT', name).size).toBe(size);
    });
  }

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
