// Root-free: the call gate's counting and the tolerant request decoding.
import { describe, expect, it } from 'vitest';
import { TransitService } from '../../src/gen/transit.js';
import { CallGate, tolerantDefinition, Undecodable } from '../../src/transitd/limits.js';

describe('CallGate', () => {
  it('admits up to its limit, then refuses until a call leaves', () => {
    const g = new CallGate(2);
    expect([g.enter(), g.enter(), g.enter()]).toEqual([true, true, false]);
    expect(g.current).toBe(2);
    g.leave();
    expect(g.enter()).toBe(true);
    expect(g.enter()).toBe(false);
  });
});

describe('tolerantDefinition', () => {
  const def = tolerantDefinition(TransitService);
  it('decodes valid requests as before', () => {
    const bytes = TransitService.createVpc.requestSerialize({ vni: 5, routers: ['10.0.0.1'] });
    expect(def.createVpc.requestDeserialize(bytes)).toEqual({ vni: 5, routers: ['10.0.0.1'], directPath: false });
  });
  it('turns bytes that do not decode into an Undecodable naming the method', () => {
    const r = def.createVpc.requestDeserialize(Buffer.from([0x0f]));
    expect(r).toBeInstanceOf(Undecodable);
    expect((r as unknown as Undecodable).method).toBe('createVpc');
    expect(() => TransitService.createVpc.requestDeserialize(Buffer.from([0x0f]))).toThrow();
  });
});
