// An endpoint's plumbing on its host: a namespace holding veth0 (or, for a
// host endpoint, the host's own namespace), the veth pair, addresses, routes.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { must, run } from '../util/exec.js';
import { deleteNamespace } from '../util/netns.js';
import type { AttachRequest } from './validate.js';
import { endpointRecordKey } from '../abi/index.js';

/** Bytes the data plane adds to an endpoint's IP packet on the underlay:
 * outer IPv4 + UDP + Geneve + RTS option (52) around the inner Ethernet
 * frame (14), plus the scaled-endpoint option (8) a switch may insert. */
export const UNDERLAY_OVERHEAD = 20 + 8 + 8 + 16 + 14 + 8;

/** The largest endpoint MTU whose packets still fit the underlay's. */
export const endpointMtu = (underlayMtu: number): number => underlayMtu - UNDERLAY_OVERHEAD;

export interface EndpointNames { netns: string; veth: string; peer: string }

/** Names are derived from (vni, ip) alone, so a restarted daemon finds them again. */
export function endpointNames(nsPrefix: string, vni: number, ip: string, hostEndpoint: boolean): EndpointNames {
  const tag = createHash('sha1').update(endpointRecordKey({ vni, ip })).digest('hex').slice(0, 8);
  return {
    netns: hostEndpoint ? '' : `${nsPrefix}-e${vni}-${ip.replaceAll('.', '-')}`,
    veth: `ve${tag}`,
    peer: hostEndpoint ? `vh${tag}` : 'veth0',
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

/** Where `ip netns add` puts a namespace. */
const NETNS_DIR = '/run/netns';

/**
 * Three processes (each costs a few ms): `ip -batch` on the host side,
 * `ip -batch` inside the endpoint's namespace, and ethtool, entered into the
 * namespace with nsenter: `ip netns exec` also makes a mount namespace and
 * remounts /sys, which took 19 ms of the 35 ms an endpoint cost (measured,
 * docs/emulation.md "Scale"). `addrgenmode
 * none` keeps IPv6 link-local addresses, and so router solicitations the
 * agent would only drop, off both ends.
 *
 * txChecksum: leave the endpoint's TX checksum offload (and with it TSO) on,
 * turning off only the GSO kinds in TC_UNCARRIED_GSO. The TC data path keeps
 * the stack's checksum state; the XDP one cannot finish a checksum the stack
 * left to the NIC, so it turns the offload off.
 */
export async function createEndpointPlumbing(names: EndpointNames, req: AttachRequest, mtu: number,
  opts: { txChecksum: boolean }): Promise<void> {
  const ns = names.netns;
  const hostSide = [
    ...(ns ? [`netns add ${ns}`] : []),
    `link add ${names.veth} type veth peer name ${names.peer}${ns ? ` netns ${ns}` : ''}`,
    `link set ${names.veth} mtu ${mtu} addrgenmode none up`,
  ];
  const endpointSide = [
    ...(ns ? ['link set lo up'] : []),
    `link set ${names.peer} address ${req.mac} mtu ${mtu} addrgenmode none`,
    `addr add ${req.ip}/${req.prefixLen} dev ${names.peer}`,
    `link set ${names.peer} up`,
    ...(ns ? [`route add default via ${req.gatewayIp} dev ${names.peer}`] : []),
    // A host endpoint shares the host's namespace, whose default route is the underlay's: the
    // VPC's other networks get a route of their own (a more specific one: its network's).
    ...(!ns && req.vpcCidr && req.vpcCidr !== req.cidr ? [`route replace ${req.vpcCidr} via ${req.gatewayIp} dev ${names.peer}`] : []),
  ];
  try {
    await must(['ip', '-batch', '-'], { input: `${hostSide.join('\n')}\n` });
    await must(['ip', ...(ns ? ['-n', ns] : []), '-batch', '-'], { input: `${endpointSide.join('\n')}\n` });
    // (For receiving XDP frames, transitd attaches xdp_pass.)
    const ethtool = ['ethtool', '-K', names.peer, ...(opts.txChecksum ? TC_UNCARRIED_GSO : ['tx', 'off'])];
    await must(ns ? ['nsenter', `--net=${NETNS_DIR}/${ns}`, ...ethtool] : ethtool);
  } catch (err) {
    await deleteEndpointPlumbing(names);
    throw err;
  }
}

/**
 * Whether the endpoint's plumbing is there: its namespace, or for a host
 * endpoint its veth (`linkExists`: looked up in the caller's namespace).
 */
export function plumbingExists(names: EndpointNames, linkExists: (name: string) => boolean): boolean {
  return names.netns ? existsSync(`${NETNS_DIR}/${names.netns}`) : linkExists(names.veth);
}

/** Idempotent: whatever is missing is not an error. */
export async function deleteEndpointPlumbing(names: EndpointNames): Promise<void> {
  await run(['ip', 'link', 'del', names.veth]);
  if (names.netns) await deleteNamespace(names.netns);
}
