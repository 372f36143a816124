// transitd's index of the endpoint keys its map holds (src/dataplane/endpoint-index.ts):
// an open-addressing set of (vni, ip) read straight from packed keys.
import { describe, expect, it } from 'vitest';
import { EndpointIndex } from '../../src/dataplane/endpoint-index.js';
import { ENDPOINT_KEY, endpointKey } from '../../src/abi/index.js';

const packed = (keys: [number, string][]) => Buffer.concat(keys.map(([vni, ip]) => endpointKey(vni, ip)));

describe('EndpointIndex', () => {
  it('tells new keys from ones it holds, by VNI and IP together (high bits included)', () => {
    const idx = new EndpointIndex();
    const b = packed([[1, '10.0.0.1'], [2, '10.0.0.1'], [0xffffff, '255.255.255.255'], [1, '128.0.0.1']]);
    for (let i = 0; i < 4; i++) expect(idx.addIfAbsent(b, i * ENDPOINT_KEY.size)).toBe(true);
    for (let i = 0; i < 4; i++) expect(idx.addIfAbsent(b, i * ENDPOINT_KEY.size)).toBe(false);
    expect(idx.has(packed([[3, '10.0.0.1']]), 0)).toBe(false);
    expect(idx.has(packed([[1, '10.0.0.2']]), 0)).toBe(false);
    expect(idx.has(b, 2 * ENDPOINT_KEY.size)).toBe(true);
  });

  it('forgets deleted keys and takes them again; holds 200,000 keys through its growth', () => {
    const n = 200_000;
    const keys = Buffer.alloc(n * ENDPOINT_KEY.size);
    for (let i = 0; i < n; i++) endpointKey(1 + (i % 7), `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`).copy(keys, i * ENDPOINT_KEY.size);
    const idx = EndpointIndex.fromKeys([]);
    for (let i = 0; i < n; i++) expect(idx.addIfAbsent(keys, i * ENDPOINT_KEY.size)).toBe(true);
    for (let i = 0; i < n; i += 2) idx.delete(keys, i * ENDPOINT_KEY.size);
    let held = 0;
    for (let i = 0; i < n; i++) if (idx.has(keys, i * ENDPOINT_KEY.size)) held++;
    expect(held).toBe(n / 2);
    for (let i = 0; i < n; i++) expect(idx.addIfAbsent(keys, i * ENDPOINT_KEY.size)).toBe(i % 2 === 0);
  });

  it('counts the keys it deleted (not deletes of keys it did not hold): a plan made before one must enter its keys again', () => {
    const idx = new EndpointIndex();
    const b = packed([[1, '10.0.0.1'], [1, '10.0.0.2']]);
    idx.add(b, 0);
    expect(idx.removals).toBe(0);
    idx.delete(b, ENDPOINT_KEY.size); // not held
    expect(idx.removals).toBe(0);
    idx.delete(b, 0);
    expect(idx.removals).toBe(1);
    idx.delete(b, 0); // gone already
    expect(idx.removals).toBe(1);
    idx.add(b, 0);
    idx.delete(b, 0);
    expect(idx.removals).toBe(2);
  });

  it('refuses a key that lies outside its buffer', () => {
    expect(() => new EndpointIndex().addIfAbsent(Buffer.alloc(12), 8)).toThrow(RangeError);
  });
});
