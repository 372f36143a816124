// The desired-state commands (`xvpc vpc|net|ep <op>`): create, list, get and
// delete through a Controller and its store, so what the CLI makes is what a
// program's Controller sees, and the other way round. vpc.ts, net.ts and
// ep.ts and sg.ts say what their objects look like; a kind may add operations
// of its own (sg: attach, detach).
import type { Controller } from '../controller/controller.js';
import type { Droplet } from '../droplet/index.js';
import { type Command, UsageError, parse, printJson } from './args.js';
import { CONTROLLER_OPTIONS, withController } from './controller.js';

export const OBJECT_OPS = ['create', 'list', 'get', 'delete'] as const;
export type ObjectOp = (typeof OBJECT_OPS)[number];

export type Values = Record<string, string | boolean | undefined>;
type OptionSpec = Record<string, { type: 'string' | 'boolean' }>;

export interface ObjectKind {
  /** command name: vpc, net, ep */
  name: string;
  /** what an object is called in messages */
  noun: string;
  /** the options of each operation (besides --prefix, --store, --json); a trailing '?' in the usage marks optional ones */
  options: Record<ObjectOp, OptionSpec>;
  /** which options of each operation are optional (shown in [brackets]) */
  optional?: Partial<Record<ObjectOp, string[]>>;
  create(c: Controller<Droplet>, v: Values): Promise<unknown>;
  list(c: Controller<Droplet>, v: Values): Promise<object[]>;
  /** the object `v` names, from list's (throws NOT_FOUND) */
  get(c: Controller<Droplet>, v: Values): Promise<object>;
  delete(c: Controller<Droplet>, v: Values): Promise<unknown>;
  /** operations of this kind only (all their options required): what they do and the line they print */
  more?: Record<string, { options: OptionSpec; run(c: Controller<Droplet>, v: Values): Promise<unknown>; done(v: Values): string }>;
  /** one line for list */
  line(o: object): string;
}

/** One operation's usage line; optional options in [brackets]. */
function usageLine(kind: ObjectKind, op: string, options: OptionSpec, optional: string[] = []): string {
  const args = Object.keys(options).map((o) => {
    const s = `--${o} ${o.toUpperCase().replace(/-/g, '_')}`;
    return optional.includes(o) ? `[${s}]` : s;
  });
  return `xvpc ${kind.name} ${op} --prefix P ${args.join(' ')}${args.length ? ' ' : ''}[--store STORE] [--json]`;
}

/** An operation's arguments, with every option it has that is not optional required. */
function parseOp(rest: string[], options: OptionSpec, optional: string[] = []): Values {
  const { values } = parse(rest, { ...CONTROLLER_OPTIONS, ...options } as OptionSpec);
  const v = values as Values;
  for (const name of Object.keys(options)) if (v[name] === undefined && !optional.includes(name)) throw new UsageError(`--${name} is required`);
  return v;
}

/** An operation of the kind's own (`more`): every option required. */
async function runMore(kind: ObjectKind, op: string, rest: string[]): Promise<number> {
  const spec = kind.more![op];
  const v = parseOp(rest, spec.options);
  await withController(v as { prefix?: string; store?: string }, async (c) => {
    await spec.run(c, v);
    if (v.json) printJson({ [op]: true });
    else console.log(spec.done(v));
  });
  return 0;
}

export function objectCommand(kind: ObjectKind, example: string): Command {
  const ops = [...OBJECT_OPS, ...Object.keys(kind.more ?? {})];
  return {
    summary: `${ops.slice(0, -1).join(', ')} or ${ops.at(-1)} ${kind.noun}s (desired state, through the controller and its store)`,
    usage: [
      ...OBJECT_OPS.map((op) => usageLine(kind, op, kind.options[op], kind.optional?.[op])),
      ...Object.entries(kind.more ?? {}).map(([op, spec]) => usageLine(kind, op, spec.options)),
    ].join('\n       '),
    example,
    async run(args) {
      const [op, ...rest] = args;
      if (op === undefined || op.startsWith('-')) throw new UsageError(`give an operation: ${ops.join(', ')}`);
      if (kind.more && Object.hasOwn(kind.more, op)) return runMore(kind, op, rest);
      if (!(OBJECT_OPS as readonly string[]).includes(op)) throw new UsageError(`unknown operation '${op}' (${ops.join(', ')})`);
      const o = op as ObjectOp;
      const v = parseOp(rest, kind.options[o], kind.optional?.[o]);
      await withController(v as { prefix?: string; store?: string }, async (c) => {
        switch (o) {
          case 'create':
            await kind.create(c, v);
            if (v.json) printJson(await kind.get(c, v));
            else console.log(kind.line(await kind.get(c, v)));
            break;
          case 'list': {
            const all = await kind.list(c, v);
            if (v.json) printJson(all);
            else console.log(all.length ? all.map((x) => kind.line(x)).join('\n') : `no ${kind.noun}s`);
            break;
          }
          case 'get': {
            const x = await kind.get(c, v);
            if (v.json) printJson(x);
            else console.log(kind.line(x));
            break;
          }
          case 'delete':
            await kind.delete(c, v);
            if (v.json) printJson({ deleted: true });
            else console.log(`deleted ${kind.noun}`);
            break;
        }
      });
      return 0;
    },
  };
}
