// PutEndpoints' hand-made request codec (src/transitd/batch-wire.ts): the
// encoder sends a packed batch's values in the compact form, byte for byte as
// the generated encoder writes that message; transitd's decoder reads what the
// generated one reads, as views of the message, and throws out malformed
// nested bytes the generated one would read on past.
import { describe, expect, it } from 'vitest';
import { EndpointBatch } from '../../src/gen/transit.js';
import { decodeEndpointBatch, encodeEndpointBatch } from '../../src/transitd/batch-wire.js';
import {
  ENDPOINT_KEY, ENDPOINT_VALUE_HEAD_SIZE, EndpointType, compactEndpointValues, expandEndpointValues, packEndpoints,
  type EndpointRecord,
} from '../../src/abi/index.js';

const filled = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));

/** n records: simple ones, and every 7th a scaled endpoint with 1..16 backends. */
function records(n: number): EndpointRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const n = i + 1;
    const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    const hex = (b: number) => b.toString(16).padStart(2, '0');
    const scaled = i % 7 === 3;
    return {
      vni: 7, ip, type: scaled ? EndpointType.SCALED : EndpointType.SIMPLE, mac: `0e:07:00:${hex((n >> 16) & 255)}:${hex((n >> 8) & 255)}:${hex(n & 255)}`,
      hostIp: scaled ? '0.0.0.0' : `172.31.0.${(i % 64) + 2}`, hostMac: scaled ? '00:00:00:00:00:00' : '0a:58:ac:1f:00:02', netId: 1,
      backends: scaled ? Array.from({ length: (i % 16) + 1 }, (_, b) => `10.1.0.${b + 1}`) : [], hostedIfindex: -1,
    };
  });
}

describe('encodeEndpointBatch', () => {
  // Record counts around each varint size step of the fields' lengths.
  for (const n of [1, 2, 4, 5, 128, 600, 30_000]) {
    it(`${n} packed records: the compact form, as the generated encoder writes it; transitd gets the same values back`, () => {
      const batch = packEndpoints(records(n));
      const mine = encodeEndpointBatch(batch);
      const compact = compactEndpointValues(batch.values, n);
      expect(mine.equals(Buffer.from(EndpointBatch.encode({ keys: batch.keys, values: Buffer.alloc(0), compact }).finish()))).toBe(true);
      // 36 bytes a record and the backends instead of 100
      expect(mine.length).toBeLessThanOrEqual(n * (ENDPOINT_KEY.size + ENDPOINT_VALUE_HEAD_SIZE) + compact.backends.length + 16);
      const back = EndpointBatch.decode(mine);
      expect(Buffer.from(back.keys).equals(batch.keys)).toBe(true);
      expect(back.values.length).toBe(0);
      expect(expandEndpointValues(back.compact!, n).equals(batch.values)).toBe(true);
    });
  }

  it('values that are not one per key go as they are (transitd refuses them with its own message)', () => {
    for (const [k, v] of [[0, 0], [0, 92], [8, 91], [7, 0], [16, 92]]) {
      const m = { keys: filled(k, 1), values: filled(v, 7) };
      expect(encodeEndpointBatch(m).equals(Buffer.from(EndpointBatch.encode(m).finish()))).toBe(true);
    }
  });

  it('a compact form given is sent as it is (with values beside it, if given), and an empty one is still sent (it says which form the values are in)', () => {
    const m = { keys: filled(8, 1), values: Buffer.alloc(0), compact: { heads: filled(28, 2), backends: Buffer.alloc(0) } };
    expect(encodeEndpointBatch(m).equals(Buffer.from(EndpointBatch.encode(m).finish()))).toBe(true);
    const both = { keys: filled(8, 1), values: filled(92, 3), compact: { heads: filled(28, 2), backends: Buffer.alloc(0) } };
    expect(encodeEndpointBatch(both).equals(Buffer.from(EndpointBatch.encode(both).finish()))).toBe(true);
    const empty = { keys: filled(8, 1), values: Buffer.alloc(0), compact: { heads: Buffer.alloc(0), backends: Buffer.alloc(0) } };
    expect(EndpointBatch.decode(encodeEndpointBatch(empty)).compact).toEqual({ heads: Buffer.alloc(0), backends: Buffer.alloc(0) });
  });

  it('a packed batch as views of a larger shared buffer (as the batch sender sends) goes as its own bytes', () => {
    const batch = packEndpoints(records(3));
    const big = Buffer.concat([batch.keys, Buffer.alloc(64, 0xee)]);
    const bigValues = Buffer.concat([batch.values, Buffer.alloc(92, 0xee)]);
    const m = { keys: big.subarray(0, batch.keys.length), values: bigValues.subarray(0, batch.values.length) };
    expect(encodeEndpointBatch(m).equals(encodeEndpointBatch(batch))).toBe(true);
  });
});

