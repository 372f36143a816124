// native/addon's file layout (native/addon/README.md): includes form no loop,
// and addon.cc only gathers the files' Init*s, so no file depends back on it.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../native/addon/', import.meta.url);
const files = readdirSync(dir).filter((f) => /\.(cc|h)$/.test(f));
const text = (f: string) => readFileSync(new URL(f, dir), 'utf8');
const localIncludes = (f: string) => [...text(f).matchAll(/^#include "([^"]+)"/gm)].map((m) => m[1]);

describe('native/addon layout', () => {
  it('includes only headers of its own, with no loop', () => {
    const graph = new Map(files.map((f) => [f, localIncludes(f)]));
    for (const [f, incs] of graph) {
      for (const inc of incs) {
        expect(files, `${f} includes ${inc}`).toContain(inc);
        expect(inc, `${f} includes a .cc`).toMatch(/\.h$/);
      }
    }
    // Depth-first search for a back edge.
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, path: string[]): void => {
      if (state.get(f) === 'done') return;
      expect(state.get(f), `include loop: ${[...path, f].join(' -> ')}`).not.toBe('open');
      state.set(f, 'open');
      for (const inc of graph.get(f) ?? []) visit(inc, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
  });

  it('addon.cc defines nothing but the module init, which calls every Init* of init.h once', () => {
    const declared = [...text('init.h').matchAll(/^Napi::Object (Init\w+)\(/gm)].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(5);
    const addon = text('addon.cc');
    for (const init of declared) {
      expect(addon.match(new RegExp(`xvpc::${init}\\(`, 'g')), init).toHaveLength(1);
      const definedIn = files.filter((f) => f.endsWith('.cc') && new RegExp(`^Napi::Object ${init}\\(`, 'm').test(text(f)));
      expect(definedIn, `${init} is defined once, outside addon.cc`).toHaveLength(1);
      expect(definedIn[0]).not.toBe('addon.cc');
    }
    const definitions = [...addon.matchAll(/^(?:static )?[\w:<>]+ (\w+)\([^;]*\{/gm)].map((m) => m[1]);
    expect(definitions).toEqual(['Init']);
  });
});
