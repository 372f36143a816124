// The underlay every droplet of a prefix shares: namespace `<prefix>-ul` with a
// Linux bridge, one veth port per droplet. Both backends plug into it the same
// way; only how their side of the veth is reached differs (a named namespace
// or a container's pid).
import { access } from 'node:fs/promises';
import { bpfObjectPath } from '../dataplane/bpf.js';
import { must, run } from '../util/exec.js';
import { deleteNamespace, listNamespaces, namedNetnsPath } from '../util/netns.js';
import { BRIDGE, DROPLET_IFACE, UNDERLAY_PREFIXLEN, portName, underlayNs } from './names.js';

/** The network namespace of a droplet, as seen from the host. */
export type NsTarget = { netns: string } | { pid: number };

/** argv run inside `target`'s network namespace only (nsenter: no /sys remount, unlike ip netns exec). */
export function nsArgv(target: NsTarget, argv: string[]): string[] {
  return 'netns' in target
    ? ['nsenter', `--net=/run/netns/${target.netns}`, '--', ...argv]
    : ['nsenter', '-t', String(target.pid), '-n', '--', ...argv];
}

/** What `ip netns add` and `ip link add ... netns X` take for this target. */
const ipNetnsArg = (target: NsTarget): string => ('netns' in target ? target.netns : String(target.pid));

const pending = new Map<string, Promise<void>>();

/** Creates `<prefix>-ul` with br0 once; concurrent callers of one process share the work. */
export function ensureUnderlay(prefix: string): Promise<void> {
  let p = pending.get(prefix);
  if (!p) {
    p = createUnderlay(prefix).finally(() => pending.delete(prefix));
    pending.set(prefix, p);
  }
  return p;
}

async function createUnderlay(prefix: string): Promise<void> {
  const ul = underlayNs(prefix);
  if (!(await listNamespaces()).includes(ul)) {
    await must(['ip', 'netns', 'add', ul]);
  }
  const t: NsTarget = { netns: ul };
  await must(['ip', '-n', ul, 'link', 'set', 'lo', 'up']);
  const links = JSON.parse(await must(['ip', '-n', ul, '-j', 'link', 'show'])) as { ifname: string }[];
  if (!links.some((l) => l.ifname === BRIDGE)) {
    await must(['ip', '-n', ul, 'link', 'add', BRIDGE, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  }
  // The underlay is IPv4 only: no IPv6 chatter (DAD, MLD) on the ports.
  await run(nsArgv(t, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));
  // With br_netfilter loaded (dockerd loads it), bridged frames would go
  // through iptables; keep our bridge out of netfilter entirely. The sysctls
  // are per namespace and only exist once the module is loaded.
  for (const key of ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables']) {
    if ((await run(nsArgv(t, ['test', '-e', `/proc/sys/net/bridge/${key}`]))).code === 0) {
      await must(nsArgv(t, ['sysctl', '-qw', `net.bridge.${key}=0`]));
    }
  }
  await must(['ip', '-n', ul, 'link', 'set', BRIDGE, 'up']);
}

export async function deleteUnderlay(prefix: string): Promise<void> {
  await deleteNamespace(underlayNs(prefix));
}

export interface PortSpec {
  name: string; ip: string; mac: string; mtu: number;
  /** Run xdp_pass on the bridge port: needed when eth0 sends XDP frames (XDP_TX, redirects). */
  xdpPass: boolean;
}

/**
 * Plugs a droplet into the bridge: veth `u-<name>` in the underlay, its peer
 * created straight inside the droplet as eth0 with address, MAC and MTU.
 */
export async function addPort(prefix: string, target: NsTarget, spec: PortSpec): Promise<void> {
  const ul = underlayNs(prefix);
  const port = portName(spec.name);
  await must(['ip', '-n', ul, 'link', 'add', port, 'mtu', String(spec.mtu), 'type', 'veth',
    'peer', 'name', DROPLET_IFACE, 'mtu', String(spec.mtu), 'address', spec.mac, 'netns', ipNetnsArg(target)]);
  await must(['ip', '-n', ul, 'link', 'set', port, 'master', BRIDGE]);
  await must(['ip', '-n', ul, 'link', 'set', port, 'up']);

  const inDroplet = (argv: string[]) => must(nsArgv(target, argv));
  await inDroplet(['ip', 'link', 'set', 'lo', 'up']);
  await run(nsArgv(target, ['sysctl', '-qw', `net.ipv6.conf.${DROPLET_IFACE}.disable_ipv6=1`]));
  await inDroplet(['ip', 'addr', 'add', `${spec.ip}/${UNDERLAY_PREFIXLEN}`, 'dev', DROPLET_IFACE]);
  await inDroplet(['ip', 'link', 'set', DROPLET_IFACE, 'up']);

  // XDP_TX / redirect out of eth0 lands on the bridge port, and a veth only
  // takes XDP frames when it runs an XDP program itself (on this kernel GRO
  // was not enough: measured). eth0 gets transitd's transit program. Not on
  // the TC data path: an XDP program here would turn GSO off on eth0.
  if (spec.xdpPass) await must(['ip', '-n', ul, 'link', 'set', 'dev', port, 'xdpdrv', 'obj', bpfObjectPath('pass'), 'sec', 'xdp.frags']);
}

/** Removes a droplet's bridge port (its peer goes with it); a missing one is fine. */
export async function removePort(prefix: string, name: string): Promise<void> {
  const ul = underlayNs(prefix);
  if (!(await underlayExists(prefix))) return;
  await run(['ip', '-n', ul, 'link', 'del', portName(name)]);
}

export async function underlayExists(prefix: string): Promise<boolean> {
  try {
    await access(namedNetnsPath(underlayNs(prefix)));
    return true;
  } catch {
    return false;
  }
}
