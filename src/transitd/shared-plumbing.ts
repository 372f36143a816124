// Endpoints sharing one namespace per droplet (transitd --endpoint-namespace
// shared; design (b) of docs/emulation.md "Memory"): the inner end of each
// endpoint's veth pair sits in `<nsPrefix>-eps` with its address as /32, and a
// source rule sends what a socket bound to that address sends out through its
// own veth, so endpoint-to-endpoint traffic crosses the data plane as between
// namespaces. ~90 kB of kernel memory per endpoint instead of ~310 kB.
import { existsSync } from 'node:fs';
import { must, run } from '../util/exec.js';
import { namedNetnsPath } from '../util/netns.js';
import { addon } from '../dataplane/addon.js';
import { parseIpv4 } from '../util/addr.js';
import type { AttachRequest } from './validate.js';

export type EndpointNamespaceMode = 'own' | 'shared';
export const ENDPOINT_NAMESPACE_MODES: readonly EndpointNamespaceMode[] = ['own', 'shared'];

/** The droplet's one namespace for all its endpoints: `<nsPrefix>-eps` (starts `<nsPrefix>-e`, as cleanup expects). */
export const sharedEndpointNs = (nsPrefix: string): string => `${nsPrefix}-eps`;

/** Rule preference of the endpoints' source rules: before the local table, moved to LOCAL_RULE_PREF. */
export const SOURCE_RULE_PREF = 100;
/** Where the local-table rule goes (from 0): after the source rules, before main (32766). */
export const LOCAL_RULE_PREF = 32000;

/**
 * The routing table of an endpoint in a shared namespace: its IPv4 address as
 * a u32, unique per namespace (one endpoint per address there). 0 and
 * 253-255 are the kernel's own tables; no endpoint address maps below 256.
 */
export function endpointTable(ip: string): number {
  const t = parseIpv4(ip, 'ip');
  if (t < 256) throw new Error(`endpointTable: ${ip} maps to reserved table ${t}`);
  return t;
}

/** `ip rule` line (without add/del) of an endpoint's source rule. */
export const sourceRule = (ip: string): string => `pref ${SOURCE_RULE_PREF} from ${ip} iif lo lookup ${endpointTable(ip)}`;

export interface SharedPlumbing {
  /** the shared namespace, the host-side veth, the inner end's name */
  names: { netns: string; veth: string; peer: string };
  req: AttachRequest;
  mtu: number;
}

/**
 * Makes the shared namespace if it is not there yet, idempotently: lo up;
 * ARP answered only for the receiving device's own address and asked from
 * the sending device's (many endpoint devices on one segment); the local
 * table after the source rules (else an address of another endpoint would be
 * delivered inside the namespace).
 */
export async function ensureSharedNamespace(netns: string): Promise<void> {
  const path = namedNetnsPath(netns);
  if (!existsSync(path)) await run(['ip', 'netns', 'add', netns]); // a concurrent add: checked below
  if (!existsSync(path)) throw new Error(`shared endpoint namespace ${netns} could not be made`);
  const rules = await must(['ip', '-n', netns, 'rule', 'show']);
  if (new RegExp(`^${LOCAL_RULE_PREF}:\\s+from all lookup local`, 'm').test(rules) && !/^0:/m.test(rules)) return;
  // nsenter, not `ip netns exec` (which remounts /sys): /proc/sys/net is the opener's namespace.
  // No forwarding, set rather than assumed (devconf_inherit_init_net can give a new namespace the
  // host's): an unbound packet to another endpoint's address is looped back and must be dropped
  // there, not routed out through that endpoint's device around the data plane.
  await must(['nsenter', `--net=${path}`, '--', 'sysctl', '-q', '-w',
    'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.ip_forward=0']);
  await run(['ip', '-n', netns, 'link', 'set', 'lo', 'up']);
  await run(['ip', '-n', netns, '-force', '-batch', '-'], { input: `rule add pref ${LOCAL_RULE_PREF} lookup local\nrule del pref 0\n` });
  const after = await must(['ip', '-n', netns, 'rule', 'show']);
  if (/^0:/m.test(after) || !new RegExp(`^${LOCAL_RULE_PREF}:`, 'm').test(after)) {
    throw new Error(`shared endpoint namespace ${netns}: could not move the local rule to ${LOCAL_RULE_PREF}:\n${after}`);
  }
}

/**
 * Many endpoints into the droplet's shared namespace (all of `list` share one):
 * one `ip -batch` makes every veth pair, inner end created in the namespace
 * with its MAC, MTU and one queue each way; the addon configures each inner end
 * (address /32, features off, up); one `ip -batch` in the namespace adds each
 * endpoint's source rule and table (its network and the default route via the
 * gateway, both through its own device). All or nothing.
 */
export async function createSharedPlumbing(list: SharedPlumbing[], opts: { oneQueue: string; featuresOff: string[] }): Promise<void> {
  if (list.length === 0) return;
  const netns = list[0].names.netns;
  if (list.some((p) => p.names.netns !== netns)) throw new Error('createSharedPlumbing: endpoints of more than one shared namespace');
  await ensureSharedNamespace(netns);
  const hostSide = list.flatMap(({ names, req, mtu }) => [
    `link add ${names.veth} mtu ${mtu} ${opts.oneQueue} type veth peer name ${names.peer} netns ${netns} address ${req.mac} mtu ${mtu} ${opts.oneQueue}`,
    `link set ${names.veth} addrgenmode none up`,
  ]);
  const routing = list.flatMap(({ names, req }) => {
    const table = endpointTable(req.ip);
    return [
      `rule add ${sourceRule(req.ip)}`,
      `route replace ${req.cidr} dev ${names.peer} src ${req.ip} table ${table}`,
      `route replace default via ${req.gatewayIp} dev ${names.peer} onlink table ${table}`,
    ];
  });
  try {
    await must(['ip', '-batch', '-'], { input: `${hostSide.join('\n')}\n` });
    for (const { names, req } of list) {
      addon.configureEndpointLink(namedNetnsPath(netns), { ifname: names.peer, ip: req.ip, prefixLen: 32, featuresOff: opts.featuresOff });
    }
    // A source rule without its veth (a transitd stopped between the two deletes) would make
    // `rule add` fail with File exists: gone first, whatever is there.
    await run(['ip', '-n', netns, '-force', '-batch', '-'], { input: `${list.map(({ req }) => `rule del ${sourceRule(req.ip)}`).join('\n')}\n` });
    await must(['ip', '-n', netns, '-batch', '-'], { input: `${routing.join('\n')}\n` });
  } catch (err) {
    await deleteSharedPlumbing(list.map((p) => ({ ...p.names, ip: p.req.ip })));
    throw err;
  }
}

/** Removes endpoints' veths (the inner ends and their routes go with them) and source rules; idempotent. */
export async function deleteSharedPlumbing(list: { netns: string; veth: string; ip: string }[]): Promise<void> {
  if (list.length === 0) return;
  await run(['ip', '-force', '-batch', '-'], { input: `${list.map((n) => `link del ${n.veth}`).join('\n')}\n` });
  const byNs = new Map<string, string[]>();
  for (const n of list) byNs.set(n.netns, [...(byNs.get(n.netns) ?? []), `rule del ${sourceRule(n.ip)}`]);
  for (const [netns, lines] of byNs) {
    if (existsSync(namedNetnsPath(netns))) await run(['ip', '-n', netns, '-force', '-batch', '-'], { input: `${lines.join('\n')}\n` });
  }
}
