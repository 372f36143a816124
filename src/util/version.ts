// xvpc's version: the package's, read once from package.json at the
// repository root (two levels up from src/util and from dist/util).
import { readFileSync } from 'node:fs';

export const XVPC_VERSION: string =
  (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
