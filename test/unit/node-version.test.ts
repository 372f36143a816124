// The Node.js running the tests is one package.json's engines admit; under
// `npm run test:node24` (XVPC_EXPECT_NODE=24) it is that major version, so
// the run proves what it claims to.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const engines = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines;
const major = Number(process.versions.node.split('.')[0]);

describe('Node.js version', () => {
  it('is one package.json engines admits (>=N)', () => {
    const minimum = /^>=(\d+)$/.exec(engines.node)?.[1];
    expect(minimum, `engines.node '${engines.node}' is not of the form >=N`).toBeDefined();
    expect(major).toBeGreaterThanOrEqual(Number(minimum));
  });

  it('is the one the run asked for (XVPC_EXPECT_NODE, else the one that started vitest)', () => {
    // vitest's forks run on process.execPath: the parent's Node, the one npx fetched.
    expect(String(major)).toBe(process.env.XVPC_EXPECT_NODE ?? String(major));
    console.log(`tests run on Node ${process.version}`);
  });
});
