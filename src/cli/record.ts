// The raw record commands (`xvpc records vpc|net|ep <op>`): get, list, create, update and
// delete of one kind of transitd record, on one host's transitd. update reads
// the record and changes only the fields given. vpc.ts, net.ts and ep.ts say
// what their records look like; this file does the rest.
import type { TransitdClient } from '../transitd/client.js';
import { type Command, TARGET_OPTIONS, UsageError, parse, printJson, transitdFrom } from './args.js';

export const OPS = ['get', 'list', 'create', 'update', 'delete'] as const;
export type Op = (typeof OPS)[number];

type Values = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface RecordKind<R, K> {
  /** command name: vpc, net, ep */
  name: string;
  /** what a record is called in messages: 'vpc', 'network', 'endpoint' */
  noun: string;
  /** options naming one record */
  keyOptions: OptionSpec;
  /** options setting its fields (create, update) */
  fieldOptions: OptionSpec;
  key(v: Values): K;
  /** the fields given on the command line */
  fields(v: Values): Partial<R>;
  /** a whole record for create (UsageError when a required field is missing) */
  complete(key: K, fields: Partial<R>): R;
  describeKey(key: K): string;
  get(c: TransitdClient, key: K): Promise<R>;
  list(c: TransitdClient): Promise<R[]>;
  create(c: TransitdClient, r: R): Promise<unknown>;
  update(c: TransitdClient, r: R): Promise<unknown>;
  delete(c: TransitdClient, key: K): Promise<unknown>;
  /** the record as printed with --json */
  toJson(r: R): object;
  /** one line for list */
  line(r: R): string;
}

function opUsage(kind: RecordKind<unknown, unknown>, op: Op): string {
  const opts = (spec: OptionSpec) => Object.keys(spec).map((o) => `--${o} ${o.toUpperCase().replace(/-/g, '_')}`);
  const key = opts(kind.keyOptions).join(' ');
  const fields = opts(kind.fieldOptions).map((o) => `[${o}]`).join(' ');
  const target = '(--prefix P --host NAME | --socket PATH) [--json]';
  switch (op) {
    case 'list': return `xvpc records ${kind.name} list ${target}`;
    case 'create':
    case 'update': return `xvpc records ${kind.name} ${op} ${key} ${fields} ${target}`;
    default: return `xvpc records ${kind.name} ${op} ${key} ${target}`;
  }
}

function pretty(r: object): string {
  return Object.entries(r)
    .map(([k, v]) => `  ${k}: ${Array.isArray(v) ? v.join(', ') || '-' : String(v)}`)
    .join('\n');
}

export function recordCommand<R, K>(kind: RecordKind<R, K>, example: string): Command {
  const k = kind as RecordKind<unknown, unknown>;
  return {
    summary: `get, list, create, update or delete ${kind.noun} records on a host's transitd`,
    usage: OPS.map((op) => opUsage(k, op)).join('\n       '),
    example,
    async run(args) {
      const [op, ...rest] = args;
      if (op === undefined || op.startsWith('-')) throw new UsageError(`give an operation: ${OPS.join(', ')}`);
      if (!(OPS as readonly string[]).includes(op)) throw new UsageError(`unknown operation '${op}' (${OPS.join(', ')})`);
      const options = {
        ...TARGET_OPTIONS, json: { type: 'boolean' },
        ...(op === 'list' ? {} : kind.keyOptions),
        ...(op === 'create' || op === 'update' ? kind.fieldOptions : {}),
      } as const;
      const { values } = parse(rest, options as OptionSpec);
      const v = values as Values;
      const key = op === 'list' ? undefined : kind.key(v);
      const fields = op === 'create' || op === 'update' ? kind.fields(v) : {};
      if (op === 'update' && Object.keys(fields).length === 0) {
        throw new UsageError(`nothing to update: give one of ${Object.keys(kind.fieldOptions).map((o) => `--${o}`).join(', ')}`);
      }
      const record = op === 'create' ? kind.complete(key as K, fields) : undefined;
      const client = await transitdFrom(v as { prefix?: string; host?: string; socket?: string });
      try {
        const show = (r: R) => {
          if (v.json) printJson(kind.toJson(r));
          else console.log(`${kind.noun} ${kind.describeKey(key as K)}\n${pretty(kind.toJson(r))}`);
        };
        switch (op as Op) {
          case 'get':
            show(await kind.get(client, key as K));
            break;
          case 'list': {
            const all = await kind.list(client);
            if (v.json) printJson(all.map((r) => kind.toJson(r)));
            else console.log(all.length ? all.map((r) => kind.line(r)).join('\n') : `no ${kind.noun} records`);
            break;
          }
          case 'create':
            await kind.create(client, record as R);
            show(await kind.get(client, key as K));
            break;
          case 'update': {
            const current = await kind.get(client, key as K);
            await kind.update(client, { ...current, ...fields });
            show(await kind.get(client, key as K));
            break;
          }
          case 'delete':
            await kind.delete(client, key as K);
            if (v.json) printJson({ deleted: kind.describeKey(key as K) });
            else console.log(`deleted ${kind.noun} ${kind.describeKey(key as K)}`);
            break;
        }
      } finally {
        client.close();
      }
      return 0;
    },
  };
}

