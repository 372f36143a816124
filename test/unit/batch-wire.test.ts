// PutEndpoints' hand-made request encoder (src/transitd/batch-wire.ts) gives
// exactly the generated encoder's bytes, which decode back to the batch; its
// decoder (transitd's) reads what the generated one reads, as views.
import { describe, expect, it } from 'vitest';
import { EndpointBatch } from '../../src/gen/transit.js';
import { decodeEndpointBatch, encodeEndpointBatch } from '../../src/transitd/batch-wire.js';
import { ENDPOINT_KEY, ENDPOINT_VALUE, EndpointType, packEndpoints } from '../../src/abi/index.js';

const filled = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));

describe('encodeEndpointBatch', () => {
  // Lengths around each varint size step (1, 2, 3 and 4 bytes), and empty fields (proto3 leaves them out).
  const sizes: [number, number][] = [[0, 0], [8, 92], [120, 127 * 92], [128 * 8, 128 * 92], [2048 * 8, 2048 * 92], [0, 92],
    [300_000 * ENDPOINT_KEY.size, 300_000 * ENDPOINT_VALUE.size]];
  for (const [k, v] of sizes) {
    it(`keys ${k} bytes, values ${v} bytes: the generated encoder's bytes`, () => {
      const m = { keys: filled(k, 1), values: filled(v, 7) };
      const mine = encodeEndpointBatch(m);
      expect(mine.equals(Buffer.from(EndpointBatch.encode(m).finish()))).toBe(true);
      const back = EndpointBatch.decode(mine);
      expect(Buffer.from(back.keys).equals(m.keys)).toBe(true);
      expect(Buffer.from(back.values).equals(m.values)).toBe(true);
    });
  }

  it('a packed batch (views of a larger shared buffer, as the batch sender sends) goes as its own bytes', () => {
    const batch = packEndpoints([{ vni: 7, ip: '10.0.0.1', type: EndpointType.SIMPLE, mac: '0e:07:0a:00:00:01', hostIp: '172.31.0.2',
      hostMac: '0a:58:ac:1f:00:02', netId: 1, backends: [], hostedIfindex: -1 }]);
    const big = Buffer.concat([batch.keys, Buffer.alloc(64, 0xee)]);
    const m = { keys: big.subarray(0, ENDPOINT_KEY.size), values: batch.values };
    expect(encodeEndpointBatch(m).equals(Buffer.from(EndpointBatch.encode(m).finish()))).toBe(true);
  });
});

describe('decodeEndpointBatch', () => {
  const generated = (bytes: Uint8Array) => {
    const m = EndpointBatch.decode(bytes);
    return { keys: Buffer.from(m.keys), values: Buffer.from(m.values) };
  };

  it('gives the generated decoder\'s fields, as views of the message (no copy)', () => {
    for (const [k, v] of [[0, 0], [8, 92], [128 * 8, 128 * 92], [30_000 * ENDPOINT_KEY.size, 30_000 * ENDPOINT_VALUE.size], [0, 92]]) {
      const wire = encodeEndpointBatch({ keys: filled(k, 3), values: filled(v, 9) });
      const mine = decodeEndpointBatch(wire);
      const want = generated(wire);
      expect(mine.keys.equals(want.keys) && mine.values.equals(want.values)).toBe(true);
      if (k > 0) expect(mine.keys.buffer).toBe(wire.buffer);
      if (v > 0) expect(mine.values.buffer).toBe(wire.buffer);
      // a view: writing through it changes the message's bytes (transitd owns them)
      if (v > 0) {
        mine.values[0] ^= 0xff;
        expect(wire[wire.length - v]).toBe(mine.values[0]);
      }
    }
  });

  it('reads what else a message may hold as the generated decoder does: repeats (last wins), unknown fields, wrong wire types', () => {
    const k1 = filled(8, 1);
    const k2 = filled(16, 2);
    const v = filled(92, 3);
    const field = (tag: number, b: Buffer) => Buffer.concat([Buffer.from([tag, b.length]), b]);
    const cases: Buffer[] = [
      Buffer.concat([field(10, k1), field(18, v), field(10, k2)]),           // keys twice: the last wins
      Buffer.concat([Buffer.from([3 << 3, 150, 1]), field(10, k1), Buffer.from([5 << 3 | 5, 1, 2, 3, 4]), field(18, v)]), // unknown varint, fixed32
      Buffer.concat([Buffer.from([1 << 3, 42]), field(18, v)]),              // field 1 as a varint: skipped
      Buffer.concat([field(10, k1), Buffer.from([0]), field(18, v)]),        // a zero tag ends it
      Buffer.concat([field(10, k1), Buffer.from([(7 << 3) | 4]), field(18, v)]), // an end-group ends it
      Buffer.alloc(0),
    ];
    for (const wire of cases) expect(decodeEndpointBatch(wire)).toEqual(generated(wire));
  });

  it('throws where the generated decoder throws: a truncated field', () => {
    const wire = encodeEndpointBatch({ keys: filled(8, 1), values: filled(92, 2) });
    for (const cut of [1, 5, wire.length - 1]) {
      expect(() => EndpointBatch.decode(wire.subarray(0, cut))).toThrow();
      expect(() => decodeEndpointBatch(wire.subarray(0, cut))).toThrow();
    }
  });
});
