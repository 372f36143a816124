// An endpoint's plumbing on its host: a namespace holding veth0 (or, for a
// host endpoint, the host's own namespace), the veth pair, addresses, routes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { must, run } from '../util/exec.js';
import { namedNetnsPath } from '../util/netns.js';
import { addon } from '../dataplane/addon.js';
import type { AttachRequest } from './validate.js';
import { endpointRecordKey } from '../abi/index.js';
import { createSharedPlumbing, deleteSharedPlumbing, endpointTable, sharedEndpointNs, type EndpointNamespaceMode } from './shared-plumbing.js';

/** Bytes the data plane adds to an endpoint's IP packet on the underlay:
 * outer IPv4 + UDP + Geneve + RTS option (52) around the inner Ethernet
 * frame (14), plus the scaled-endpoint option (8) a switch may insert. */
export const UNDERLAY_OVERHEAD = 20 + 8 + 8 + 16 + 14 + 8;

/** The largest endpoint MTU whose packets still fit the underlay's. */
export const endpointMtu = (underlayMtu: number): number => underlayMtu - UNDERLAY_OVERHEAD;

export interface EndpointNames {
  /** the namespace holding the endpoint's end of the pair ('' for a host endpoint) */
  netns: string;
  veth: string;
  peer: string;
  /** in the droplet's shared endpoint namespace (shared-plumbing.ts), routed by its source address */
  shared: boolean;
  ip: string;
}

/**
 * Names are derived from (vni, ip) and the droplet's endpoint namespace mode
 * alone, so a restarted daemon finds them again. Own: namespace
 * `<nsPrefix>-e<vni>-<ip>` holding veth0; shared: `<nsPrefix>-eps` holding
 * `ep<tag>` (the host side is `ve<tag>` either way; both fit IFNAMSIZ).
 */
export function endpointNames(nsPrefix: string, vni: number, ip: string, hostEndpoint: boolean,
  mode: EndpointNamespaceMode = 'own'): EndpointNames {
  const tag = createHash('sha1').update(endpointRecordKey({ vni, ip })).digest('hex').slice(0, 8);
  const shared = !hostEndpoint && mode === 'shared';
  return {
    netns: hostEndpoint ? '' : shared ? sharedEndpointNs(nsPrefix) : `${nsPrefix}-e${vni}-${ip.replaceAll('.', '-')}`,
    veth: `ve${tag}`,
    peer: hostEndpoint ? `vh${tag}` : shared ? `ep${tag}` : 'veth0',
    shared,
    ip,
  };
}

/**
 * GSO kinds the TC data path cannot carry, turned off on the endpoint's side so
 * the stack cuts them before the agent sees them. Decapsulation on 6.18 leaves
 * an aggregate marked as a UDP tunnel (bpf_skb_adjust_room has no flag to clear
 * it), which a receiving socket then fails to cut for UDP GSO (UDP_SEGMENT);
 * an endpoint's own tunnels (VXLAN, GRE, IPIP) are refused by the encap flags
 * as aggregates; SCTP and fraglist aggregates by adjust_room. TCP keeps TSO.
 */
const TC_UNCARRIED_GSO = [
  'tx-udp-segmentation', 'off', 'tx-gso-list', 'off', 'tx-sctp-segmentation', 'off',
  'tx-udp_tnl-segmentation', 'off', 'tx-udp_tnl-csum-segmentation', 'off', 'tx-gre-segmentation', 'off',
  'tx-gre-csum-segmentation', 'off', 'tx-ipxip4-segmentation', 'off', 'tx-ipxip6-segmentation', 'off',
];

/**
 * One TX and one RX queue on each side of an endpoint's veth pair. veth uses one
 * of each anyway (its real queue counts start at 1), but without these it
 * allocates as many as the machine has possible CPUs: a netdev_queue and a
 * veth_rq each, ~4.7 kB per endpoint on 2 CPUs, more on bigger machines
 * (measured, docs/emulation.md "Memory").
 */
const ONE_QUEUE = 'numtxqueues 1 numrxqueues 1';

