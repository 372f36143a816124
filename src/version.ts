// The package's version, read from its package.json (one home for the fact).
import { readFileSync } from 'node:fs';

/** src/version.ts and dist/version.js both sit one level below the package root. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
