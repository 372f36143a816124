// No TypeScript file under src/ imports one that imports it back, directly or
// around a loop (type-only imports count too: they are the same coupling).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph, importsOf } from '../lib/import-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('import cycles', () => {
  it('src/ has none', () => {
    const graph = importGraph(SRC);
    expect(graph.size).toBeGreaterThan(50); // the walk found the tree
    expect(importCycles(graph)).toEqual([]);
  });

  it('the parser sees every kind of import statement', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      'import {\n  c,\n  d,\n} from "./c.js";',
      "export { e } from './e.js';",
      "export * from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "import { grpc } from '@grpc/grpc-js';",
      "// import { no } from './commented.js';",
    ].join('\n');
    expect(importsOf(src).sort()).toEqual(['./a.js', './b.js', './c.js', './e.js', './f.js', './g.js', './h.js']);
  });

  it('finds a loop, direct or around several files', () => {
    const g = new Map([
      ['a.ts', ['b.ts']], ['b.ts', ['a.ts']],
      ['c.ts', ['d.ts']], ['d.ts', ['e.ts']], ['e.ts', ['c.ts']],
      ['f.ts', ['a.ts']],
    ]);
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts'], ['c.ts', 'd.ts', 'e.ts']]);
    expect(importCycles(new Map([['x.ts', ['y.ts']], ['y.ts', []]]))).toEqual([]);
  });
});