/** ethtool's `tx off`: every TX checksum feature (TSO goes with them). */
const TX_CHECKSUM = ['tx-checksum-ipv4', 'tx-checksum-ip-generic', 'tx-checksum-ipv6', 'tx-checksum-fcoe-crc', 'tx-checksum-sctp'];

/** TC_UNCARRIED_GSO's feature names, without ethtool's on/off words. */
const UNCARRIED_FEATURES = TC_UNCARRIED_GSO.filter((_, i) => i % 2 === 0);

export interface Plumbing { names: EndpointNames; req: AttachRequest; mtu: number }

/**
 * Many endpoints in their own namespaces, made together (measured,
 * docs/emulation.md "Scale"): one `ip -batch` for all of them adds the
 * namespaces and makes each veth pair with its peer already inside its
 * namespace, with its MAC, MTU and one queue each way (ONE_QUEUE); then,
 * inside each namespace, the addon (netlink and one ethtool ioctl, no
 * process) sets lo up, `addrgenmode none`
 * (no IPv6 link-local address, so no router solicitations the agent would only
 * drop), the features, the address, the link up and the default route.
 *
 * txChecksum: leave the endpoint's TX checksum offload (and with it TSO) on,
 * turning off only the GSO kinds in TC_UNCARRIED_GSO. The TC data path keeps
 * the stack's checksum state; the XDP one cannot finish a checksum the stack
 * left to the NIC, so it turns the offload off. All or nothing: on a failure
 * whatever this call made is removed again.
 */
export async function createNamespacedPlumbing(list: Plumbing[], opts: { txChecksum: boolean }): Promise<void> {
  if (list.length === 0) return;
  const hostSide: string[] = [];
  for (const { names, mtu, req } of list) {
    if (!names.netns || names.shared) throw new Error(`createNamespacedPlumbing: ${req.vni}/${req.ip} is a host endpoint`);
    hostSide.push(
      `netns add ${names.netns}`,
      `link add ${names.veth} mtu ${mtu} ${ONE_QUEUE} type veth peer name ${names.peer} netns ${names.netns} address ${req.mac} mtu ${mtu} ${ONE_QUEUE}`,
      `link set ${names.veth} addrgenmode none up`,
    );
  }
  try {
    await must(['ip', '-batch', '-'], { input: `${hostSide.join('\n')}\n` });
    const featuresOff = opts.txChecksum ? UNCARRIED_FEATURES : TX_CHECKSUM;
    for (const { names, req } of list) {
      addon.configureEndpointLink(namedNetnsPath(names.netns), { ifname: names.peer, ip: req.ip, prefixLen: req.prefixLen, gateway: req.gatewayIp, featuresOff });
    }
  } catch (err) {
    await deleteEndpointsPlumbing(list.map((p) => p.names));
    throw err;
  }
}

/** Rule preference of host endpoints' source rules in the host's namespace: after local (0), before main (32766). */
export const HOST_SOURCE_RULE_PREF = 31000;

/** `ip rule` line (without add/del) of a host endpoint's source rule: what the host sends from its address uses its table. */
export const hostSourceRule = (ip: string): string => `pref ${HOST_SOURCE_RULE_PREF} from ${ip} iif lo lookup ${endpointTable(ip)}`;

/**
 * A host endpoint: its end of the pair stays in the host's own namespace.
 * Two processes, `ip -batch` and ethtool (rare: one per host endpoint).
 *
 * A host may have several host endpoints (of several networks): each gets a
 * source rule and a table of its own (its network, and the VPC via its
 * gateway), so what the host sends from an endpoint's address (its replies
 * too) leaves through that endpoint's veth, never another's, which its agent
 * would drop as spoofed. Sockets with no address chosen follow the main
 * table's VPC route: appended, so the first endpoint's serves and the next
 * one's takes over when that veth goes (a replace would take it from the
 * first and leave none when the second goes).
 */