describe('decodeEndpointBatch', () => {
  const generated = (bytes: Uint8Array) => {
    const m = EndpointBatch.decode(bytes);
    return { keys: Buffer.from(m.keys), values: Buffer.from(m.values),
      ...(m.compact ? { compact: { heads: Buffer.from(m.compact.heads), backends: Buffer.from(m.compact.backends) } } : {}) };
  };

  it('gives the generated decoder\'s fields, as views of the message (no copy)', () => {
    for (const n of [0, 1, 128, 30_000]) {
      const wire = encodeEndpointBatch(packEndpoints(records(n)));
      const mine = decodeEndpointBatch(wire);
      const want = generated(wire);
      // Buffer.equals: toEqual walks a megabyte byte by byte (seconds on a busy machine)
      expect(mine.keys.equals(want.keys) && mine.values.equals(want.values)).toBe(true);
      expect(mine.compact === undefined).toBe(want.compact === undefined);
      if (mine.compact) expect(mine.compact.heads.equals(want.compact!.heads) && mine.compact.backends.equals(want.compact!.backends)).toBe(true);
      if (n > 0) {
        expect(mine.keys.buffer).toBe(wire.buffer);
        expect(mine.compact!.heads.buffer).toBe(wire.buffer);
        if (mine.compact!.backends.length > 0) expect(mine.compact!.backends.buffer).toBe(wire.buffer);
      }
    }
    // the kernel's layout as older clients send it: a view transitd writes hosted_ifindex into
    const wire = Buffer.from(EndpointBatch.encode({ keys: filled(8, 3), values: filled(92, 9) }).finish());
    const mine = decodeEndpointBatch(wire);
    expect(mine).toEqual(generated(wire));
    mine.values[0] ^= 0xff;
    expect(wire[wire.length - 92]).toBe(mine.values[0]);
  });

  it('reads what else a message may hold as the generated decoder does: repeats, unknown fields, wrong wire types, nested ones', () => {
    const k1 = filled(8, 1);
    const k2 = filled(16, 2);
    const v = filled(92, 3);
    const field = (tag: number, b: Buffer) => Buffer.concat([Buffer.from([tag, b.length]), b]);
    const c1 = Buffer.concat([field(10, filled(28, 4)), field(18, filled(8, 5))]);
    const c2 = Buffer.concat([field(10, filled(56, 6)), Buffer.from([3 << 3, 7])]);
    const cases: Buffer[] = [
      Buffer.concat([field(10, k1), field(18, v), field(10, k2)]),           // keys twice: the last wins
      Buffer.concat([Buffer.from([3 << 3, 150, 1]), field(10, k1), Buffer.from([5 << 3 | 5, 1, 2, 3, 4]), field(18, v)]), // unknown varint, fixed32
      Buffer.concat([Buffer.from([1 << 3, 42]), field(18, v)]),              // field 1 as a varint: skipped
      Buffer.concat([field(10, k1), Buffer.from([0]), field(18, v)]),        // a zero tag ends it
      Buffer.concat([field(10, k1), Buffer.from([(7 << 3) | 4]), field(18, v)]), // an end-group ends it
      Buffer.concat([field(10, k1), field(26, c1)]),                         // compact
      Buffer.concat([field(10, k1), field(26, c1), field(26, c2)]),          // compact twice: the last wins whole
      Buffer.concat([field(10, k1), field(26, Buffer.alloc(0))]),            // an empty compact: present
      Buffer.concat([field(10, k1), field(50, c1)]),                         // an unknown message field
      Buffer.alloc(0),
    ];
    for (const wire of cases) expect(decodeEndpointBatch(wire)).toEqual(generated(wire));
  });

  it('throws out a compact field with a zero tag, an end-group or a field running past its end (the generated decoder reads on into the outer message)', () => {
    const field = (tag: number, b: Buffer) => Buffer.concat([Buffer.from([tag, b.length]), b]);
    const k = filled(8, 1);
    for (const inner of [Buffer.concat([field(10, filled(28, 4)), Buffer.from([0])]), Buffer.concat([Buffer.from([(7 << 3) | 4]), field(18, filled(4, 5))]),
      Buffer.concat([Buffer.from([10, 40]), filled(28, 4)])]) {
      expect(() => decodeEndpointBatch(Buffer.concat([field(10, k), field(26, inner), field(18, filled(92, 6))]))).toThrow();
    }
  });

  it('throws where the generated decoder throws: a truncated field', () => {
    const wire = encodeEndpointBatch(packEndpoints(records(2)));
    for (const cut of [1, 5, 17, wire.length - 1]) {
      expect(() => EndpointBatch.decode(wire.subarray(0, cut))).toThrow();
      expect(() => decodeEndpointBatch(wire.subarray(0, cut))).toThrow();
    }
  });
});
