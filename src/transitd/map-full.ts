// A map write the kernel refused because the map is full (E2BIG) is no bug of
// transitd's (INTERNAL) but a state the caller can change: FAILED_PRECONDITION,
// naming the map and what makes room. A refusal of transitd's own keeps its
// code; any other refusal of a batch is INTERNAL.
import { XvpcError } from '../errors.js';

const E2BIG = 7;

/** The FAILED_PRECONDITION for `err` if it says a map is full; undefined otherwise. `what`: the write that was refused. */
export function mapFullError(err: unknown, what: string): XvpcError | undefined {
  const e = err as { code?: unknown; errno?: unknown; message?: unknown } | null;
  if (!e || (e.code !== 'E2BIG' && e.errno !== E2BIG)) return undefined;
  const name = /map '([^']+)'/.exec(String(e.message))?.[1] ?? 'of the data path';
  return new XvpcError('FAILED_PRECONDITION', `${what}: map ${name} is full (delete records, or start transitd with a larger `
    + `--capacity ${name}=N); nothing of this call was applied`);
}

/**
 * The error of a batch that was refused and rolled back (`what` says which): a
 * full map, a refusal of transitd's own (its code kept), or INTERNAL.
 */
export const notAppliedError = (err: unknown, what: string): XvpcError =>
  mapFullError(err, what)
  ?? (err instanceof XvpcError ? new XvpcError(err.code, `${what}: ${err.message}`) : new XvpcError('INTERNAL', `${what}: ${(err as Error).message}`));
