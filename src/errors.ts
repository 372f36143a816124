// XvpcError: every error the public API throws, with a gRPC-style code.
export type XvpcErrorCode =
  | 'INVALID_ARGUMENT' | 'NOT_FOUND' | 'ALREADY_EXISTS' | 'FAILED_PRECONDITION' | 'UNAVAILABLE' | 'INTERNAL';

export class XvpcError extends Error {
  constructor(readonly code: XvpcErrorCode, message: string) {
    super(message);
    this.name = 'XvpcError';
  }
}

export const invalid = (message: string): XvpcError => new XvpcError('INVALID_ARGUMENT', message);
export const notFound = (message: string): XvpcError => new XvpcError('NOT_FOUND', message);
export const alreadyExists = (message: string): XvpcError => new XvpcError('ALREADY_EXISTS', message);
export const failedPrecondition = (message: string): XvpcError => new XvpcError('FAILED_PRECONDITION', message);

/** err with its message put under `prefix` (an XvpcError naming `ip` becomes one naming `records[3].ip`); other errors as they are. */
export const atField = (err: unknown, prefix: string): unknown =>
  (err instanceof XvpcError ? new XvpcError(err.code, `${prefix}.${err.message}`) : err);
