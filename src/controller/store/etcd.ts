// The etcd store (npm etcd3): objects under <namespace>/obj/<kind>/<key>, the
// version under <namespace>/version, and leadership through a lease: the
// leader key <namespace>/leader holds the leading controller's id and lives
// only as long as its lease, so a controller killed with -9 loses it within the
// lease's TTL and a standby takes over. Every write is a transaction that
// first compares the leader key with this controller's id: a controller that
// lost its lease cannot write (fenced). Its leadership, sent with its calls to
// hosts (src/transitd/fence.ts), is the store's epoch (<namespace>/epoch, drawn
// once) and the revision at which it took the leader key. etcd caps a transaction's operations
// (--max-txn-ops, 128 by default): a large commit goes as several, written in
// the order modelChanges gives (kinds in dependency order); the first checks
// the version and the last, once every other has gone through, bumps it. So a
// reader that loads during such a commit may see part of it, but under the
// version before: once the commit ends the version moves, and a controller
// that compares versions (Controller.refresh) loads it again, whole. A leader
// killed mid-commit leaves part of it under the old version (the next leader
// takes the store as it finds it). Every etcd call answers within
// CALL_TIMEOUT_MS (a whole load within LOAD_TIMEOUT_MS, a commit 10 ms more per
// transaction) or fails UNAVAILABLE: an etcd that accepts connections and
// answers nothing (stopped, partitioned) would otherwise hold every call for
// as long. A commit past its deadline writes no more and bumps nothing; what
// it wrote before is under the old version, and its controller reads the
// store again before its next change (Controller.applyBatch).
import { randomUUID } from 'node:crypto';
import { Etcd3, type IRangeResponse, type Lease } from 'etcd3';
import { XvpcError } from '../../errors.js';
import { etcdHosts } from './etcd-url.js';
import type { Leadership } from './leadership.js';
import { isEpoch, type FenceToken } from '../../transitd/client.js';
import { StaleStoreError, type Store, type StoreChange, type StoreSnapshot, type StoredObject } from './store.js';

/** Operations per transaction: under etcd's default --max-txn-ops of 128, with room for the version. */
const OPS_PER_TXN = 100;
/** Transactions of one commit in flight at once. */
const PARALLEL_TXNS = 8;
/** Objects per read when loading. */
const LOAD_PAGE = 5000;
/** How often a standby looks whether the leader key is free. */
const CAMPAIGN_POLL_MS = 200;
/** How long one store call (a commit of any size included) may wait for etcd. */
const CALL_TIMEOUT_MS = 10_000;
/** More time a commit may take per transaction it needs (a million objects are 10,000 of them). */
const PER_TXN_MS = 10;
/** How long a whole load may take (in pages: a million objects take seconds). */
const LOAD_TIMEOUT_MS = 60_000;

export class EtcdStore implements Store, Leadership {
  readonly description: string;
  readonly id = randomUUID();
  private readonly client: Etcd3;
  private readonly ns: string;
  private lease: Lease | undefined;
  private isLeader = false;
  /** This controller's latest leadership (Leadership.fence): the epoch, and the etcd revision at which it took the leader key. */
  private leadership: FenceToken | undefined;
  private closed = false;
  private readonly listeners: ((leading: boolean) => void)[] = [];
  private campaignTimer: NodeJS.Timeout | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;
  /** No campaign before this (ms since epoch): set when a lease is lost (see tryLead). */
  private holdOffUntil = 0;
  /**
   * Until when (performance.now(): a monotonic clock, which goes on while
   * this process is stopped or stalled) the lease surely lives: what etcd
   * last said it had left, counted from when the question was sent
   * (watchLease). Past it this controller does not lead, even before the
   * 'lost' event: a process paused past its TTL (SIGSTOP, a long GC) wakes
   * up leading no more.
   */
  private leaseValidUntil = 0;

  /** namespace: keys go under it (a deployment's name: the droplets' prefix); ttlSeconds: the leader lease. */
  constructor(url: string, namespace: string, private readonly ttlSeconds = 5) {
    const hosts = etcdHosts(url);
    this.description = `${url}/${namespace}`;
    this.ns = `xvpc/${namespace}/`;
    this.client = new Etcd3({ hosts: hosts.map((h) => `http://${h}`), dialTimeout: 3000 });
  }

  private key(kind: string, key: string): string { return `${this.ns}obj/${kind}/${key}`; }
  private get versionKey(): string { return `${this.ns}version`; }
  private get leaderKey(): string { return `${this.ns}leader`; }
  private get epochKey(): string { return `${this.ns}epoch`; }

  get leading(): boolean { return this.isLeader && performance.now() < this.leaseValidUntil; }

  get fence(): FenceToken | undefined { return this.leadership; }

  get leaseMs(): number { return this.ttlSeconds * 1000; }

  onChange(fn: (leading: boolean) => void): void { this.listeners.push(fn); }

  /** Whether this controller leads within `ms` (a new one campaigns first; a standby waits for the leader to go). */
  async whenLeading(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.leading && !this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    return this.leading;
  }

