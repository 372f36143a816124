// Fencing on the host's side. A store has an epoch (an id drawn when it is
// made: the embedded store's file, an etcd keyspace's first leader; an etcd
// replaced by an empty one draws anew). Controllers that share etcd lead in
// turns, each leadership with a term (the etcd revision at which it took the
// leader key: a later leader's is always higher); the embedded store's one
// controller has term 1. A controller sends both with every call (gRPC
// metadata FENCE_HEADER, "<epoch>/<term>"). This transitd keeps the epoch of
// the first change it admits and the highest term of that epoch it has heard
// (on disk, so a restart keeps them), and refuses a change of an older term
// or another epoch: a leader that lost its lease in the middle of a call
// (paused, cut off from etcd) cannot program the host against its successor
// once the successor has reached the host, which its first reconcile does;
// and the controllers of another store (a wrong --store, an etcd restarted
// empty) cannot wipe the host to match theirs. Reads raise the term within
// the kept epoch and are never refused, nor do they claim a host. Calls
// without a fence (the memory store's controllers, the CLI's raw records)
// are not fenced.
import { XvpcError, invalid } from '../errors.js';
import { readOwnPrivateJson, writePrivateFileDurably } from '../util/private-fs.js';

/** The metadata key a controller's fence travels in: "<epoch>/<term>". */
export const FENCE_HEADER = 'xvpc-fence';

/** A leadership: the store's epoch, and the term within it. */
export interface FenceToken { epoch: string; term: number }

const FORMAT = 'xvpc-fence/1';
const EPOCH = /^[A-Za-z0-9-]{1,64}$/;

/** The header's text for a token. */
export const fenceText = (f: FenceToken): string => `${f.epoch}/${f.term}`;

/** Whether `s` can be a store's epoch. */
export const isEpoch = (s: string): boolean => EPOCH.test(s);

/** A fence as the header carries it: INVALID_ARGUMENT unless an epoch (letters, digits, '-') and a positive integer term. */
export function parseFence(text: string): FenceToken {
  const slash = text.indexOf('/');
  const epoch = text.slice(0, Math.max(slash, 0));
  const term = /^[1-9]\d{0,15}$/.test(text.slice(slash + 1)) ? Number(text.slice(slash + 1)) : NaN;
  if (slash < 0 || !EPOCH.test(epoch) || !Number.isSafeInteger(term)) {
    throw invalid(`${FENCE_HEADER}: '${text.slice(0, 80)}' is not <epoch>/<term> (an id of letters, digits and '-', and a positive integer)`);
  }
  return { epoch, term };
}

export class HostFence {
  private kept: FenceToken | undefined;

  /** path: where the fence is kept (root's, 0600); absent: none heard yet. */
  constructor(readonly path: string) {
    this.kept = HostFence.read(path);
  }

  /** The store epoch and highest term heard, if any. */
  get token(): FenceToken | undefined { return this.kept; }

  /**
   * A call arrived with `f`: a higher term of the kept epoch becomes the
   * floor, durably, before the call is served. Never claims a host (a read
   * with a mistyped --store must not). Best effort: a fence that cannot be
   * written (a full disk) does not stop a read.
   */
  heard(f: FenceToken): void {
    if (!this.kept || f.epoch !== this.kept.epoch || f.term <= this.kept.term) return;
    try {
      this.keep(f);
    } catch (err) {
      console.error(`transitd: fence ${this.path}: ${(err as Error).message}`);
    }
  }

  /**
   * Before a change runs: FAILED_PRECONDITION when its controller's
   * leadership is older than one heard, or of another store. An admitted
   * change's fence is kept (the first one claims the host); UNAVAILABLE when
   * that cannot be written.
   */
  admit(f: FenceToken | undefined, method: string): void {
    const kept = this.kept;
    if (f === undefined) return;
    if (kept && f.epoch !== kept.epoch) {
      throw new XvpcError('FAILED_PRECONDITION', `${method} refused: this host is programmed by the controllers of another store `
        + `(epoch ${kept.epoch}; this call's is ${f.epoch}): a --store other than the one that made these hosts, an etcd replaced `
        + `by an empty one, or another deployment; to hand the host over on purpose, stop its transitd, remove ${this.path}, start it`);
    }
    if (kept && f.term < kept.term) {
      throw new XvpcError('FAILED_PRECONDITION', `${method} refused: its controller's leadership (term ${f.term}) has ended; `
        + `a later leader (term ${kept.term}) programs this host (an etcd restored from a snapshot goes back in revisions: `
        + 'restore it with etcdutl snapshot restore --bump-revision)');
    }
    if (kept && f.term === kept.term) return;
    try {
      this.keep(f);
    } catch (err) {
      throw new XvpcError('UNAVAILABLE', `${method} not started: fence ${this.path} could not be written (${(err as Error).message})`);
    }
  }

  private keep(f: FenceToken): void {
    writePrivateFileDurably(this.path, JSON.stringify({ format: FORMAT, epoch: f.epoch, term: f.term }));
    this.kept = { epoch: f.epoch, term: f.term };
  }

  private static read(path: string): FenceToken | undefined {
    const doc = readOwnPrivateJson(path, 'fence') as { format?: unknown; epoch?: unknown; term?: unknown } | undefined;
    if (doc === undefined) return undefined;
    if (doc.format !== FORMAT || typeof doc.epoch !== 'string' || !EPOCH.test(doc.epoch)
      || typeof doc.term !== 'number' || !Number.isSafeInteger(doc.term) || doc.term < 1) {
      throw new XvpcError('FAILED_PRECONDITION', `fence ${path}: not a ${FORMAT} file; inspect it, then remove it to start anyway`);
    }
    return { epoch: doc.epoch, term: doc.term };
  }
}
