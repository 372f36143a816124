// A staged task graph (Merge's materialization, containerlab's deploy): stages
// with dependencies, each a list of tasks on named objects; tasks run with
// bounded parallelism across the whole graph, transient failures are retried
// with back-off, masks pick the stages to run, and every stage is timed.
// A failure names its stage and object; once one task fails (or the signal
// aborts) no new task starts, running ones finish, and the graph rejects.
import { XvpcError } from '../errors.js';

export interface Task {
  /** the object it works on, as messages name it: 'droplet left', 'endpoint 10.0.0.2' */
  object: string;
  run(): Promise<void>;
}

export interface RetryPolicy {
  /** attempts in all (1 = no retry) */
  attempts: number;
  /** first back-off; doubles each time */
  backoffMs: number;
  /** which errors are worth another try; default every error */
  transient?: (err: unknown) => boolean;
}

export interface Stage {
  name: string;
  after?: string[];
  /** the stage's tasks, built when the stage starts (earlier stages may have made what they need) */
  tasks(): Task[] | Promise<Task[]>;
  /** at most this many of this stage's tasks at once (the graph's bound applies too) */
  parallelism?: number;
  retry?: RetryPolicy;
}

export type StageStatus = 'done' | 'skipped' | 'failed' | 'cancelled' | 'pending';

export interface StageTiming {
  name: string;
  status: StageStatus;
  tasks: number;
  retries: number;
  /** ms since the graph started */
  startMs?: number;
  durationMs?: number;
}

export interface GraphOptions {
  /** tasks at once across all stages; default 8 */
  parallelism?: number;
  /** run only these stages (and nothing else); default all */
  only?: string[];
  /** skip these stages; their dependents still run */
  skip?: string[];
  signal?: AbortSignal;
  /** told of every stage start/finish and task completion */
  onProgress?: (event: ProgressEvent) => void;
  /** for tests: how to wait between retries */
  sleep?: (ms: number) => Promise<void>;
}

export type ProgressEvent =
  | { kind: 'stage-start'; stage: string; total: number }
  | { kind: 'task-done'; stage: string; done: number; total: number }
  | { kind: 'retry'; stage: string; object: string; attempt: number; error: string }
  | { kind: 'stage-end'; stage: string; status: StageStatus; durationMs: number };

/** A task that failed: names the stage and the object. */
export class StageError extends XvpcError {
  constructor(readonly stage: string, readonly object: string, readonly reason: unknown, readonly timings: StageTiming[]) {
    const why = reason instanceof Error ? reason.message : String(reason);
    super(reason instanceof XvpcError ? reason.code : 'INTERNAL', `stage ${stage}: ${object}: ${why}`);
  }
}

