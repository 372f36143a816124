// Fencing on the host's side. Controllers that share etcd lead in turns; each
// leadership has a term (the etcd revision at which it took the leader key:
// a later leader's is always higher), and a leader sends its term with every
// call (gRPC metadata FENCE_HEADER). This transitd keeps the highest term it
// has heard (on disk, so a restart keeps it) and refuses a change whose term
// is lower: a leader that lost its lease in the middle of a call (paused,
// cut off from etcd) cannot program the host against its successor once the
// successor has reached the host, which its first reconcile does. Reads
// raise the floor too and are never refused. Calls without a term (one
// controller with the embedded store, the CLI's raw records) are not fenced.
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { XvpcError, invalid } from '../errors.js';
import { writePrivateFileDurably } from '../util/private-fs.js';

/** The metadata key a controller's term travels in (decimal). */
export const FENCE_HEADER = 'xvpc-fence';

const FORMAT = 'xvpc-fence/1';

/** A term as the header carries it: a positive integer JavaScript counts exactly; INVALID_ARGUMENT otherwise. */
export function parseTerm(text: string): number {
  const n = /^[1-9]\d{0,15}$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw invalid(`${FENCE_HEADER}: '${text.slice(0, 40)}' is not a leader term (a positive integer)`);
  return n;
}

export class HostFence {
  private floor: number;

  /** path: where the highest term is kept (root's, 0600); absent: none heard yet. */
  constructor(readonly path: string) {
    this.floor = HostFence.read(path);
  }

  /** The highest term heard (0: none). */
  get term(): number { return this.floor; }

  /** A call arrived with `term`: a higher one becomes the floor, durably, before the call is served. */
  heard(term: number): void {
    if (term <= this.floor) return;
    writePrivateFileDurably(this.path, JSON.stringify({ format: FORMAT, term }));
    this.floor = term;
  }

  /** Before a change runs: FAILED_PRECONDITION when its controller's term is older than one this host has heard. */
  admit(term: number | undefined, method: string): void {
    if (term === undefined || term >= this.floor) return;
    throw new XvpcError('FAILED_PRECONDITION', `${method} refused: its controller's leadership (term ${term}) has ended; `
      + `a later leader (term ${this.floor}) programs this host`);
  }

  private static read(path: string): number {
    if (!existsSync(path)) return 0;
    const st = lstatSync(path);
    if (!st.isFile() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
      throw new XvpcError('FAILED_PRECONDITION', `fence ${path}: not a private file of this user (owner uid ${st.uid}, `
        + `mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}), so not one transitd wrote; inspect it, then remove it to start anyway`);
    }
    let doc: { format?: unknown; term?: unknown };
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new XvpcError('FAILED_PRECONDITION', `fence ${path}: not readable (${(err as Error).message}); inspect it, then remove it to start anyway`);
    }
    if (doc.format !== FORMAT || typeof doc.term !== 'number' || !Number.isSafeInteger(doc.term) || doc.term < 0) {
      throw new XvpcError('FAILED_PRECONDITION', `fence ${path}: not a ${FORMAT} file; inspect it, then remove it to start anyway`);
    }
    return doc.term;
  }
}
