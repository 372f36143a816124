// From a parsed scenario to a Plan: host names expanded, references checked
// (each error names its line), and every endpoint given a name and address.
import { cidrContains, cidrOverlaps, cidrWithin, formatIpv4, maskOf, notUnicastOverlap, parseCidr, parseIpv4, type Cidr } from '../util/addr.js';
import { gatewayIp } from '../controller/addressing.js';
import type { SourceMap } from './parse.js';
import { dropletNameProblem } from '../droplet/names.js';
import type { HostShaping, Plan, PlannedEndpoint, Scenario, Shaping } from './types.js';

/** tc prio has 16 bands: one for the common uplink, the rest for pairs. */
export const MAX_PAIRS_PER_HOST = 15;

export function hostNames(s: Scenario): string[] {
  if (s.hosts.names) return s.hosts.names;
  const prefix = s.hosts.namePrefix ?? 'h';
  return Array.from({ length: s.hosts.count ?? 0 }, (_, i) => `${prefix}${i + 1}`);
}

const counted = (vni: number, netId: number, host: string, k: number) => `v${vni}n${netId}-${host}-${k}`;

function cidrOf(source: SourceMap, path: (string | number)[], text: string): Cidr {
  try {
    return parseCidr(text, 'cidr');
  } catch (err) {
    throw source.error(path, (err as Error).message.replace(/^cidr: /, ''));
  }
}

function checkShaping(source: SourceMap, path: (string | number)[], s: Shaping): void {
  if (s.jitter && !s.delay) throw source.error([...path, 'jitter'], 'jitter needs a delay');
  if (s.loss && Number(s.loss.slice(0, -1)) > 100) throw source.error([...path, 'loss'], `${s.loss} is over 100%`);
}

/** The most endpoints one scenario makes (the endpoints map of every switch holds them all; emulation measured up to 10,000). */
export const MAX_SCENARIO_ENDPOINTS = 100_000;