/** The graph stopped because its signal aborted. */
export class CancelledError extends XvpcError {
  constructor(readonly timings: StageTiming[]) {
    super('FAILED_PRECONDITION', 'cancelled: no new task started after the interrupt');
  }
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Checks the stages: unique names, known dependencies, no cycle, known mask names. */
export function validateGraph(stages: Stage[], opts: Pick<GraphOptions, 'only' | 'skip'> = {}): void {
  const names = new Set<string>();
  for (const s of stages) {
    if (names.has(s.name)) throw new XvpcError('INVALID_ARGUMENT', `stage ${s.name}: named twice`);
    names.add(s.name);
  }
  for (const s of stages) {
    for (const d of s.after ?? []) {
      if (!names.has(d)) throw new XvpcError('INVALID_ARGUMENT', `stage ${s.name}: depends on unknown stage '${d}'`);
    }
  }
  for (const m of [...(opts.only ?? []), ...(opts.skip ?? [])]) {
    if (!names.has(m)) throw new XvpcError('INVALID_ARGUMENT', `mask: no stage named '${m}' (stages: ${[...names].join(', ')})`);
  }
  // Cycle check: repeatedly remove stages whose dependencies are all removed.
  const left = new Map(stages.map((s) => [s.name, new Set(s.after ?? [])]));
  while (left.size) {
    const free = [...left].filter(([, deps]) => [...deps].every((d) => !left.has(d))).map(([n]) => n);
    if (!free.length) throw new XvpcError('INVALID_ARGUMENT', `stages: dependency cycle among ${[...left.keys()].join(', ')}`);
    for (const n of free) left.delete(n);
  }
}

/** A counting semaphore: the graph-wide bound on tasks at once. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async take(): Promise<void> {
    if (this.free > 0) { this.free--; return; }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  give(): void {
    const next = this.waiting.shift();
    if (next) next(); else this.free++;
  }
}

/** Runs the graph; resolves with per-stage timings, or rejects with StageError / CancelledError. */
export async function runGraph(stages: Stage[], opts: GraphOptions = {}): Promise<StageTiming[]> {
  validateGraph(stages, opts);
  const parallelism = opts.parallelism ?? 8;
  if (!Number.isInteger(parallelism) || parallelism < 1) throw new XvpcError('INVALID_ARGUMENT', `parallelism: ${parallelism} is not an integer >= 1`);
  const sleep = opts.sleep ?? defaultSleep;
  const emit = opts.onProgress ?? (() => undefined);
  const slots = new Slots(parallelism);
  const t0 = performance.now();
  const timings = new Map<string, StageTiming>(stages.map((s) => [s.name, { name: s.name, status: 'pending', tasks: 0, retries: 0 }]));
  const masked = (s: Stage) => (opts.only && !opts.only.includes(s.name)) || (opts.skip?.includes(s.name) ?? false);
  let failure: StageError | undefined;
  const stopped = () => failure !== undefined || (opts.signal?.aborted ?? false);

  const runTask = async (stage: Stage, task: Task, timing: StageTiming): Promise<void> => {
    const retry = stage.retry ?? { attempts: 1, backoffMs: 0 };
    for (let attempt = 1; ; attempt++) {
      try {
        await task.run();
        return;
      } catch (err) {
        const again = attempt < retry.attempts && (retry.transient?.(err) ?? true) && !stopped();
        if (!again) throw err;
        timing.retries++;
        emit({ kind: 'retry', stage: stage.name, object: task.object, attempt, error: err instanceof Error ? err.message : String(err) });
        await sleep(retry.backoffMs * 2 ** (attempt - 1));
      }
    }
  };

  const runStage = async (stage: Stage): Promise<void> => {
    const timing = timings.get(stage.name)!;
    if (masked(stage)) { timing.status = 'skipped'; return; }
    if (stopped()) { timing.status = 'cancelled'; return; }
    const start = performance.now();
    timing.startMs = start - t0;
    let tasks: Task[];
    try {
      tasks = await stage.tasks();
    } catch (err) {
      failure ??= new StageError(stage.name, 'its task list', err, []);
      timing.status = 'failed';
      return;
    }
    timing.tasks = tasks.length;
    emit({ kind: 'stage-start', stage: stage.name, total: tasks.length });
    let next = 0;
    let done = 0;
    const worker = async () => {
      while (next < tasks.length && !stopped()) {
        const task = tasks[next++];
        await slots.take();
        try {
          if (stopped()) return;
          await runTask(stage, task, timing);
          emit({ kind: 'task-done', stage: stage.name, done: ++done, total: tasks.length });
        } catch (err) {
          failure ??= new StageError(stage.name, task.object, err, []);
          if (failure.stage === stage.name) timing.status = 'failed';
        } finally {
          slots.give();
        }
      }
    };
    const width = Math.max(1, Math.min(stage.parallelism ?? parallelism, tasks.length));
    await Promise.all(Array.from({ length: width }, worker));
    timing.durationMs = performance.now() - start;
    if (timing.status !== 'failed') timing.status = done === tasks.length ? 'done' : 'cancelled';
    emit({ kind: 'stage-end', stage: stage.name, status: timing.status, durationMs: timing.durationMs });
  };

  // Each stage starts once all it depends on have settled (done or skipped).
  const started = new Map<string, Promise<void>>();
  const start = (stage: Stage): Promise<void> => {
    let p = started.get(stage.name);
    if (!p) {
      const deps = (stage.after ?? []).map((d) => start(stages.find((s) => s.name === d)!));
      p = Promise.all(deps).then(() => {
        const blocked = (stage.after ?? []).some((d) => !['done', 'skipped'].includes(timings.get(d)!.status));
        if (blocked) { timings.get(stage.name)!.status = 'cancelled'; return undefined; }
        return runStage(stage);
      });
      started.set(stage.name, p);
    }
    return p;
  };
  await Promise.all(stages.map(start));

  const result = stages.map((s) => timings.get(s.name)!);
  if (failure) throw new StageError(failure.stage, failure.object, failure.reason, result);
  if (opts.signal?.aborted) throw new CancelledError(result);
  return result;
}
