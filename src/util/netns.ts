// Network namespaces and links, through iproute2.
import { must, run } from './exec.js';

/** Where `ip netns add NAME` puts a namespace: its path for setns, nsenter and the addon's netnsPath. */
export const namedNetnsPath = (name: string): string => `/run/netns/${name}`;

/** argv that runs `argv` inside namespace `ns` (or as is when ns is null). */
export function inNs(ns: string | null, argv: string[]): string[] {
  return ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
}

export async function createNamespace(name: string): Promise<void> {
  await must(['ip', 'netns', 'add', name]);
  await must(inNs(name, ['ip', 'link', 'set', 'lo', 'up']));
}

/** Deletes a namespace; a missing one is not an error (cleanup must be idempotent). */
export async function deleteNamespace(name: string): Promise<void> {
  await run(['ip', 'netns', 'delete', name]);
}

/** Deletes many namespaces with one process (`-force`: a missing one is not an error). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  if (names.length === 0) return;
  await run(['ip', '-force', '-batch', '-'], { input: names.map((n) => `netns delete ${n}\n`).join('') });
}

export async function listNamespaces(): Promise<string[]> {
  const out = await must(['ip', '-j', 'netns', 'list']).catch(() => '[]');
  const parsed = JSON.parse(out.trim() || '[]') as { name: string }[];
  return parsed.map((n) => n.name);
}

/** A link as `ip -j link show` describes it; netlink, so right under nsenter too (sysfs may not be). */
async function linkJson(ns: string | null, dev: string): Promise<{ ifindex: number; address: string }> {
  const out = await must(['ip', ...(ns ? ['-n', ns] : []), '-j', 'link', 'show', 'dev', dev]);
  const [link] = JSON.parse(out) as { ifindex: number; address: string }[];
  if (!link) throw new Error(`no interface ${dev}${ns ? ` in namespace ${ns}` : ''}`);
  return link;
}

export async function linkIndex(ns: string | null, dev: string): Promise<number> {
  return (await linkJson(ns, dev)).ifindex;
}

