// Every name and address a droplet uses, derived from (prefix, name, index) in
// one place, plus the validation that keeps them legal and collision-free.
import { invalid } from '../errors.js';
import { sharedEndpointNs } from '../transitd/shared-plumbing.js';

/** Namespaces, containers and pins of a run all start with `<prefix>-`. */
export const PREFIX_RE = /^[a-z0-9]{1,6}$/;
/** Droplet names: lowercase, digits and inner hyphens. */
export const NAME_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
/** `u-<name>` (the bridge port) must fit IFNAMSIZ-1 = 15 characters. */
export const MAX_NAME_LEN = 12;
/** The underlay namespace is `<prefix>-ul`: no droplet may take that name. */
const RESERVED = new Set(['ul']);
/** Droplet N's shared endpoint namespace is `<prefix>-N` + this (`-eps`): a droplet named `N-eps` would be it. */
const SHARED_EPS_SUFFIX = sharedEndpointNs('');

export const RUN_ROOT = '/run/xvpc';
export const PIN_ROOT = '/sys/fs/bpf/xvpc';
export const BRIDGE = 'br0';
export const DROPLET_IFACE = 'eth0';

export function validatePrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw invalid(`prefix: '${String(prefix)}' must be 1-6 characters of [a-z0-9]`);
  }
  return prefix;
}

/** An endpoint namespace's tail (transitd plumbing: <droplet ns>-e<vni>-<a>-<b>-<c>-<d>): a droplet so named would take another's endpoint's namespace name. */
const ENDPOINT_NS_TAIL = /-e\d+-\d+-\d+-\d+-\d+$/;

/** Why `name` cannot be a droplet's (a sentence naming it), or undefined when it can. */
export function dropletNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a droplet name is empty';
  if (name.length > MAX_NAME_LEN) return `'${name}' is longer than ${MAX_NAME_LEN} characters (interface names are limited)`;
  if (!NAME_RE.test(name)) return `'${name}' may only hold [a-z0-9-] and must start and end with a letter or digit`;
  if (RESERVED.has(name)) return `'${name}' is reserved`;
  if (name.endsWith(SHARED_EPS_SUFFIX)) {
    return `'${name}' ends in '${SHARED_EPS_SUFFIX}', reserved: droplet '${name.slice(0, -SHARED_EPS_SUFFIX.length)}' keeps its shared endpoint namespace under that name`;
  }
  const tail = ENDPOINT_NS_TAIL.exec(name);
  if (tail) return `'${name}' ends in '${tail[0]}', reserved: droplet '${name.slice(0, tail.index)}' names an endpoint's namespace so`;
  return undefined;
}

export function validateNames(names: unknown): string[] {
  if (!Array.isArray(names) || names.length === 0) throw invalid('names: give at least one droplet name');
  const seen = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string') throw invalid('names: a droplet name is not a string');
    const problem = dropletNameProblem(name);
    if (problem) throw invalid(`names: ${problem}`);
    if (seen.has(name)) throw invalid(`names: '${name}' is given twice`);
    seen.add(name);
  }
  return names as string[];
}

export const underlayNs = (prefix: string): string => `${prefix}-ul`;
export const dropletNs = (prefix: string, name: string): string => `${prefix}-${name}`;
/** Bridge-side veth port: the underlay namespace is per prefix, so the name alone is unique there. */
export const portName = (name: string): string => `u-${name}`;
export const runDir = (prefix: string): string => `${RUN_ROOT}/${prefix}`;
export const socketPath = (prefix: string, name: string): string => `${runDir(prefix)}/${name}.sock`;
export const logPath = (prefix: string, name: string): string => `${runDir(prefix)}/${name}.log`;
export const pidPath = (prefix: string, name: string): string => `${runDir(prefix)}/${name}.pid`;
export const metaPath = (prefix: string, name: string): string => `${runDir(prefix)}/${name}.json`;
/** A shared transitd host's control socket and log, named after the first droplet it was started for. */
export const hostControlPath = (prefix: string, id: string): string => `${runDir(prefix)}/${id}.host.ctl`;
export const hostLogPath = (prefix: string, id: string): string => `${runDir(prefix)}/${id}.host.log`;
export const pinRoot = (prefix: string, name: string): string => `${PIN_ROOT}/${prefix}-${name}`;
export const grpcAddress = (prefix: string, name: string): string => `unix://${socketPath(prefix, name)}`;

/** Underlay IPv4 of the droplet with this index: 172.30.0.2, 172.30.0.3, ... in a /16. */
export function underlayIp(index: number): string {
  const h = index + 2;
  if (!Number.isInteger(index) || index < 0 || h > 65534) throw invalid(`index: ${index} is outside the underlay /16`);
  return `172.30.${h >> 8}.${h & 255}`;
}
export const UNDERLAY_PREFIXLEN = 16;

/** A locally administered MAC that spells the droplet's IP (0a:58 + the 4 bytes): readable in captures. */
export function underlayMac(index: number): string {
  return ['0a', '58', ...underlayIp(index).split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/**
 * The droplet a namespace belongs to: the longest droplet name N of `names`
 * with ns === `<prefix>-N` or ns starting with `<prefix>-N-`. With it, droplet
 * "a" never claims the namespaces of a droplet named "a-e1".
 */
export function ownerOf(ns: string, prefix: string, names: string[]): string | undefined {
  let best: string | undefined;
  for (const n of names) {
    const base = dropletNs(prefix, n);
    if ((ns === base || ns.startsWith(`${base}-`)) && (!best || n.length > best.length)) best = n;
  }
  return best;
}
