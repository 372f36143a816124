// How the transitd client words a failure (src/transitd/client.ts): a transitd
// it cannot reach is said plainly, without grpc-js's "Resolution note".
import { describe, expect, it } from 'vitest';
import { unreachableDetails } from '../../src/transitd/client.js';

describe('unreachableDetails', () => {
  it('says what the connection attempt met', () => {
    expect(unreachableDetails('No connection established. Last error: Error: connect ECONNREFUSED /run/xvpc/p/d.sock. Resolution note: '))
      .toBe('transitd does not answer (connect ECONNREFUSED /run/xvpc/p/d.sock)');
    expect(unreachableDetails('No connection established. Last error: Error: connect ENOENT /run/x.sock (2026-12-07T15:00:00.123Z)'))
      .toBe('transitd does not answer (connect ENOENT /run/x.sock)');
    expect(unreachableDetails('No connection established. Last error: Error: read ECONNRESET. Resolution note: name not resolved'))
      .toBe('transitd does not answer (read ECONNRESET; name not resolved)');
  });

  it('leaves other details as they are', () => {
    expect(unreachableDetails('keys: 7 bytes is not a whole number of 8-byte keys')).toBe('keys: 7 bytes is not a whole number of 8-byte keys');
  });
});
