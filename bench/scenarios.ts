// The ways the same two endpoints (10.0.0.2 -> 10.0.0.3) are connected for
// the throughput and latency runs:
//   (a) xvpc on XDP, the network's switch on a third host, direct path on
//   (a-off) the same droplets and switch, a second VPC with direct path off
//           (its own pair of endpoints, same addresses, same hosts)
//   (b) xvpc on XDP, the switch on the client's host (same endpoints: the switch moves)
//   (at), (at-off), (bt) the same three on droplets running the TC data path
//   (c) direct: two namespaces on a Linux bridge (veth + bridge, the limit here)
//   (d) kernel VXLAN: two namespaces with vxlan0 over an underlay bridge
// (c) and (d) get their own namespaces, named `<prefix>-...` so that
// cleanupAll(prefix) finds them too; the same inner addresses and MTU.
import { Controller } from '../dist/controller/controller.js';
import type { Endpoint } from '../dist/controller/endpoint.js';
import { DEFAULT_UNDERLAY_MTU, createDroplets, destroyDroplets, type Droplet } from '../dist/droplet/index.js';

/** Outer IPv4 + UDP + VXLAN + inner Ethernet. */
const VXLAN_OVERHEAD = 50;
import { must } from '../dist/util/exec.js';
import { createNamespace, deleteNamespace } from '../dist/util/netns.js';
import type { FirstPacketRig } from './first-packet.js';
import { linkMtu, nsMust, nsRun } from './ns.js';

import { SCENARIO_LABELS, XVPC_KEYS, type ScenarioKey, type XvpcKey } from './scenario-keys.js';

export const CLIENT_IP = '10.0.0.2';
export const SERVER_IP = '10.0.0.3';
/** The VPC with direct path on: (a), (b), (at), (bt). */
export const VNI = 3;
/** The VPC with direct path off, same hosts and switch: (a-off), (at-off). */
export const VNI_OFF = 4;
export const NET_ID = 1;
export const CIDR = '10.0.0.0/16';

/** Two namespaces that can reach each other one way or another. */
export interface Pair {
  key: ScenarioKey;
  label: string;
  clientNs: string;
  serverNs: string;
  serverIp: string;
  /** The data-plane counters of every host involved (xvpc only), for evidence. */
  counters?: () => Promise<Record<string, Record<string, number>>>;
}

/** Brings the bridges of a namespace out of br_netfilter's reach (as the droplets' underlay does). */
async function bridgeOutOfNetfilter(ns: string): Promise<void> {
  for (const key of ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables']) {
    if ((await nsRun(ns, ['test', '-e', `/proc/sys/net/bridge/${key}`])).code === 0) {
      await nsMust(ns, ['sysctl', '-qw', `net.bridge.${key}=0`]);
    }
  }
}

