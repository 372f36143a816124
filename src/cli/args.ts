// What every `xvpc` command shares: the command shape, usage errors, option
// parsing with one-line messages, and finding a host's transitd.
import { access } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { connectTransitd, type TransitdClient } from '../transitd/client.js';
import { NAME_RE, PREFIX_RE, metaPath, runDir, socketPath } from '../droplet/names.js';
import { listRecords } from '../droplet/records.js';

export interface Command {
  summary: string;
  usage: string;
  example: string;
  run(args: string[]): Promise<number>;
}

/** A bad command line: main prints it on one line and exits 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs, strict, with its errors turned into short UsageErrors. */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

export function parse<O extends Options>(args: string[], options: O, allowPositionals = false): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true }) as Parsed<O>;
  } catch (err) {
    const e = err as Error & { code?: string };
    const opt = /--[\w-]+/.exec(e.message)?.[0] ?? /-\w/.exec(e.message)?.[0];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`unknown option '${opt ?? e.message}'`);
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      if (/argument missing/.test(e.message)) throw new UsageError(`${opt} needs a value`);
      // `--sample -1`: a value that starts with a dash reads as another option.
      if (/ambiguous/.test(e.message)) throw new UsageError(`${opt} needs a value (one starting with '-' is given as ${opt}=VALUE)`);
      if (/does not take an argument/.test(e.message)) throw new UsageError(`${opt} takes no value`);
      throw new UsageError(e.message.split('\n')[0]);
    }
    if (e.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(`unexpected argument '${/'([^']*)'/.exec(e.message)?.[1] ?? ''}'`);
    }
    throw new UsageError(e.message.split('\n')[0]);
  }
}

/** An integer option within [min, max]; undefined stays undefined. */
export function intOpt(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, not '${value}'`);
  }
  return n;
}

export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A comma-separated list ('' is the empty list). */
export const listOpt = (value: string | undefined): string[] | undefined =>
  value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter(Boolean);

export function checkPrefix(prefix: string): string {
  if (!PREFIX_RE.test(prefix)) throw new UsageError(`--prefix '${prefix}' must be 1-6 characters of [a-z0-9]`);
  return prefix;
}

export function checkHost(name: string): string {
  if (!NAME_RE.test(name)) throw new UsageError(`--host '${name}' is not a droplet name`);
  return name;
}

/** Fails (exit 1) unless a droplet record exists for prefix/name. */
export async function assertDroplet(prefix: string, name: string): Promise<void> {
  try {
    await access(metaPath(prefix, name));
  } catch {
    const known = (await listRecords(prefix)).map((r) => r.name).sort();
    throw new Error(`no droplet '${name}' in prefix '${prefix}' (${known.length ? `droplets: ${known.join(', ')}` : `nothing in ${runDir(prefix)}`})`);
  }
}

/** The options that pick one transitd. */
export const TARGET_OPTIONS = {
  prefix: { type: 'string' }, host: { type: 'string' }, socket: { type: 'string' },
} as const;

/** A transitd client from --prefix/--host or --socket. */
export async function transitdFrom(values: { prefix?: string; host?: string; socket?: string }): Promise<TransitdClient> {
  if (values.socket !== undefined) {
    if (values.prefix !== undefined || values.host !== undefined) throw new UsageError('give --socket or --prefix/--host, not both');
    if (!values.socket) throw new UsageError('--socket needs a path');
    await access(values.socket).catch(() => { throw new Error(`no transitd socket at ${values.socket}`); });
    return connectTransitd(values.socket, `unix://${values.socket}`, 10_000);
  }
  const prefix = checkPrefix(required(values.prefix, 'prefix'));
  const host = checkHost(required(values.host, 'host'));
  await assertDroplet(prefix, host);
  return connectTransitd(host, `unix://${socketPath(prefix, host)}`, 10_000);
}

export const printJson = (v: unknown): void => {
  console.log(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x), 2));
};
