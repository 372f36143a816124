// Fencing on the host's side. Controllers that share etcd lead in turns; each
// leadership has a term (the etcd revision at which it took the leader key:
// a later leader's is always higher) within the store's epoch (an id the
// store's first leader draws and keeps in etcd: an etcd replaced by an empty
// one gets a new epoch, and its revisions start again). A leader sends both
// with every call (gRPC metadata FENCE_HEADER, "<epoch>/<term>"). This
// transitd keeps the epoch and the highest term it has heard (on disk, so a
// restart keeps them) and refuses a change of an older term, or of another
// epoch: a leader that lost its lease in the middle of a call (paused, cut
// off from etcd) cannot program the host against its successor once the
// successor has reached the host, which its first reconcile does; and the
// controllers of another store (an etcd restarted empty) cannot wipe the host
// to match theirs. Reads raise the term too and are never refused. Calls
// without a fence (one controller with the embedded store, the CLI's raw
// records) are not fenced.
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

/** A fence as the header carries it; INVALID_ARGUMENT unless an epoch (letters, digits, '-') and a positive integer term. */
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

  /** A call arrived with `f`: the first fence, or a higher term of the same epoch, is kept, durably, before the call is served. */
  heard(f: FenceToken): void {
    if (this.kept && (f.epoch !== this.kept.epoch || f.term <= this.kept.term)) return;
    writePrivateFileDurably(this.path, JSON.stringify({ format: FORMAT, ...f }));
    this.kept = { ...f };
  }

  /** Before a change runs: FAILED_PRECONDITION when its controller's leadership is older than one heard, or of another store. */
  admit(f: FenceToken | undefined, method: string): void {
    const kept = this.kept;
    if (f === undefined || kept === undefined) return;
    if (f.epoch !== kept.epoch) {
      throw new XvpcError('FAILED_PRECONDITION', `${method} refused: this host is programmed by the controllers of another store `
        + `(epoch ${kept.epoch}; this call's is ${f.epoch}, an etcd replaced or another deployment); to hand the host over, `
        + `stop its transitd, remove ${this.path}, start it`);
    }
    if (f.term < kept.term) {
      throw new XvpcError('FAILED_PRECONDITION', `${method} refused: its controller's leadership (term ${f.term}) has ended; `
        + `a later leader (term ${kept.term}) programs this host`);
    }
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