async function quietNamespace(ns: string): Promise<void> {
  await createNamespace(ns);
  await nsRun(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

async function makeBridge(ns: string): Promise<void> {
  await quietNamespace(ns);
  await must(['ip', '-n', ns, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await bridgeOutOfNetfilter(ns);
  await must(['ip', '-n', ns, 'link', 'set', 'br0', 'up']);
}

/** A veth from bridge namespace `brNs` (port `port`) into `ns` as `dev`, with address and MTU. */
async function plug(brNs: string, port: string, ns: string, dev: string, cidr: string, mtu: number): Promise<void> {
  await must(['ip', '-n', brNs, 'link', 'add', port, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', dev, 'mtu', String(mtu), 'netns', ns]);
  await must(['ip', '-n', brNs, 'link', 'set', port, 'master', 'br0']);
  await must(['ip', '-n', brNs, 'link', 'set', port, 'up']);
  await must(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', dev]);
  await must(['ip', '-n', ns, 'link', 'set', dev, 'up']);
}

/** Pings until an answer comes (the first packets may wait for ARP), within timeoutMs. */
async function reachable(ns: string, ip: string, timeoutMs = 10_000): Promise<void> {
  const r = await nsRun(ns, ['ping', '-n', '-q', '-c', '1', '-i', '0.05', '-w', String(Math.ceil(timeoutMs / 1000)), ip], timeoutMs + 2000);
  if (r.code !== 0) throw new Error(`${ns} cannot reach ${ip}: ${r.stdout.trim()} ${r.stderr.trim()}`);
}

/** (a), (a-off) and (b), or the same on TC: three droplets, two VPCs (direct path on and off), two endpoints in each. */
export class XvpcTopology {
  private constructor(
    readonly mode: 'native' | 'tc',
    readonly droplets: Record<string, Droplet>,
    readonly controller: Controller<Droplet>,
    readonly client: Endpoint,
    readonly server: Endpoint,
    readonly offClient: Endpoint,
    readonly offServer: Endpoint,
  ) {}

  /** On failure the droplets are destroyed again. */
  static async create(prefix: string, mode: 'native' | 'tc'): Promise<XvpcTopology> {
    const droplets = await createDroplets(['left', 'right', 'switch'], { prefix, mode });
    const c = new Controller(droplets);
    try {
      const pairIn = async (vni: number, directPath: boolean) => {
        await c.createVpc({ vni, cidr: CIDR, routers: [], directPath });
        await c.createNetwork({ vni, netId: NET_ID, cidr: CIDR, switches: ['switch'] });
        const client = await c.createSimpleEndpoint({ vni, netId: NET_ID, ip: CLIENT_IP, host: 'left' });
        const server = await c.createSimpleEndpoint({ vni, netId: NET_ID, ip: SERVER_IP, host: 'right' });
        await reachable(client.netns, SERVER_IP);
        await reachable(server.netns, CLIENT_IP);
        return [client, server] as const;
      };
      const [client, server] = await pairIn(VNI, true);
      const [offClient, offServer] = await pairIn(VNI_OFF, false);
      return new XvpcTopology(mode, droplets, c, client, server, offClient, offServer);
    } catch (err) {
      await c.close().catch(() => undefined);
      await destroyDroplets(droplets).catch(() => undefined);
      throw err;
    }
  }

  /** MTU the endpoints got (the baselines use the same). */
  endpointMtu(): Promise<number> { return linkMtu(this.client.netns, 'veth0'); }

  private pair(key: XvpcKey, client = this.client, server = this.server): Pair {
    return {
      key, label: SCENARIO_LABELS[key], clientNs: client.netns, serverNs: server.netns, serverIp: SERVER_IP,
      counters: () => this.counters(),
    };
  }

  /** The data-plane counters of every host, by droplet name. */
  private async counters(): Promise<Record<string, Record<string, number>>> {
    return Object.fromEntries(await Promise.all(Object.values(this.droplets).map(async (d) => [d.id, await d.stats()] as const)));
  }

  /** The switch on the third host, direct path on: (a) or (at). */
  pairA(): Pair { return this.pair(XVPC_KEYS[this.mode][0]); }

  /** The switch on the third host, direct path off: (a-off) or (at-off). */
  pairAOff(): Pair { return this.pair(XVPC_KEYS[this.mode][1], this.offClient, this.offServer); }

  /** Fresh endpoint pairs in either VPC for the first-packet rounds (first-packet.ts). */
  firstPacketRig(): FirstPacketRig {
    return {
      switchHost: 'switch',
      counters: () => this.counters(),
      freshPair: async (on, round) => {
        if (round > 200) throw new Error(`first-packet round ${round}: only 200 fresh addresses per side`);
        const vni = on ? VNI : VNI_OFF;
        const client = await this.controller.createSimpleEndpoint({ vni, netId: NET_ID, ip: `10.0.1.${round + 10}`, host: 'left' });
        const server = await this.controller.createSimpleEndpoint({ vni, netId: NET_ID, ip: `10.0.2.${round + 10}`, host: 'right' });
        return { clientNs: client.netns, serverIp: server.ip };
      },
    };
  }

  /** Moves the network's only switch from the third host onto the client's host. */
  async moveSwitchToClientHost(): Promise<Pair> {
    await this.controller.addSwitch({ vni: VNI, netId: NET_ID, switch: 'left' });
    await this.controller.removeSwitch({ vni: VNI, netId: NET_ID, switch: 'switch' });
    await reachable(this.client.netns, SERVER_IP);
    await reachable(this.server.netns, CLIENT_IP);
    return this.pair(XVPC_KEYS[this.mode][2]);
  }

  async destroy(): Promise<void> {
    await this.controller.close().catch(() => undefined);
    await destroyDroplets(this.droplets);
  }
}

/** Namespaces a baseline made, removed in reverse order. */
export class Baseline {
  private constructor(readonly pair: Pair, private readonly namespaces: string[]) {}

  /** (c): `<prefix>-dl` and `<prefix>-dr` on br0 of `<prefix>-dbr`. */
  static async direct(prefix: string, mtu: number): Promise<Baseline> {
    const [l, r, br] = [`${prefix}-dl`, `${prefix}-dr`, `${prefix}-dbr`];
    const made: string[] = [];
    try {
      for (const ns of [br, l, r]) {
        made.push(ns);
        if (ns === br) await makeBridge(ns);
        else await quietNamespace(ns);
      }
      await plug(br, 'pl', l, 'veth0', `${CLIENT_IP}/16`, mtu);
      await plug(br, 'pr', r, 'veth0', `${SERVER_IP}/16`, mtu);
      await reachable(l, SERVER_IP);
      return new Baseline({ key: 'c', label: SCENARIO_LABELS.c, clientNs: l, serverNs: r, serverIp: SERVER_IP }, made);
    } catch (err) {
      await removeAll(made);
      throw err;
    }
  }

  /**
   * (d): `<prefix>-vl` and `<prefix>-vr`, eth0 on br0 of `<prefix>-vul`
   * (172.30.0.2/.3, the droplets' underlay MTU), vxlan0 (VNI 42, UDP 4789)
   * carrying the inner addresses with the endpoints' MTU (or what fits).
   */
  static async vxlan(prefix: string, mtu: number): Promise<Baseline> {
    const [l, r, ul] = [`${prefix}-vl`, `${prefix}-vr`, `${prefix}-vul`];
    const under = { [l]: '172.30.0.2', [r]: '172.30.0.3' };
    const made: string[] = [];
    try {
      for (const ns of [ul, l, r]) {
        made.push(ns);
        if (ns === ul) await makeBridge(ns);
        else await quietNamespace(ns);
      }
      await plug(ul, 'ul', l, 'eth0', `${under[l]}/16`, DEFAULT_UNDERLAY_MTU);
      await plug(ul, 'ur', r, 'eth0', `${under[r]}/16`, DEFAULT_UNDERLAY_MTU);
      for (const [ns, peer, inner] of [[l, under[r], CLIENT_IP], [r, under[l], SERVER_IP]]) {
        await must(['ip', '-n', ns, 'link', 'add', 'vxlan0', 'mtu', String(Math.min(mtu, DEFAULT_UNDERLAY_MTU - VXLAN_OVERHEAD)), 'type', 'vxlan', 'id', '42',
          'remote', peer, 'dstport', '4789', 'dev', 'eth0']);
        await must(['ip', '-n', ns, 'addr', 'add', `${inner}/16`, 'dev', 'vxlan0']);
        await must(['ip', '-n', ns, 'link', 'set', 'vxlan0', 'up']);
      }
      await reachable(l, SERVER_IP);
      return new Baseline({ key: 'd', label: SCENARIO_LABELS.d, clientNs: l, serverNs: r, serverIp: SERVER_IP }, made);
    } catch (err) {
      await removeAll(made);
      throw err;
    }
  }

  destroy(): Promise<void> { return removeAll(this.namespaces); }
}

async function removeAll(namespaces: string[]): Promise<void> {
  for (const ns of [...namespaces].reverse()) await deleteNamespace(ns);
}

/** Every baseline namespace name of a prefix (for a last-resort sweep). */
export const baselineNamespaces = (prefix: string): string[] =>
  ['dl', 'dr', 'dbr', 'vl', 'vr', 'vul'].map((s) => `${prefix}-${s}`);
