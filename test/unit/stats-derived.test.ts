// The RX counters the programs no longer write: each is the sum of its
// program's verdicts (src/abi/stats.ts), and nothing else is derived.
import { describe, expect, it } from 'vitest';
import { STAT_DERIVED, STAT_NAMES, withDerivedStats, type Stats } from '../../src/abi/index.js';

const zero = (): Stats => Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as Stats;

describe('derived counters', () => {
  it('reads transit_rx and agent_rx as the sums of their verdicts', () => {
    const read = { ...zero(), transit_pass: 2, transit_tx: 3, transit_redirect: 5, transit_drop: 7, agent_tx: 11, agent_drop: 13, switch_fwd: 3 };
    const s = withDerivedStats(read);
    expect(s.transit_rx).toBe(17);
    expect(s.agent_rx).toBe(24);
    expect(s.switch_fwd).toBe(3);
  });

  it('ignores what a derived slot held (the programs never write it) and keeps every other counter', () => {
    const read = { ...zero(), transit_rx: 99, agent_rx: 99, drop_ttl: 4, transit_drop: 4 };
    const s = withDerivedStats(read);
    expect(s).toEqual({ ...read, transit_rx: 4, agent_rx: 0 });
  });

  it('derives only from counters the programs write', () => {
    expect(Object.keys(STAT_DERIVED).sort()).toEqual(['agent_rx', 'transit_rx']);
    for (const parts of Object.values(STAT_DERIVED)) {
      for (const p of parts!) {
        expect(STAT_NAMES).toContain(p);
        expect(STAT_DERIVED[p]).toBeUndefined();
      }
    }
  });
});