  async leader(): Promise<string | undefined> {
    return (await this.call(() => this.client.get(this.leaderKey).string())) ?? undefined;
  }

  /** etcd failures as XvpcError UNAVAILABLE naming the store. */
  private async call<T>(fn: (expired: () => boolean) => Promise<T>, timeoutMs = CALL_TIMEOUT_MS): Promise<T> {
    if (this.closed) throw new XvpcError('FAILED_PRECONDITION', `${this.description}: store is closed`);
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    // fn is not cancelled at the deadline: a commit asks expired() before each write, so it stops there.
    const work = fn(() => late);
    work.catch(() => undefined); // past the deadline, its own failure is no one's to hear
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new XvpcError('UNAVAILABLE', `${this.description}: etcd did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      if (err instanceof XvpcError || err instanceof StaleStoreError) throw err;
      throw new XvpcError('UNAVAILABLE', `${this.description}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts campaigning for the leader key; onChange listeners hear the outcome. */
  startCampaign(): void {
    const tick = async () => {
      if (this.closed) return;
      try {
        if (!this.isLeader && Date.now() >= this.holdOffUntil) await this.tryLead();
      } catch {
        // etcd unreachable: try again at the next tick
      }
      if (!this.closed) this.campaignTimer = setTimeout(tick, CAMPAIGN_POLL_MS);
    };
    void tick();
  }

  private async tryLead(): Promise<void> {
    if (!this.lease) {
      const created = performance.now();
      const lease = this.client.lease(this.ttlSeconds);
      lease.grant().then(() => this.extendLease(created, this.ttlSeconds), () => undefined);
      lease.on('lost', () => {
        if (this.lease === lease) this.lease = undefined;
        // A controller that lost its lease (paused, cut off) stands back for one lease time, so a
        // standby that saw the leader key go takes over rather than racing it back.
        this.holdOffUntil = Date.now() + this.ttlSeconds * 1000;
        this.setLeading(false);
      });
      this.lease = lease;
      this.watchLease(lease);
    }
    const lease = this.lease;
    await this.call(async () => {
      const leaseId = await lease.grant();
      await this.client.if(this.leaderKey, 'Create', '==', 0)
        .then(this.client.put(this.leaderKey).value(this.id).lease(leaseId))
        .commit();
      // Ours: taken now, or by an earlier try on this lease whose later steps failed (one on an
      // older lease of ours runs out with that lease, so it is not leadership).
      const held = (await this.client.get(this.leaderKey).exec()).kvs[0];
      if (held?.value.toString() !== this.id || String(held.lease) !== String(leaseId)) return;
      await this.client.if(this.versionKey, 'Create', '==', 0).then(this.client.put(this.versionKey).value('0')).commit();
      // The store's epoch: drawn by its first leader. Revisions only grow within one etcd's keyspace:
      // whoever takes the key next takes it at a higher one; an etcd replaced by an empty one draws anew.
      await this.client.if(this.epochKey, 'Create', '==', 0).then(this.client.put(this.epochKey).value(randomUUID())).commit();
      const epoch = await this.client.get(this.epochKey).string();
      if (!epoch || !isEpoch(epoch)) {
        throw new XvpcError('FAILED_PRECONDITION', `${this.description}: ${this.epochKey} holds '${epoch ?? ''}', not a store epoch (letters, digits, '-'); not written by xvpc`);
      }
      this.leadership = { epoch, term: Number(held.create_revision) };
      this.setLeading(true);
    });
  }

  /** The lease surely lives until `sentAt` (when the question was sent) + what etcd said was left. */
  private extendLease(sentAt: number, remainingSeconds: number): void {
    if (remainingSeconds > 0) this.leaseValidUntil = Math.max(this.leaseValidUntil, sentAt + remainingSeconds * 1000);
  }

  /**
   * Asks etcd every third of the TTL how long the lease has left (etcd3's own
   * keep-alives renew it): each answer, counted from when its question was
   * sent, is a time the lease lives at least, whatever answer comes late or
   * from which stream. Stops with the lease.
   */
  private watchLease(lease: Lease): void {
    const tick = async () => {
      if (this.lease !== lease || this.closed) return;
      try {
        const id = await lease.grant();
        const sentAt = performance.now();
        const r = await this.client.leaseClient.leaseTimeToLive({ ID: id }, { deadline: Date.now() + CALL_TIMEOUT_MS });
        this.extendLease(sentAt, Number(r.TTL));
      } catch {
        // unanswered: the lease's validity runs out on its own; etcd3's 'lost' says when it is gone
      }
      if (this.lease === lease && !this.closed) this.leaseTimer = setTimeout(tick, (this.ttlSeconds * 1000) / 3);
    };
    void tick();
  }

  private setLeading(leading: boolean): void {
    if (leading === this.isLeader) return;
    this.isLeader = leading;
    for (const fn of this.listeners) fn(leading);
  }

  async load(): Promise<StoreSnapshot> {
    return this.call(async () => {
      // Objects and version read at one etcd revision.
      const head = await this.client.get(this.versionKey).exec();
      const revision = head.header.revision;
      const version = Number(head.kvs[0]?.value.toString() ?? '0');
      // In pages: one reply of every object would pass gRPC's message limit.
      // The next page is asked for before this one is parsed, so etcd reads
      // it while this process parses (at 100k objects each side took half the time).
      const objects: StoredObject[] = [];
      const base = `${this.ns}obj/`;
      const end = `${this.ns}obj0`; // '0' follows '/': the end of the prefix
      const pageFrom = (start: string): Promise<IRangeResponse> =>
        this.client.getAll().inRange({ start, end }).limit(LOAD_PAGE).revision(revision).exec();
      let next: Promise<IRangeResponse> | undefined = pageFrom(base);
      while (next) {
        const page: IRangeResponse = await next;
        const more: boolean = page.kvs.length === LOAD_PAGE;
        next = more ? pageFrom(`${page.kvs[page.kvs.length - 1].key.toString()}\0`) : undefined;
        next?.catch(() => undefined); // awaited at the next turn; not unhandled if parsing this page throws
        for (const kv of page.kvs) {
          const rest = kv.key.toString().slice(base.length);
          const slash = rest.indexOf('/');
          let value: unknown;
          try {
            value = JSON.parse(kv.value.toString());
          } catch (err) {
            throw new XvpcError('FAILED_PRECONDITION', `${this.description}: ${kv.key.toString()} is not JSON (${(err as Error).message}); not written by xvpc`);
          }
          objects.push({ kind: rest.slice(0, slash), key: rest.slice(slash + 1), value });
        }
      }
      return { objects, version };
    }, LOAD_TIMEOUT_MS);
  }

  async version(): Promise<number> {
    return this.call(async () => Number((await this.client.get(this.versionKey).string()) ?? '0'));
  }

  private notLeader(): XvpcError {
    return new XvpcError('UNAVAILABLE', `${this.description}: this controller does not lead (it stands by); its calls go to the leader`);
  }

  async commit(changes: StoreChange[], expect: number): Promise<number> {
    const txns = Math.ceil(changes.length / OPS_PER_TXN);
    return this.call(async (expired) => {
      if (!this.leading) throw this.notLeader();
      const op = (c: StoreChange) => (c.value === undefined
        ? this.client.delete().key(this.key(c.kind, c.key))
        : this.client.put(this.key(c.kind, c.key)).value(JSON.stringify(c.value)));
      const chunks: StoreChange[][] = [];
      for (let i = 0; i < changes.length; i += OPS_PER_TXN) chunks.push(changes.slice(i, i + OPS_PER_TXN));
      const fenced = () => this.client.if(this.leaderKey, 'Value', '==', this.id);
      const bump = this.client.put(this.versionKey).value(String(expect + 1));
      // One transaction: checked, written and the version bumped at once. Several: the version last.
      const whole = chunks.length <= 1;
      const first = await fenced().and(this.versionKey, 'Value', '==', String(expect))
        .then(...(whole ? [bump] : []), ...(chunks[0] ?? []).map(op))
        .commit();
      if (!first.succeeded) {
        if ((await this.client.get(this.leaderKey).string()) !== this.id) {
          this.setLeading(false);
          throw this.notLeader();
        }
        throw new StaleStoreError(this.description);
      }
      if (whole) return expect + 1;
      const lost = () => {
        this.setLeading(false);
        return this.notLeader();
      };
      let next = 1;
      // Past the deadline the caller has been told UNAVAILABLE: write no more, and never bump.
      const worker = async () => {
        while (next < chunks.length && !expired()) {
          const chunk = chunks[next++];
          const r = await fenced().then(...chunk.map(op)).commit();
          if (!r.succeeded) throw lost();
        }
      };
      await Promise.all(Array.from({ length: PARALLEL_TXNS }, worker));
      if (expired()) throw new XvpcError('UNAVAILABLE', `${this.description}: commit past its deadline, version not bumped`);
      // The version still the one this commit started from: no other commit went in meanwhile.
      const last = await fenced().and(this.versionKey, 'Value', '==', String(expect)).then(bump).commit();
      if (!last.succeeded) {
        if ((await this.client.get(this.leaderKey).string()) !== this.id) throw lost();
        throw new StaleStoreError(this.description);
      }
      return expect + 1;
    }, CALL_TIMEOUT_MS + txns * PER_TXN_MS);
  }

  /** Gives up leadership (revokes the lease, so a standby takes over at once) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.campaignTimer);
    clearTimeout(this.leaseTimer);
    const lease = this.lease;
    this.lease = undefined;
    this.setLeading(false);
    // A frozen etcd answers no revoke: the lease then ends with its TTL.
    await Promise.race([lease?.revoke().catch(() => undefined), new Promise((r) => setTimeout(r, CALL_TIMEOUT_MS).unref())]);
    this.closed = true;
    this.client.close();
  }
}
