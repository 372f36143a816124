// The compact form of a packed batch's values (src/abi/batch-compact.ts) and
// how transitd reads a request's values (endpointBatchValues): lossless for
// every record a packed batch can hold, and every malformed compact form is
// INVALID_ARGUMENT naming what is wrong.
import { describe, expect, it } from 'vitest';
import {
  ENDPOINT_VALUE, ENDPOINT_VALUE_HEAD_SIZE, EndpointType, MAX_BACKENDS, compactEndpointValues, expandEndpointValues, packEndpoints,
  packEndpointsCompactInto, type EndpointRecord,
} from '../../src/abi/index.js';
import { endpointBatchValues } from '../../src/transitd/put-endpoints.js';
import { XvpcError } from '../../src/errors.js';

const base = { vni: 9, mac: '0e:00:00:00:00:01', hostIp: '172.31.0.2', hostMac: '0a:58:ac:1f:00:02', netId: 3, hostedIfindex: -1 };
const RECORDS: EndpointRecord[] = [
  { ...base, ip: '10.0.0.1', type: EndpointType.SIMPLE, backends: [] },
  { ...base, ip: '10.0.0.2', type: EndpointType.SCALED, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', backends: ['10.0.0.1'] },
  { ...base, ip: '10.0.0.3', type: EndpointType.HOST, backends: [], hostedIfindex: 12 },
  { ...base, ip: '10.0.0.4', type: EndpointType.SCALED, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00',
    backends: Array.from({ length: MAX_BACKENDS }, (_, i) => `10.0.1.${i + 1}`) },
  { ...base, ip: '10.0.0.5', type: EndpointType.GATEWAY, backends: [] },
];

const LIMIT = 64 * 1024 * 1024;

const refused = (f: () => unknown, re: RegExp) => {
  let err: unknown;
  try { f(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(XvpcError);
  expect((err as XvpcError).code).toBe('INVALID_ARGUMENT');
  expect((err as XvpcError).message).toMatch(re);
};

describe('packEndpointsCompactInto: the sender packs the compact form directly', () => {
  it('writes the keys, heads and backends compacting the 92-byte values would give, into reused buffers', () => {
    const { keys, values } = packEndpoints(RECORDS);
    const want = compactEndpointValues(values, RECORDS.length);
    // Reused buffers hold an earlier batch's bytes: every byte of a head (its padding too) is written.
    const k = Buffer.alloc(keys.length + 8, 0xee);
    const h = Buffer.alloc(want.heads.length + 28, 0xee);
    const b = Buffer.alloc(4 * MAX_BACKENDS * RECORDS.length, 0xee);
    expect(packEndpointsCompactInto(RECORDS, 0, RECORDS.length, k, h, b)).toEqual({ count: RECORDS.length, backendBytes: want.backends.length });
    expect(k.subarray(0, keys.length).equals(keys)).toBe(true);
    expect(h.subarray(0, want.heads.length).equals(want.heads)).toBe(true);
    expect(b.subarray(0, want.backends.length).equals(want.backends)).toBe(true);
    // a slice of the list, from its middle
    expect(packEndpointsCompactInto(RECORDS, 3, 5, k, h, b)).toEqual({ count: 2, backendBytes: 4 * MAX_BACKENDS });
    expect(h.subarray(0, 56).equals(want.heads.subarray(3 * 28, 5 * 28))).toBe(true);
  });

  it('names the record that cannot be packed by its index in the whole list', () => {
    const bad = [...RECORDS, { ...RECORDS[0], ip: '10.0.0.6', mac: 'zz' }];
    const big = (n: number) => Buffer.alloc(n * 4 * MAX_BACKENDS);
    refused(() => packEndpointsCompactInto(bad, 2, bad.length, big(8), big(28), big(64)), /^records\[5\]\.mac: 'zz' is not a MAC address/);
    expect(() => packEndpointsCompactInto(RECORDS, 0, RECORDS.length, Buffer.alloc(8), Buffer.alloc(28), big(64))).toThrow(RangeError);
  });
});

describe('compactEndpointValues / expandEndpointValues', () => {
  it('round-trips every kind of record, backends in record order', () => {
    const { keys, values } = packEndpoints(RECORDS);
    const c = compactEndpointValues(values, RECORDS.length);
    expect(c.heads.length).toBe(RECORDS.length * ENDPOINT_VALUE_HEAD_SIZE);
    expect(c.backends.length).toBe(4 * (1 + MAX_BACKENDS));
    expect([...c.backends.subarray(0, 8)]).toEqual([10, 0, 0, 1, 10, 0, 1, 1]);
    for (let i = 0; i < RECORDS.length; i++) {
      expect(c.heads.subarray(i * 28, (i + 1) * 28).equals(values.subarray(i * ENDPOINT_VALUE.size, i * ENDPOINT_VALUE.size + 28))).toBe(true);
    }
    expect(expandEndpointValues(c, RECORDS.length).equals(values)).toBe(true);
    expect(endpointBatchValues(keys, { values: Buffer.alloc(0), compact: c }, LIMIT).equals(values)).toBe(true);
    expect(expandEndpointValues(compactEndpointValues(Buffer.alloc(0), 0), 0).length).toBe(0);
  });

  it('refuses a compact form that does not match its keys or its own counts, naming the field', () => {
    const { keys, values } = packEndpoints(RECORDS);
    const c = compactEndpointValues(values, RECORDS.length);
    refused(() => expandEndpointValues({ heads: c.heads.subarray(1), backends: c.backends }, RECORDS.length), /compact\.heads: 139 bytes, want 5 x 28/);
    refused(() => expandEndpointValues({ heads: c.heads, backends: c.backends.subarray(4) }, RECORDS.length), /compact\.backends: .*fewer than the heads count/);
    refused(() => expandEndpointValues({ heads: c.heads, backends: Buffer.concat([c.backends, Buffer.alloc(4)]) }, RECORDS.length), /compact\.backends: 72 bytes, the heads count 68/);
    const tooMany = Buffer.from(c.heads);
    tooMany[3 * 28 + 1] = MAX_BACKENDS + 1;
    refused(() => expandEndpointValues({ heads: tooMany, backends: c.backends }, RECORDS.length), /records\[3\]\.backends: at most 16, got 17/);
    refused(() => endpointBatchValues(keys.subarray(1), { values: Buffer.alloc(0), compact: c }, LIMIT), /keys: 39 bytes is not a whole number/);
    refused(() => endpointBatchValues(keys, { values, compact: c }, LIMIT), /values and compact/);
    // more records than the message limit holds in the kernel's layout: refused before anything is expanded
    refused(() => endpointBatchValues(keys, { values: Buffer.alloc(0), compact: c }, 4 * 100 + 99), /keys: 5 records, more than the 4 one call may carry/);
    expect(endpointBatchValues(keys, { values: Buffer.alloc(0), compact: c }, 5 * 100).length).toBe(values.length);
  });

  it('a batch without the compact form is its values, as a view', () => {
    const { keys, values } = packEndpoints(RECORDS);
    const got = endpointBatchValues(keys, { values }, LIMIT);
    expect(got.buffer).toBe(values.buffer);
    expect(got.equals(values)).toBe(true);
  });
});
