// The goal-state journal: before a goal state's first write, transitd records
// on disk (fsynced, 0600) every record the batch will touch as it was. A
// transitd killed mid-batch finds the journal at its next start and puts those
// records back before it serves anything, so a batch is all-or-nothing across
// a crash too. A finished or rolled-back batch removes the journal.
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { XvpcError } from '../errors.js';
import { fsyncDir, readOwnPrivateJson, writePrivateFileDurably } from '../util/private-fs.js';

/** One touched record: its kind, its key, and its value before the batch (null: absent). */
export interface UndoEntry<K extends string = string> { kind: K; key: unknown; old: unknown }

const FORMAT = 'xvpc-goal-journal/1';

export class GoalStateJournal {
  constructor(readonly path: string) {}

  /** Durably records how to undo the batch about to be applied. */
  begin(entries: readonly UndoEntry[]): void {
    writePrivateFileDurably(this.path, JSON.stringify({ format: FORMAT, entries }));
  }

  /** The batch is complete or rolled back: forget it (durably). */
  end(): void {
    rmSync(this.path, { force: true });
    fsyncDir(dirname(this.path));
  }

  /**
   * The undo entries a crashed transitd left, or null. The journal is written
   * by rename, so it is whole or absent; anything else is refused rather than
   * guessed at.
   */
  pending(): UndoEntry[] | null {
    rmSync(`${this.path}.tmp`, { force: true }); // a begin() cut short: no write had started
    // Its entries become map records: only a file transitd itself wrote (root's, 0600) is believed.
    const doc = readOwnPrivateJson(this.path, 'journal') as { format?: unknown; entries?: unknown } | undefined;
    if (doc === undefined) return null;
    if (doc.format !== FORMAT || !Array.isArray(doc.entries)) {
      throw new XvpcError('FAILED_PRECONDITION', `journal ${this.path}: not a ${FORMAT} journal; inspect it, then remove it to start anyway`);
    }
    return doc.entries as UndoEntry[];
  }
}

/**
 * Test hook: XVPC_TEST_CRASH_AFTER_RECORDS=N makes transitd SIGKILL itself
 * after writing the Nth record of a goal state, as a crash would.
 */
export function crashHook(): ((written: number) => void) | undefined {
  const raw = process.env.XVPC_TEST_CRASH_AFTER_RECORDS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`XVPC_TEST_CRASH_AFTER_RECORDS must be a count, not '${raw}'`);
  return (written) => { if (written >= n) process.kill(process.pid, 'SIGKILL'); };
}