export function makePlan(s: Scenario, source: SourceMap): Plan {
  const hosts = hostNames(s);
  // Every droplet name rule, before anything is made (the droplets stage would find them only once it runs).
  for (const [i, h] of hosts.entries()) {
    const problem = dropletNameProblem(h);
    if (problem) throw source.error(['hosts', s.hosts.names ? 'names' : 'namePrefix', ...(s.hosts.names ? [i] : [])], `host name ${problem}`);
  }
  if (s.hosts.transitd === 'shared' && (s.hosts.backend ?? 'netns') !== 'netns') {
    throw source.error(['hosts', 'transitd'], `shared is for netns hosts only, not ${s.hosts.backend}`);
  }
  if (s.hosts.endpointNamespace === 'shared' && (s.hosts.backend ?? 'netns') !== 'netns') {
    throw source.error(['hosts', 'endpointNamespace'], `shared is for netns hosts only, not ${s.hosts.backend}`);
  }
  const known = new Set(hosts);
  const host = (path: (string | number)[], name: string) => {
    if (!known.has(name)) throw source.error(path, `no host '${name}' (hosts: ${hosts.slice(0, 8).join(', ')}${hosts.length > 8 ? ', ...' : ''})`);
    return name;
  };

  // Shaping: per host, the common uplink (or its own), plus one class per pair.
  const shaping = new Map<string, HostShaping>();
  const shapeOf = (h: string) => {
    let v = shaping.get(h);
    if (!v) shaping.set(h, (v = { host: h, pairs: [] }));
    return v;
  };
  if (s.links?.uplink) {
    checkShaping(source, ['links', 'uplink'], s.links.uplink);
    for (const h of hosts) shapeOf(h).uplink = s.links.uplink;
  }
  for (const [h, sh] of Object.entries(s.links?.hosts ?? {})) {
    host(['links', 'hosts', h], h);
    checkShaping(source, ['links', 'hosts', h], sh);
    shapeOf(h).uplink = sh;
  }
  for (const [i, p] of (s.links?.pairs ?? []).entries()) {
    const [a, b] = p.between.map((h, j) => host(['links', 'pairs', i, 'between', j], h));
    if (a === b) throw source.error(['links', 'pairs', i, 'between'], `a pair needs two different hosts, not '${a}' twice`);
    const { between: _between, ...sh } = p;
    if (!Object.keys(sh).length) throw source.error(['links', 'pairs', i], 'give at least one of delay, jitter, loss, rate');
    checkShaping(source, ['links', 'pairs', i], sh);
    for (const [x, y] of [[a, b], [b, a]]) {
      const hs = shapeOf(x);
      if (hs.pairs.some((q) => q.peer === y)) throw source.error(['links', 'pairs', i], `pair ${a}-${b} is given twice`);
      hs.pairs.push({ peer: y, shaping: sh });
      if (hs.pairs.length > MAX_PAIRS_PER_HOST) throw source.error(['links', 'pairs', i], `host '${x}' is in more than ${MAX_PAIRS_PER_HOST} pairs`);
    }
  }

  // VPCs and networks.
  const vpcs: Plan['vpcs'] = [];
  const networks: Plan['networks'] = [];
  const netCidrs = new Map<string, Cidr>();
  for (const [i, v] of s.vpcs.entries()) {
    if (vpcs.some((x) => x.vni === v.vni)) throw source.error(['vpcs', i, 'vni'], `VNI ${v.vni} is given twice`);
    const vc = cidrOf(source, ['vpcs', i, 'cidr'], v.cidr);
    const reserved = notUnicastOverlap(vc);
    if (reserved) throw source.error(['vpcs', i, 'cidr'], reserved);
    const routers = (v.routers ?? []).map((r, j) => host(['vpcs', i, 'routers', j], r));
    vpcs.push({ vni: v.vni, cidr: v.cidr, routers });
    for (const [j, n] of v.networks.entries()) {
      const path = ['vpcs', i, 'networks', j];
      if (networks.some((x) => x.vni === v.vni && x.netId === n.netId)) throw source.error([...path, 'netId'], `network ${n.netId} is given twice in VPC ${v.vni}`);
      const nc = cidrOf(source, [...path, 'cidr'], n.cidr);
      if (!cidrWithin(nc, vc)) throw source.error([...path, 'cidr'], `${n.cidr} is not inside the VPC's ${v.cidr}`);
      for (const other of networks.filter((x) => x.vni === v.vni)) {
        if (cidrOverlaps(nc, netCidrs.get(`${v.vni}/${other.netId}`)!)) throw source.error([...path, 'cidr'], `${n.cidr} overlaps network ${other.netId}'s ${other.cidr}`);
      }
      const switches = n.switches.map((sw, k) => host([...path, 'switches', k], sw));
      networks.push({ vni: v.vni, netId: n.netId, cidr: n.cidr, switches });
      netCidrs.set(`${v.vni}/${n.netId}`, nc);
    }
  }

  // Security groups (names unique per VPC).
  const securityGroups: Plan['securityGroups'] = [];
  for (const [i, g] of (s.securityGroups ?? []).entries()) {
    if (!vpcs.some((v) => v.vni === g.vni)) throw source.error(['securityGroups', i, 'vni'], `no VPC with VNI ${g.vni}`);
    if (securityGroups.some((x) => x.vni === g.vni && x.name === g.name)) throw source.error(['securityGroups', i, 'name'], `group '${g.name}' is given twice in VPC ${g.vni}`);
    securityGroups.push({ vni: g.vni, name: g.name, ingress: g.ingress ?? [], egress: g.egress ?? [] });
  }

  // Endpoints: listed ones first (their addresses are taken), then counted ones.
  const endpoints: PlannedEndpoint[] = [];
  const origin: number[] = []; // endpoints[k] comes from specs[origin[k]]
  const names = new Set<string>();
  const used = new Map<number, Set<number>>(); // vni -> taken addresses
  const takenIn = (vni: number) => {
    let t = used.get(vni);
    if (!t) used.set(vni, (t = new Set()));
    return t;
  };
  const specs = s.endpoints ?? [];
  const netOf = (i: number) => {
    const e = specs[i];
    if (!vpcs.some((v) => v.vni === e.vni)) throw source.error(['endpoints', i, 'vni'], `no VPC with VNI ${e.vni}`);
    const c = netCidrs.get(`${e.vni}/${e.netId}`);
    if (!c) throw source.error(['endpoints', i, 'netId'], `VPC ${e.vni} has no network ${e.netId}`);
    for (const [j, g] of (e.securityGroups ?? []).entries()) {
      if (!securityGroups.some((x) => x.vni === e.vni && x.name === g)) throw source.error(['endpoints', i, 'securityGroups', j], `no security group '${g}' in VPC ${e.vni}`);
    }
    return c;
  };
  const reserved = (c: Cidr, n: number) => {
    const hostPart = (n & ~maskOf(c.len)) >>> 0;
    return (c.len < 31 && (hostPart === 0 || hostPart === (~maskOf(c.len) >>> 0))) || formatIpv4(n) === gatewayIp(`${formatIpv4(c.prefix)}/${c.len}`);
  };
  for (const [i, e] of specs.entries()) {
    if (e.name === undefined) continue;
    const c = netOf(i);
    if (names.has(e.name)) throw source.error(['endpoints', i, 'name'], `endpoint '${e.name}' is given twice`);
    names.add(e.name);
    host(['endpoints', i, 'host'], e.host!);
    if (e.ip !== undefined) {
      let n: number;
      try { n = parseIpv4(e.ip, 'ip'); } catch (err) { throw source.error(['endpoints', i, 'ip'], (err as Error).message.replace(/^ip: /, '')); }
      if (!cidrContains(c, n)) throw source.error(['endpoints', i, 'ip'], `${e.ip} is outside network ${e.netId}'s CIDR`);
      if (reserved(c, n)) throw source.error(['endpoints', i, 'ip'], `${e.ip} is the network, gateway or broadcast address`);
      if (takenIn(e.vni).has(n)) throw source.error(['endpoints', i, 'ip'], `${e.ip} is used twice in VPC ${e.vni}`);
      takenIn(e.vni).add(n);
    }
  }
  // Counted endpoints multiply: bounded before a single address is walked.
  const total = specs.reduce((sum, e) => sum + (e.name !== undefined ? 1 : (e.hosts === 'all' ? hosts.length : e.hosts!.length) * e.perHost!), 0);
  if (total > MAX_SCENARIO_ENDPOINTS) {
    throw source.error(['endpoints'], `${total} endpoints (listed, and perHost times hosts); a scenario makes at most ${MAX_SCENARIO_ENDPOINTS}`);
  }
  // Next free address per network, walking up from the first host address.
  const cursor = new Map<string, number>();
  const allocate = (i: number, vni: number, netId: number, c: Cidr): string => {
    const key = `${vni}/${netId}`;
    const last = (c.prefix | (~maskOf(c.len) >>> 0)) >>> 0;
    for (let n = cursor.get(key) ?? c.prefix; n <= last; n++) {
      if (reserved(c, n) || takenIn(vni).has(n)) continue;
      takenIn(vni).add(n);
      cursor.set(key, n + 1);
      return formatIpv4(n);
    }
    throw source.error(['endpoints', i], `network ${netId} of VPC ${vni} (${formatIpv4(c.prefix)}/${c.len}) has no free address left`);
  };
  for (const [i, e] of specs.entries()) {
    const c = netOf(i);
    if (e.name !== undefined) {
      endpoints.push({ name: e.name, vni: e.vni, netId: e.netId, host: e.host!, ip: e.ip ?? allocate(i, e.vni, e.netId, c),
        ...(e.securityGroups ? { securityGroups: e.securityGroups } : {}) });
      origin.push(i);
      continue;
    }
    const on = e.hosts === 'all' ? hosts : e.hosts!.map((h, j) => host(['endpoints', i, 'hosts', j], h));
    for (const h of on) {
      for (let k = 1; k <= e.perHost!; k++) {
        let name = counted(e.vni, e.netId, h, k);
        for (let extra = 2; names.has(name); extra++) name = `${counted(e.vni, e.netId, h, k)}-${extra}`;
        names.add(name);
        endpoints.push({ name, vni: e.vni, netId: e.netId, host: h, ip: allocate(i, e.vni, e.netId, c),
          ...(e.securityGroups ? { securityGroups: e.securityGroups } : {}) });
        origin.push(i);
      }
    }
  }
  // One namespace for all of a host's endpoints: an address there is one endpoint's only.
  if (s.hosts.endpointNamespace === 'shared') {
    const onHost = new Map<string, PlannedEndpoint>();
    endpoints.forEach((ep, k) => {
      const other = onHost.get(`${ep.host}/${ep.ip}`);
      if (other) {
        throw source.error(['endpoints', origin[k]], `endpoint '${ep.name}' (VPC ${ep.vni}) and '${other.name}' (VPC ${other.vni}) both have ${ep.ip} on host ${ep.host}, `
          + 'whose endpoints share one namespace (hosts.endpointNamespace: shared); put them on different hosts or give them different addresses');
      }
      onHost.set(`${ep.host}/${ep.ip}`, ep);
    });
  }

  // Checks refer to endpoints by name.
  const checks = s.checks ?? {};
  const ref = (path: (string | number)[], name: string) => {
    if (!names.has(name)) throw source.error(path, `no endpoint '${name}'`);
  };
  for (const [i, c] of (checks.iperf ?? []).entries()) { ref(['checks', 'iperf', i, 'client'], c.client); ref(['checks', 'iperf', i, 'server'], c.server); }
  for (const [i, c] of (checks.coordinated ?? []).entries()) {
    c.clients.forEach((n, j) => ref(['checks', 'coordinated', i, 'clients', j], n));
    c.servers.forEach((n, j) => ref(['checks', 'coordinated', i, 'servers', j], n));
  }
  for (const [i, c] of (checks.rtt ?? []).entries()) { ref(['checks', 'rtt', i, 'from'], c.from); ref(['checks', 'rtt', i, 'to'], c.to); }
  for (const [i, c] of (checks.unreachable ?? []).entries()) { ref(['checks', 'unreachable', i, 'from'], c.from); ref(['checks', 'unreachable', i, 'to'], c.to); }

  return {
    name: s.name ?? 'scenario',
    hosts, backend: s.hosts.backend ?? 'netns', ...(s.hosts.mode ? { mode: s.hosts.mode } : {}),
    ...(s.hosts.transitd === 'shared' ? { transitd: 'shared' as const } : {}),
    ...(s.hosts.endpointNamespace === 'shared' ? { endpointNamespace: 'shared' as const } : {}),
    shaping: [...shaping.values()], vpcs, networks, securityGroups, endpoints, checks,
  };
}
