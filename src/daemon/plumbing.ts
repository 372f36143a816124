// An endpoint's plumbing on its host: a namespace holding veth0 (or, for a
// host endpoint, the host's own namespace), the veth pair, addresses, routes.
import { createHash } from 'node:crypto';
import { must, run } from '../util/exec.js';
import { createNamespace, deleteNamespace, inNs } from '../util/netns.js';
import type { AttachRequest } from './validate.js';

/** Geneve overhead of the agent's encapsulation: outer Ethernet+IPv4+UDP+Geneve+RTS option. */
export const ENCAP_OVERHEAD = 14 + 20 + 8 + 8 + 16;
export const DEFAULT_ENDPOINT_MTU = 1500 - ENCAP_OVERHEAD - 14 - 20; // room to spare under a 1500 underlay

export interface EndpointNames { netns: string; veth: string; peer: string }

/** Names are derived from (vni, ip) alone, so a restarted daemon finds them again. */
export function endpointNames(nsPrefix: string, vni: number, ip: string, hostEndpoint: boolean): EndpointNames {
  const tag = createHash('sha1').update(`${vni}/${ip}`).digest('hex').slice(0, 8);
  return {
    netns: hostEndpoint ? '' : `${nsPrefix}-e${vni}-${ip.replaceAll('.', '-')}`,
    veth: `ve${tag}`,
    peer: hostEndpoint ? `vh${tag}` : 'veth0',
  };
}

export async function createEndpointPlumbing(names: EndpointNames, req: AttachRequest): Promise<void> {
  const ns = names.netns || null;
  if (ns) await createNamespace(ns);
  try {
    await must(['ip', 'link', 'add', names.veth, 'type', 'veth', 'peer', 'name', names.peer, ...(ns ? ['netns', ns] : [])]);
    // IPv6 would only bring router solicitations the agent drops as unsupported.
    await run(['sysctl', '-qw', `net.ipv6.conf.${names.veth}.disable_ipv6=1`]);
    await must(['ip', 'link', 'set', names.veth, 'up']);
    const inside = (argv: string[]) => inNs(ns, argv);
    await run(inside(['sysctl', '-qw', `net.ipv6.conf.${names.peer}.disable_ipv6=1`]));
    await must(inside(['ip', 'link', 'set', names.peer, 'address', req.mac, 'mtu', String(req.mtu || DEFAULT_ENDPOINT_MTU)]));
    await must(inside(['ip', 'addr', 'add', `${req.ip}/${req.prefixLen}`, 'dev', names.peer]));
    await must(inside(['ip', 'link', 'set', names.peer, 'up']));
    // The agent encapsulates in XDP and cannot finish a checksum the stack
    // left to the NIC. (For receiving XDP frames, transitd attaches xdp_pass.)
    await must(inside(['ethtool', '-K', names.peer, 'tx', 'off']));
    if (ns) await must(inside(['ip', 'route', 'add', 'default', 'via', req.gatewayIp, 'dev', names.peer]));
  } catch (err) {
    await deleteEndpointPlumbing(names);
    throw err;
  }
}

/** Idempotent: whatever is missing is not an error. */
export async function deleteEndpointPlumbing(names: EndpointNames): Promise<void> {
  await run(['ip', 'link', 'del', names.veth]);
  if (names.netns) await deleteNamespace(names.netns);
}
