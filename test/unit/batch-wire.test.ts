// PutEndpoints' hand-made request encoder (src/transitd/batch-wire.ts) gives
// exactly the generated encoder's bytes, which decode back to the batch.
import { describe, expect, it } from 'vitest';
import { EndpointBatch } from '../../src/gen/transit.js';
import { encodeEndpointBatch } from '../../src/transitd/batch-wire.js';
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
