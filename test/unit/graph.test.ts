// The staged task graph, without root: ordering, the parallelism bound,
// retries with back-off, masks, and failures that name stage and object.
import { describe, expect, it } from 'vitest';
import { CancelledError, StageError, runGraph, validateGraph, type Stage } from '../../src/scenario/graph.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A stage of n tasks that log start/end into `log`. */
function stage(name: string, n: number, log: string[], after: string[] = [], extra: Partial<Stage> = {}): Stage {
  return {
    name, after,
    tasks: () => Array.from({ length: n }, (_, i) => ({
      object: `${name}#${i}`,
      run: async () => { log.push(`start ${name}#${i}`); await tick(); log.push(`end ${name}#${i}`); },
    })),
    ...extra,
  };
}

describe('runGraph', () => {
  it('starts a stage only after everything it depends on has ended', async () => {
    const log: string[] = [];
    await runGraph([stage('c', 2, log, ['a', 'b']), stage('a', 3, log), stage('b', 2, log, ['a'])]);
    const first = (s: string) => log.findIndex((l) => l.startsWith(`start ${s}`));
    const last = (s: string) => log.map((l, i) => (l.startsWith(`end ${s}`) ? i : -1)).reduce((a, b) => Math.max(a, b));
    expect(first('b')).toBeGreaterThan(last('a'));
    expect(first('c')).toBeGreaterThan(last('b'));
    expect(log.filter((l) => l.startsWith('end')).length).toBe(7);
  });

  it('never runs more tasks at once than the bound, across stages', async () => {
    let now = 0;
    let peak = 0;
    const busy = (name: string): Stage => ({
      name,
      tasks: () => Array.from({ length: 10 }, (_, i) => ({
        object: `${name}${i}`,
        run: async () => { now++; peak = Math.max(peak, now); await tick(); await tick(); now--; },
      })),
    });
    await runGraph([busy('x'), busy('y'), busy('z')], { parallelism: 3 });
    expect(peak).toBe(3);
    peak = 0;
    await runGraph([{ ...busy('x'), parallelism: 2 }], { parallelism: 8 });
    expect(peak).toBe(2);
  });

  it('retries a failing task with doubling back-off, then succeeds', async () => {
    const waits: number[] = [];
    let tries = 0;
    const timings = await runGraph([{
      name: 'flaky', retry: { attempts: 4, backoffMs: 10 },
      tasks: () => [{ object: 'thing', run: async () => { if (++tries < 3) throw new Error('busy'); } }],
    }], { sleep: async (ms) => { waits.push(ms); } });
    expect(tries).toBe(3);
    expect(waits).toEqual([10, 20]);
    expect(timings[0]).toMatchObject({ name: 'flaky', status: 'done', retries: 2, tasks: 1 });
  });

  it('does not retry an error the policy calls permanent', async () => {
    let tries = 0;
    const err = await runGraph([{
      name: 'st', retry: { attempts: 5, backoffMs: 1, transient: (e) => (e as Error).message === 'busy' },
      tasks: () => [{ object: 'obj', run: async () => { tries++; throw new Error('bad input'); } }],
    }], { sleep: async () => undefined }).catch((e: unknown) => e);
    expect(tries).toBe(1);
    expect(err).toBeInstanceOf(StageError);
  });

  it('names the stage and object of a failure and starts nothing after it', async () => {
    const log: string[] = [];
    const err = await runGraph([
      stage('a', 1, log),
      { name: 'b', after: ['a'], parallelism: 1, tasks: () => [
        { object: 'endpoint 10.0.0.2', run: async () => { throw new Error('no such host'); } },
        { object: 'endpoint 10.0.0.3', run: async () => { log.push('ran 10.0.0.3'); } },
      ] },
      stage('c', 1, log, ['b']),
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StageError);
    const se = err as StageError;
    expect(se.stage).toBe('b');
    expect(se.object).toBe('endpoint 10.0.0.2');
    expect(se.message).toBe('stage b: endpoint 10.0.0.2: no such host');
    expect(log).not.toContain('ran 10.0.0.3');
    expect(log.some((l) => l.includes('c#'))).toBe(false);
    expect(se.timings.map((t) => [t.name, t.status])).toEqual([['a', 'done'], ['b', 'failed'], ['c', 'cancelled']]);
  });

  it('masks: skip leaves dependents running; only runs just the named stages', async () => {
    const log: string[] = [];
    const t = await runGraph([stage('a', 1, log), stage('b', 1, log, ['a']), stage('c', 1, log, ['b'])], { skip: ['b'] });
    expect(t.map((x) => x.status)).toEqual(['done', 'skipped', 'done']);
    expect(log.some((l) => l.includes('b#'))).toBe(false);
    log.length = 0;
    const u = await runGraph([stage('a', 1, log), stage('b', 1, log, ['a']), stage('c', 1, log, ['b'])], { only: ['c'] });
    expect(u.map((x) => x.status)).toEqual(['skipped', 'skipped', 'done']);
    expect(log).toEqual(['start c#0', 'end c#0']);
  });

  it('stops starting tasks once its signal aborts', async () => {
    const ac = new AbortController();
    let ran = 0;
    const err = await runGraph([{
      name: 's', parallelism: 1,
      tasks: () => Array.from({ length: 5 }, (_, i) => ({ object: `t${i}`, run: async () => { ran++; if (i === 1) ac.abort(); } })),
    }], { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(ran).toBe(2);
  });

  it('rejects cycles, unknown dependencies and unknown mask names', () => {
    const s = (name: string, after: string[] = []): Stage => ({ name, after, tasks: () => [] });
    expect(() => validateGraph([s('a', ['b']), s('b', ['a'])])).toThrow(/cycle among a, b/);
    expect(() => validateGraph([s('a', ['nope'])])).toThrow(/stage a: depends on unknown stage 'nope'/);
    expect(() => validateGraph([s('a')], { skip: ['zzz'] })).toThrow(/no stage named 'zzz'/);
    expect(() => validateGraph([s('a'), s('a')])).toThrow(/named twice/);
  });
});
