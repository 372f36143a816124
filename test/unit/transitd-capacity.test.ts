// transitd --capacity (src/transitd/capacity.ts): map sizes by name, checked.
import { describe, expect, it } from 'vitest';
import { CAPACITY_NAMES, MAX_CAPACITY } from '../../src/abi/limits.js';
import { XvpcError } from '../../src/errors.js';
import { parseCapacities, parsePreallocate } from '../../src/transitd/capacity.js';

const refused = (text: string, message: RegExp) => {
  let err: unknown;
  try {
    parseCapacities(text, '--capacity');
  } catch (e) {
    err = e;
  }
  expect(err, text).toBeInstanceOf(XvpcError);
  expect((err as XvpcError).code).toBe('INVALID_ARGUMENT');
  expect((err as XvpcError).message).toMatch(message);
};

describe('parseCapacities', () => {
  it('reads NAME=N pairs into map sizes', () => {
    expect(parseCapacities('')).toEqual({});
    expect(parseCapacities('conntrack=4096, endpoints=16384')).toEqual({ conntrack: 4096, endpoints: 16384 });
    expect(parseCapacities(CAPACITY_NAMES.map((n) => `${n}=1`).join(','))).toEqual(Object.fromEntries(CAPACITY_NAMES.map((n) => [n, 1])));
    expect(parseCapacities(`endpoints=${MAX_CAPACITY}`)).toEqual({ endpoints: MAX_CAPACITY });
  });

  it('refuses what is not a known map with a size in range, naming the option and the item', () => {
    refused('conntrack', /--capacity: 'conntrack' is not NAME=N/);
    refused('conntrack=-1', /is not NAME=N/);
    refused('conntrack=1.5', /is not NAME=N/);
    refused('interfaces=10', /--capacity: no map 'interfaces' \(maps: endpoints, /);
    refused('conntrack=0', /conntrack=0 is outside 1\.\.16777216/);
    refused(`endpoints=${MAX_CAPACITY + 1}`, /is outside 1\.\./);
    refused('conntrack=1,conntrack=2', /conntrack is given twice/);
    refused('conntrack=1,', /'' is not NAME=N/);
  });
});

describe('parsePreallocate', () => {
  it('turns preallocation of the endpoints map on by name, off when empty', () => {
    expect(parsePreallocate('')).toBe(false);
    expect(parsePreallocate('  ')).toBe(false);
    expect(parsePreallocate('endpoints')).toBe(true);
    expect(parsePreallocate(' endpoints ')).toBe(true);
  });

  it('refuses any other map, naming the option and what it can preallocate', () => {
    for (const text of ['conntrack', 'networks', 'endpoints,conntrack', 'yes', '1']) {
      let err: unknown;
      try {
        parsePreallocate(text, 'XVPC_TRANSITD_PREALLOCATE');
      } catch (e) {
        err = e;
      }
      expect(err, text).toBeInstanceOf(XvpcError);
      expect((err as XvpcError).code).toBe('INVALID_ARGUMENT');
      expect((err as XvpcError).message).toMatch(/^XVPC_TRANSITD_PREALLOCATE: '.*' cannot be preallocated \(only: endpoints\)$/);
    }
  });
});
