// Controller: holds the desired VPCs, networks and endpoints and drives every
// host's transitd to match (see desired.ts for what goes where). Each call is
// validated before anything changes; calls run one at a time.
import { connectTransitd, type TransitdClient } from '../transitd/client.js';
import { EndpointType, MAX_BACKENDS, MAX_MEMBERS, endpointRecordKey } from '../abi/index.js';
import { XvpcError, alreadyExists, invalid, notFound } from '../errors.js';
import { cidrContains, cidrOverlaps, cidrWithin, maskOf, parseCidr, parseIpv4 } from '../util/addr.js';
import { endpointMac, gatewayIp } from './addressing.js';
import { desiredState } from './desired.js';
import { Endpoint, type ControllerHost } from './endpoint.js';
import { Model, type EndpointModel, type NetworkModel, type VpcModel } from './model.js';
import { Reconciler } from './reconcile.js';
import { ControllerMetrics } from './metrics.js';
import * as check from '../util/check.js';
import * as sg from './security-groups.js';

function requireObject(args: unknown, method: string): Record<string, unknown> {
  if (typeof args !== 'object' || args === null) throw invalid(`${method}: expected an object of arguments`);
  return args as Record<string, unknown>;
}


/** An API call waiting its turn: its model change, and how to answer it. */
interface PendingChange {
  mutate(model: Model): unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class Controller<H extends ControllerHost = ControllerHost> {
  private model = new Model();
  private readonly clients: Record<string, TransitdClient>;
  private readonly reconciler: Reconciler;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: PendingChange[] = [];
  private draining = false;
  /** Reconcile counts and durations, for Prometheus (metrics.registry). */
  readonly metrics = new ControllerMetrics();

  /**
   * opts.connect: how to reach a host's transitd (default: gRPC to
   * transitdAddress); the unit tests hand in a recording fake.
   */
  constructor(readonly droplets: Record<string, H>, opts: { connect?: (name: string, address: string) => TransitdClient } = {}) {
    if (typeof droplets !== 'object' || droplets === null) throw invalid('droplets: expected a record of droplets by name');
    const connect = (name: string, d: H) =>
      opts.connect ? opts.connect(name, d.transitdAddress) : connectTransitd(name, d.transitdAddress, undefined, d.transitdTls);
    this.clients = Object.fromEntries(Object.entries(droplets).map(([name, d]) => [name, connect(name, d)]));
    this.reconciler = new Reconciler(this.clients);
  }

  /**
   * Runs API calls in order, each validated against the model as the calls
   * before it left it. Calls that arrive while a sync runs are applied
   * together and synced once (one desired-state diff, hosts attached in
   * parallel): what makes thousands of endpoints affordable. A call that fails
   * validation is rejected alone; if a joint sync fails, the model goes back
   * and each call of the batch is tried again on its own, so a rejected call
   * changes nothing and others are not rejected for it.
   */
  private change<T>(mutate: (model: Model) => T): Promise<T> {
    const done = new Promise<T>((resolve, reject) => {
      this.pending.push({ mutate, resolve: resolve as (v: unknown) => void, reject });
    });
    if (!this.draining) this.queue = this.drain();
    return done;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length) await this.applyBatch(this.pending.splice(0));
    } finally {
      this.draining = false;
    }
  }

  private async applyBatch(batch: PendingChange[]): Promise<void> {
    const before = this.model.clone();
    const applied: { change: PendingChange; result: unknown }[] = [];
    for (const change of batch) {
      // Validation throws before mutating (each call checks, then changes).
      try {
        applied.push({ change, result: change.mutate(this.model) });
      } catch (err) {
        change.reject(err);
      }
    }
    if (!applied.length) return;
    try {
      await this.sync();
    } catch (err) {
      this.model = before;
      await this.sync().catch(() => undefined);
      if (applied.length === 1) applied[0].change.reject(err);
      else for (const { change } of applied) await this.applyBatch([change]);
      return;
    }
    for (const { change, result } of applied) change.resolve(result);
  }

  private sync(): Promise<void> {
    const hosts = Object.fromEntries(Object.entries(this.droplets).map(([n, d]) => [n, { ip: d.ip, mac: d.mac }]));
    return this.metrics.time(() => this.reconciler.reconcile(desiredState(this.model, hosts)));
  }

  private hostArg(v: unknown, field: string): string {
    if (typeof v !== 'string' || v === '') throw invalid(`${field}: expected a droplet name`);
    if (!Object.hasOwn(this.droplets, v)) throw notFound(`${field}: no droplet named '${v}'`);
    return v;
  }

  private hostList(v: unknown, field: string): string[] {
    if (!Array.isArray(v)) throw invalid(`${field}: expected a list of droplet names`);
    if (v.length > MAX_MEMBERS) throw invalid(`${field}: at most ${MAX_MEMBERS}, got ${v.length}`);
    const names = v.map((n, i) => this.hostArg(n, `${field}[${i}]`));
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw invalid(`${field}: '${dup}' is listed twice`);
    return names;
  }

  private vpc(vni: number): VpcModel {
    const vpc = this.model.vpcs.get(vni);
    if (!vpc) throw notFound(`vni: no VPC with VNI ${vni}`);
    return vpc;
  }

  private network(vni: number, netId: number): NetworkModel {
    this.vpc(vni);
    const net = this.model.networks.get(Model.netKey(vni, netId));
    if (!net) throw notFound(`netId: VPC ${vni} has no network ${netId}`);
    return net;
  }

  private endpointIp(net: NetworkModel, v: unknown): string {
    const ip = check.ipv4(v, 'ip');
    const c = parseCidr(net.cidr, 'cidr');
    const n = parseIpv4(ip, 'ip');
    if (!cidrContains(c, n)) throw invalid(`ip: ${ip} is outside network ${net.netId}'s CIDR ${net.cidr}`);
    const host = (n & ~maskOf(c.len)) >>> 0;
    if (c.len < 31 && (host === 0 || host === (~maskOf(c.len) >>> 0)))
      throw invalid(`ip: ${ip} is the network or broadcast address of ${net.cidr}`);
    if (ip === gatewayIp(net.cidr)) throw invalid(`ip: ${ip} is the gateway address of ${net.cidr}`);
    if (this.model.endpoints.has(endpointRecordKey({ vni: net.vni, ip }))) throw alreadyExists(`ip: endpoint ${ip} already exists in VPC ${net.vni}`);
    return ip;
  }

  private makeEndpoint(ep: EndpointModel): Endpoint<H> {
    const reply = ep.host ? this.reconciler.attachmentsOf(ep.host).get(endpointRecordKey(ep)) : undefined;
    return new Endpoint<H>(ep.vni, ep.netId, ep.ip, ep.mac, ep.host ? this.droplets[ep.host] : undefined, reply?.netns ?? '');
  }

  // --- VPCs ----------------------------------------------------------------
  // Each call validates inside the queue, against the model as the calls
  // before it left it, and throws before mutating anything.

  async createVpc(args: { vni: number; cidr: string; routers?: string[]; directPath?: boolean }): Promise<void> {
    return this.change((m) => {
      const a = requireObject(args, 'createVpc');
      const vni = check.vni(a.vni);
      const cidr = check.cidr(a.cidr);
      const routers = this.hostList(a.routers ?? [], 'routers');
      if (a.directPath !== undefined && typeof a.directPath !== 'boolean') throw invalid('directPath: expected true or false');
      if (m.vpcs.has(vni)) throw alreadyExists(`vni: VPC ${vni} already exists`);
      m.vpcs.set(vni, { vni, cidr, routers, directPath: a.directPath ?? true });
    });
  }

  async deleteVpc(args: { vni: number }): Promise<void> {
    return this.change((m) => {
      const vni = check.vni(requireObject(args, 'deleteVpc').vni);
      this.vpc(vni);
      for (const ep of m.endpointsOf(vni)) m.endpoints.delete(endpointRecordKey(ep));
      for (const net of m.networksOf(vni)) m.networks.delete(Model.netKey(vni, net.netId));
      for (const [k, g] of m.securityGroups) if (g.vni === vni) m.securityGroups.delete(k);
      m.vpcs.delete(vni);
    });
  }

  async addRouter(args: { vni: number; router: string }): Promise<void> {
    return this.change(() => {
      const a = requireObject(args, 'addRouter');
      const vpc = this.vpc(check.vni(a.vni));
      const router = this.hostArg(a.router, 'router');
      if (vpc.routers.includes(router)) throw alreadyExists(`router: '${router}' is already a router of VPC ${vpc.vni}`);
      if (vpc.routers.length >= MAX_MEMBERS) throw invalid(`router: VPC ${vpc.vni} has ${MAX_MEMBERS} routers already`);
      vpc.routers.push(router);
    });
  }

  async removeRouter(args: { vni: number; router: string }): Promise<void> {
    return this.change(() => {
      const a = requireObject(args, 'removeRouter');
      const vpc = this.vpc(check.vni(a.vni));
      const router = this.hostArg(a.router, 'router');
      if (!vpc.routers.includes(router)) throw notFound(`router: '${router}' is not a router of VPC ${vpc.vni}`);
      vpc.routers = vpc.routers.filter((r) => r !== router);
    });
  }

  // --- networks --------------------------------------------------------------
  async createNetwork(args: { vni: number; netId: number; cidr: string; switches: string[] }): Promise<void> {
    return this.change((m) => {
      const a = requireObject(args, 'createNetwork');
      const vpc = this.vpc(check.vni(a.vni));
      const netId = check.u32(a.netId, 'netId');
      const cidr = check.cidr(a.cidr);
      const switches = this.hostList(a.switches, 'switches');
      if (switches.length === 0) throw invalid('switches: a network needs at least one switch');
      const c = parseCidr(cidr, 'cidr');
      if (!cidrWithin(c, parseCidr(vpc.cidr, 'cidr'))) throw invalid(`cidr: ${cidr} is not inside VPC ${vpc.vni}'s CIDR ${vpc.cidr}`);
      if (c.len > 30) throw invalid(`cidr: ${cidr} is too small for a gateway and endpoints (at most /30)`);
      if (m.networks.has(Model.netKey(vpc.vni, netId))) throw alreadyExists(`netId: VPC ${vpc.vni} already has network ${netId}`);
      const overlap = m.networksOf(vpc.vni).find((n) => cidrOverlaps(c, parseCidr(n.cidr, 'cidr')));
      if (overlap) throw invalid(`cidr: ${cidr} overlaps network ${overlap.netId} (${overlap.cidr}) of VPC ${vpc.vni}`);
      m.networks.set(Model.netKey(vpc.vni, netId), { vni: vpc.vni, netId, cidr, switches });
    });
  }

  async deleteNetwork(args: { vni: number; netId: number }): Promise<void> {
    return this.change((m) => {
      const a = requireObject(args, 'deleteNetwork');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      for (const ep of m.endpointsOf(net.vni, net.netId)) m.endpoints.delete(endpointRecordKey({ vni: net.vni, ip: ep.ip }));
      m.networks.delete(Model.netKey(net.vni, net.netId));
    });
  }

  async addSwitch(args: { vni: number; netId: number; switch: string }): Promise<void> {
    return this.change(() => {
      const a = requireObject(args, 'addSwitch');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const sw = this.hostArg(a.switch, 'switch');
      if (net.switches.includes(sw)) throw alreadyExists(`switch: '${sw}' is already a switch of network ${net.netId}`);
      if (net.switches.length >= MAX_MEMBERS) throw invalid(`switch: network ${net.netId} has ${MAX_MEMBERS} switches already`);
      net.switches.push(sw);
    });
  }

  async removeSwitch(args: { vni: number; netId: number; switch: string }): Promise<void> {
    return this.change(() => {
      const a = requireObject(args, 'removeSwitch');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const sw = this.hostArg(a.switch, 'switch');
      if (!net.switches.includes(sw)) throw notFound(`switch: '${sw}' is not a switch of network ${net.netId}`);
      if (net.switches.length === 1)
        throw new XvpcError('FAILED_PRECONDITION', `switch: '${sw}' is the last switch of network ${net.netId}; add another first`);
      net.switches = net.switches.filter((s) => s !== sw);
    });
  }

  // --- endpoints ---------------------------------------------------------------
  private async createHosted(method: string, args: unknown, type: EndpointType): Promise<Endpoint<H>> {
    const ep = await this.change((m) => {
      const a = requireObject(args, method);
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = this.endpointIp(net, a.ip);
      const host = this.hostArg(a.host, 'host');
      const securityGroups = sg.groupNames(m, net.vni, a.securityGroups);
      const ep: EndpointModel = { vni: net.vni, netId: net.netId, ip, mac: endpointMac(net.vni, ip), type, host, backends: [], securityGroups };
      m.endpoints.set(endpointRecordKey({ vni: net.vni, ip }), ep);
      return ep;
    });
    return this.makeEndpoint(ep);
  }

  async createSimpleEndpoint(args: { vni: number; netId: number; ip: string; host: string; securityGroups?: string[] }): Promise<Endpoint<H>> {
    return this.createHosted('createSimpleEndpoint', args, EndpointType.SIMPLE);
  }

  /** An endpoint whose interface sits in the host's own namespace, so the host itself is in the VPC. */
  async createHostEndpoint(args: { vni: number; netId: number; ip: string; host: string; securityGroups?: string[] }): Promise<Endpoint<H>> {
    return this.createHosted('createHostEndpoint', args, EndpointType.HOST);
  }

  /** A scaled endpoint's backend list: endpoints of its VPC, none itself scaled, none twice. */
  private backendList(m: Model, vni: number, v: unknown): string[] {
    if (!Array.isArray(v) || v.length === 0) throw invalid('backends: a scaled endpoint needs at least one backend endpoint');
    if (v.length > MAX_BACKENDS) throw invalid(`backends: at most ${MAX_BACKENDS}, got ${v.length}`);
    const ips = v.map((b: unknown, i) => {
      const bip = (b as { ip?: unknown })?.ip;
      const known = typeof bip === 'string' ? m.endpoints.get(endpointRecordKey({ vni, ip: bip })) : undefined;
      if (!known) throw notFound(`backends[${i}]: not an endpoint of VPC ${vni}`);
      if (known.type === EndpointType.SCALED) throw invalid(`backends[${i}]: ${known.ip} is itself a scaled endpoint`);
      return known.ip;
    });
    const dup = ips.find((ip, i) => ips.indexOf(ip) !== i);
    if (dup) throw invalid(`backends: ${dup} is listed twice`);
    return ips;
  }

  async createScaledEndpoint(args: { vni: number; netId: number; ip: string; backends: Endpoint[] }): Promise<Endpoint<H>> {
    const ep = await this.change((m) => {
      const a = requireObject(args, 'createScaledEndpoint');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = this.endpointIp(net, a.ip);
      const backends = this.backendList(m, net.vni, a.backends);
      const ep: EndpointModel = { vni: net.vni, netId: net.netId, ip, mac: endpointMac(net.vni, ip), type: EndpointType.SCALED, backends };
      m.endpoints.set(endpointRecordKey({ vni: net.vni, ip }), ep);
      return ep;
    });
    return this.makeEndpoint(ep);
  }

  /**
   * Replaces a scaled endpoint's backends in place. Its switches pick by a
   * consistent-hash slot table, so only the flows of added or removed
   * backends move.
   */
  async updateScaledEndpoint(args: { vni: number; netId: number; ip: string; backends: Endpoint[] }): Promise<void> {
    return this.change((m) => {
      const a = requireObject(args, 'updateScaledEndpoint');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = check.ipv4(a.ip, 'ip');
      const ep = m.endpoints.get(endpointRecordKey({ vni: net.vni, ip }));
      if (!ep || ep.netId !== net.netId) throw notFound(`ip: network ${net.netId} of VPC ${net.vni} has no endpoint ${ip}`);
      if (ep.type !== EndpointType.SCALED) throw invalid(`ip: ${ip} is not a scaled endpoint`);
      ep.backends = this.backendList(m, net.vni, a.backends);
    });
  }

  async deleteSimpleEndpoint(args: { vni: number; netId: number; ip: string }): Promise<void> {
    return this.change((m) => {
      const a = requireObject(args, 'deleteSimpleEndpoint');
      const net = this.network(check.vni(a.vni), check.u32(a.netId, 'netId'));
      const ip = check.ipv4(a.ip, 'ip');
      const ep = m.endpoints.get(endpointRecordKey({ vni: net.vni, ip }));
      if (!ep || ep.netId !== net.netId) throw notFound(`ip: network ${net.netId} of VPC ${net.vni} has no endpoint ${ip}`);
      const usedBy = m.endpointsOf(net.vni).find((e) => e.backends.includes(ip));
      if (usedBy) throw new XvpcError('FAILED_PRECONDITION', `ip: ${ip} is a backend of scaled endpoint ${usedBy.ip}`);
      m.endpoints.delete(endpointRecordKey({ vni: net.vni, ip }));
    });
  }

  // --- security groups (security-groups.ts) ---------------------------------------
  /** Rules allow; with a group attached, each direction is default-deny; replies of allowed connections pass. */
  async createSecurityGroup(args: sg.SecurityGroupArgs): Promise<void> { return this.change((m) => sg.createSecurityGroup(m, args)); }
  /** Replaces both rule lists; applies to new connections at once. */
  async updateSecurityGroup(args: sg.SecurityGroupArgs): Promise<void> { return this.change((m) => sg.updateSecurityGroup(m, args)); }
  /** FAILED_PRECONDITION while attached. */
  async deleteSecurityGroup(args: sg.SecurityGroupRef): Promise<void> { return this.change((m) => sg.deleteSecurityGroup(m, args)); }
  async attachSecurityGroup(args: sg.SecurityAttachArgs): Promise<void> { return this.change((m) => sg.attachSecurityGroup(m, args)); }
  async detachSecurityGroup(args: sg.SecurityAttachArgs): Promise<void> { return this.change((m) => sg.detachSecurityGroup(m, args)); }
  async listSecurityGroups(args: { vni: number }): Promise<sg.SecurityGroupInfo[]> { return this.change((m) => sg.listSecurityGroups(m, args)); }

  /** Closes the gRPC channels; hosts keep their state. */
  async close(): Promise<void> {
    await this.queue;
    for (const c of Object.values(this.clients)) c.close();
  }
}