async function createHostPlumbing(names: EndpointNames, req: AttachRequest, mtu: number, opts: { txChecksum: boolean }): Promise<void> {
  const table = endpointTable(req.ip);
  const otherNetworks = req.vpcCidr && req.vpcCidr !== req.cidr;
  const commands = [
    `link add ${names.veth} ${ONE_QUEUE} type veth peer name ${names.peer} ${ONE_QUEUE}`,
    `link set ${names.veth} mtu ${mtu} addrgenmode none up`,
    `link set ${names.peer} address ${req.mac} mtu ${mtu} addrgenmode none`,
    `addr add ${req.ip}/${req.prefixLen} dev ${names.peer}`,
    `link set ${names.peer} up`,
    `route replace ${req.cidr} dev ${names.peer} src ${req.ip} table ${table}`,
    // The host's default route is the underlay's: the VPC's other networks get a route of their
    // own (a more specific one: its network's).
    ...(otherNetworks ? [`route replace ${req.vpcCidr} via ${req.gatewayIp} dev ${names.peer} table ${table}`,
      `route append ${req.vpcCidr} via ${req.gatewayIp} dev ${names.peer}`] : []),
    `rule add ${hostSourceRule(req.ip)}`,
  ];
  try {
    // A source rule left by a transitd stopped between two deletes would make `rule add` fail with File exists.
    await run(['ip', '-force', '-batch', '-'], { input: `rule del ${hostSourceRule(req.ip)}\n` });
    await must(['ip', '-batch', '-'], { input: `${commands.join('\n')}\n` });
    await must(['ethtool', '-K', names.peer, ...(opts.txChecksum ? TC_UNCARRIED_GSO : ['tx', 'off'])]);
  } catch (err) {
    await deleteEndpointPlumbing(names);
    throw err;
  }
}

/** Endpoints of the droplet's shared namespace (shared-plumbing.ts), with this file's queues and features. */
export async function createSharedEndpointsPlumbing(list: Plumbing[], opts: { txChecksum: boolean }): Promise<void> {
  if (list.some((p) => !p.names.shared)) throw new Error('createSharedEndpointsPlumbing: an endpoint not in a shared namespace');
  await createSharedPlumbing(list, { oneQueue: ONE_QUEUE, featuresOff: opts.txChecksum ? UNCARRIED_FEATURES : TX_CHECKSUM });
}

/** One endpoint, in its namespace, the shared one, or (a host endpoint) in the host's. */
export async function createEndpointPlumbing(names: EndpointNames, req: AttachRequest, mtu: number,
  opts: { txChecksum: boolean }): Promise<void> {
  if (names.shared) await createSharedEndpointsPlumbing([{ names, req, mtu }], opts);
  else if (names.netns) await createNamespacedPlumbing([{ names, req, mtu }], opts);
  else await createHostPlumbing(names, req, mtu, opts);
}

/**
 * Whether the endpoint's plumbing is there: its namespace, or for a host
 * endpoint and one in a shared namespace its veth (`linkExists`: looked up in
 * the caller's namespace).
 */
export function plumbingExists(names: EndpointNames, linkExists: (name: string) => boolean): boolean {
  return names.netns && !names.shared ? existsSync(namedNetnsPath(names.netns)) : linkExists(names.veth);
}

/** Idempotent: whatever is missing is not an error. */
export async function deleteEndpointPlumbing(names: EndpointNames): Promise<void> {
  await deleteEndpointsPlumbing([names]);
}

/** Many at once, one process; idempotent (`-force` goes on past what is already gone). */
export async function deleteEndpointsPlumbing(list: EndpointNames[]): Promise<void> {
  if (list.length === 0) return;
  await deleteSharedPlumbing(list.filter((n) => n.shared));
  const own = list.filter((n) => !n.shared);
  if (own.length === 0) return;
  // A host endpoint's routes go with its veth; its source rule does not.
  const commands = own.flatMap((n) => [`link del ${n.veth}`, ...(n.netns ? [`netns del ${n.netns}`] : [`rule del ${hostSourceRule(n.ip)}`])]);
  await run(['ip', '-force', '-batch', '-'], { input: `${commands.join('\n')}\n` });
}
