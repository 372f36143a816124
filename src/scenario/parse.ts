// Scenario files: YAML (the `yaml` package, keeping each node's position),
// checked against SCENARIO_SCHEMA with ajv. Every error names the file, the
// line and the field: `basic.yaml:12: endpoints[2].host: ...`.
import { readFile } from 'node:fs/promises';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import { XvpcError } from '../errors.js';
import { SCENARIO_SCHEMA } from './schema.js';
import type { Scenario } from './types.js';

const ajv = new Ajv({ allErrors: true, strict: false });
const validateShape = ajv.compile(SCENARIO_SCHEMA);

/** Where each field of a parsed file is, for messages. */
export class SourceMap {
  constructor(readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {}

  /** 1-based line of the node at path (or of its nearest existing parent). */
  lineOf(path: (string | number)[]): number {
    for (let p = [...path]; ; p = p.slice(0, -1)) {
      const node = p.length ? this.doc.getIn(p, true) : this.doc.contents;
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
      if (!p.length) return 1;
    }
  }

  /** An INVALID_ARGUMENT error naming file, line and field. */
  error(path: (string | number)[], message: string): XvpcError {
    return new XvpcError('INVALID_ARGUMENT', `${this.file}:${this.lineOf(path)}: ${fieldName(path)}: ${message}`);
  }
}

/** ['endpoints', 2, 'host'] -> 'endpoints[2].host' */
export function fieldName(path: (string | number)[]): string {
  if (!path.length) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');
}

const pathOf = (pointer: string): (string | number)[] =>
  pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));

/** The most telling of ajv's errors: the deepest one, preferring those that are not about oneOf/not. */
function pickError(errors: ErrorObject[]): ErrorObject {
  const depth = (e: ErrorObject) => pathOf(e.instancePath).length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
  const plain = errors.filter((e) => !['oneOf', 'not', 'anyOf', 'if'].includes(e.keyword));
  const pool = plain.length ? plain : errors;
  const best = pool.reduce((b, e) => (depth(e) > depth(b) ? e : b), pool[0]);
  // Errors of a oneOf's branches at the oneOf's own level are about which form
  // was meant: the oneOf's hint says it better than any one branch.
  const choice = errors.find((e) => e.keyword === 'oneOf' && e.instancePath === best.instancePath);
  return choice && best.keyword !== 'additionalProperties' ? choice : best;
}

function describe(e: ErrorObject): { path: (string | number)[]; message: string } {
  const path = pathOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return { path: [...path, String(p.additionalProperty)], message: 'is not a known field' };
    case 'required':
      return { path, message: `needs field '${String(p.missingProperty)}'` };
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'pattern':
      return { path, message: `${e.message ?? 'has the wrong form'}` };
    case 'oneOf':
    case 'not':
      return { path, message: oneOfHint(path) };
    default:
      return { path, message: e.message ?? 'is not valid' };
  }
}

function oneOfHint(path: (string | number)[]): string {
  if (path[0] === 'hosts') return "give either 'names' or 'count', not both";
  if (path[0] === 'endpoints') return "give either 'name' and 'host' (one listed endpoint, optional 'ip') or 'hosts' and 'perHost' (counted endpoints), not a mix";
  return 'does not match any allowed form';
}

/** Parses and shape-checks scenario text; `file` only names it in messages. */
export function parseScenarioText(text: string, file = 'scenario'): { scenario: Scenario; source: SourceMap } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = lines.linePos(e.pos[0]).line;
    throw new XvpcError('INVALID_ARGUMENT', `${file}:${line}: YAML: ${e.message.split('\n')[0]}`);
  }
  const source = new SourceMap(file, doc, lines);
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw source.error([], 'a scenario is a mapping (hosts, vpcs, endpoints, ...)');
  }
  if (!validateShape(value)) {
    const { path, message } = describe(pickError(validateShape.errors ?? []));
    throw source.error(path, message);
  }
  return { scenario: value as Scenario, source };
}

export async function readScenarioFile(path: string): Promise<{ scenario: Scenario; source: SourceMap }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new XvpcError('NOT_FOUND', `scenario file ${path}: ${(err as Error).message}`);
  }
  return parseScenarioText(text, path);
}
