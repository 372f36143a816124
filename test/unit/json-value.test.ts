// sameJson and copyJson: the Controller's record comparison (JSON.stringify equality without the strings) and model copy.
import { describe, expect, it } from 'vitest';
import { copyJson, sameJson } from '../../src/util/json-value.js';

describe('sameJson', () => {
  it('agrees with JSON.stringify on equal and different records', () => {
    const rec = { vni: 7, ip: '10.0.0.1', type: 1, backends: ['10.0.0.2', '10.0.0.3'], rules: [{ protocol: 6, ports: '80' }], on: true, none: null };
    expect(sameJson(rec, structuredClone(rec))).toBe(true);
    for (const [k, v] of Object.entries({ vni: 8, ip: '10.0.0.9', type: '1', backends: ['10.0.0.2'], rules: [{ protocol: 6, ports: '81' }], on: false, none: 0 })) {
      expect(sameJson(rec, { ...rec, [k]: v }), k).toBe(false);
    }
    expect(sameJson(rec, { ...rec, extra: 1 })).toBe(false);
    expect(sameJson({ ...rec, extra: 1 }, rec)).toBe(false);
  });

  it('takes an undefined property as absent, as JSON does, and ignores key order', () => {
    expect(sameJson({ a: 1, host: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, host: undefined })).toBe(true);
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson({ a: undefined }, { a: null })).toBe(false);
  });

  it('tells arrays from objects and lengths apart', () => {
    expect(sameJson([1, 2], [1, 2, 3])).toBe(false);
    expect(sameJson([], {})).toBe(false);
    expect(sameJson({ 0: 'x' }, ['x'])).toBe(false);
    expect(sameJson(null, {})).toBe(false);
    expect(sameJson(NaN, Infinity)).toBe(true); // both null in JSON
  });
});

describe('copyJson', () => {
  it('copies deeply: changing the copy leaves the original as it was', () => {
    const v = { vni: 7, routers: ['h1'], rules: [{ protocol: 6, ports: '80' }], host: undefined, none: null };
    const c = copyJson(v);
    expect(c).toEqual(v);
    c.routers.push('h2');
    c.rules[0].ports = '81';
    expect(v).toEqual({ vni: 7, routers: ['h1'], rules: [{ protocol: 6, ports: '80' }], host: undefined, none: null });
    expect(sameJson(copyJson(v), v)).toBe(true);
  });
});
