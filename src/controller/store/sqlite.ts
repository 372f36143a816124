// The embedded store: one SQLite file (better-sqlite3), kept in the droplets'
// run directory. Every commit is one IMMEDIATE transaction (all or nothing,
// and one writer at a time across processes); WAL with synchronous=FULL makes a
// committed change survive the process being killed right after. Its epoch,
// drawn when the file is made, is what its controllers' calls carry to hosts.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { XvpcError } from '../../errors.js';
import { StaleStoreError, type Store, type StoreChange, type StoreSnapshot } from './store.js';
import type { FenceToken } from '../../transitd/client.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('version', 0);
CREATE TABLE IF NOT EXISTS identity (epoch TEXT NOT NULL);
`;

export class SqliteStore implements Store {
  readonly description: string;
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly del: Database.Statement;
  private readonly getVersion: Database.Statement;
  private readonly setVersion: Database.Statement;
  private readonly apply: (changes: StoreChange[], expect: number) => number;
  readonly fence: FenceToken;

  constructor(readonly path: string) {
    this.description = `sqlite:${path}`;
    let db: Database.Database | undefined;
    try {
      closeSync(openSync(path, 'a', 0o600)); // made root-only before SQLite opens it
      db = new Database(path, { timeout: 10_000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      // Drawn by whoever opens the file first (one statement: atomic against another process doing the same).
      db.prepare('INSERT INTO identity (epoch) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM identity)').run(randomUUID());
      this.fence = { epoch: db.prepare('SELECT epoch FROM identity').pluck().get() as string, term: 1 };
    } catch (err) {
      if (db?.open) db.close(); // a Controller tries again at its next call: no handle left per try
      throw new XvpcError('FAILED_PRECONDITION', `store ${path}: ${(err as Error).message}`);
    }
    this.db = db;
    this.put = this.db.prepare('INSERT INTO objects (kind, key, value) VALUES (?, ?, ?) ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value');
    this.del = this.db.prepare('DELETE FROM objects WHERE kind = ? AND key = ?');
    this.getVersion = this.db.prepare("SELECT value FROM meta WHERE name = 'version'").pluck();
    this.setVersion = this.db.prepare("UPDATE meta SET value = ? WHERE name = 'version'");
    this.apply = this.db.transaction((changes: StoreChange[], expect: number): number => {
      if (this.getVersion.get() !== expect) throw new StaleStoreError(this.description);
      for (const c of changes) {
        if (c.value === undefined) this.del.run(c.kind, c.key);
        else this.put.run(c.kind, c.key, JSON.stringify(c.value));
      }
      this.setVersion.run(expect + 1);
      return expect + 1;
    }).immediate;
  }

  async load(): Promise<StoreSnapshot> {
    // One read transaction: the objects and their version agree.
    return this.sql(() => this.db.transaction(() => ({
      version: this.getVersion.get() as number,
      objects: (this.db.prepare('SELECT kind, key, value FROM objects').all() as { kind: string; key: string; value: string }[])
        .map((r) => ({ kind: r.kind, key: r.key, value: JSON.parse(r.value) })),
    }))());
  }

  async version(): Promise<number> { return this.sql(() => this.getVersion.get() as number); }

  async commit(changes: StoreChange[], expect: number): Promise<number> {
    return this.sql(() => this.apply(changes, expect));
  }

  /**
   * SQLite's failures after open (a file corrupted or taken away under it, a
   * lock held past the timeout) as XvpcError naming the store: UNAVAILABLE for
   * a busy database (a later call may pass), else FAILED_PRECONDITION.
   */
  private sql<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof XvpcError || err instanceof StaleStoreError) throw err;
      const code = (err as { code?: unknown }).code;
      const busy = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
      throw new XvpcError(busy ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', `store ${this.path}: ${(err as Error).message}${typeof code === 'string' ? ` (${code})` : ''}`);
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
