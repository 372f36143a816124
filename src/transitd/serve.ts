// One transitd's work for one host, whoever runs it: main.ts (a process per
// host) or host.ts (one process for many emulated hosts, each droplet's
// transitd run inside its network namespace's netnsContext). It parses transitd's
// arguments, loads the xvpc programs (maps pinned under --pin-root, so a
// restart picks the state up again), attaches the transit program to --iface
// and serves the Transit gRPC service on a unix socket. Process-wide things
// (umask, signals, exit) are the caller's.
import * as grpc from '@grpc/grpc-js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, lstatSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer as createNetServer } from 'node:net';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { addon } from '../dataplane/addon.js';
import { ATTACH_MODES, HostDataplane, hookOf, type AttachMode } from '../dataplane/host.js';
import { TransitService as TransitServiceDef } from '../gen/transit.js';
import { decodeEndpointBatch } from './batch-wire.js';
import { linkInfo } from '../util/link.js';
import { ensureTrustedDir, PRIVATE_FILE_MODE, withPrivateUmask } from '../util/private-fs.js';
import { checkPrerequisites } from '../util/prereq.js';
import { parseCapacities, parsePreallocate } from './capacity.js';
import { recoverGoalState } from './goal-state.js';
import { GoalStateJournal } from './journal.js';
import { HostFence } from './fence.js';
import { CallGate, DEFAULT_LIMITS, serverOptions, tolerantDefinition, type Limits } from './limits.js';
import { TransitMetrics } from './metrics.js';
import { TransitService } from './service.js';
import { ENDPOINT_NAMESPACE_MODES, type EndpointNamespaceMode } from './shared-plumbing.js';
import { serverCredentials } from './tls.js';
import { checkHostName } from './host-name.js';
import { checkBindAddress } from '../util/addr.js';

export const USAGE = `usage: transitd --host NAME --socket PATH [--listen ADDR:PORT --tls-ca F --tls-cert F --tls-key F]
                [--iface eth0] [--pin-root DIR] [--ns-prefix P] [--mode native|generic|tc] [--journal PATH]
                [--max-message-mb 64] [--max-calls 64] [--metrics ADDR:PORT] [--capacity NAME=N,...]
                [--endpoint-namespace own|shared]
                [--preallocate endpoints]
  The socket and the journal are root-only (0600) whatever the umask; a directory transitd makes
  for them is 0700, and an existing one must be root's and writable by nobody else, or sticky (/tmp).
  --listen: also serve on TCP with mutual TLS: clients need a certificate signed by --tls-ca
            (make them with 'xvpc certs'); --tls-cert/--tls-key are this host's
  --metrics: serve Prometheus metrics (plain HTTP GET /metrics) on ADDR:PORT: data-path counters,
            map occupancy, gRPC calls and latencies. Bind it where only your Prometheus reaches.
  --journal: where goal states are journalled (default: the socket path with .journal for .sock);
            beside it, .fence for .journal: the highest controller leader term heard (a change
            from an older leader is refused)
  --capacity: map sizes other than the defaults, e.g. conntrack=16384,endpoints=65536 (default: env
            XVPC_TRANSITD_CAPACITY, else none); maps already pinned keep their size
  --endpoint-namespace: own (default): a network namespace per endpoint; shared: one namespace
            <ns-prefix>-eps for all endpoints of this host, each routed by its source address
            (~90 kB of kernel memory per endpoint instead of ~310; commands run as an endpoint
            must bind its address; two endpoints with one IP in different VPCs cannot both be here)
  --preallocate endpoints: the kernel makes all of the endpoints map's elements when it creates
            the map (~150 MB at the 1M default) instead of one per record: writing records costs
            about half the kernel CPU. For a real host; emulated droplets on one machine leave it
            off (default: env XVPC_TRANSITD_PREALLOCATE, else off); a map already pinned keeps its flags
example: transitd --host left --socket /run/xvpc/demo/left.sock --iface eth0`;

/** A transitd serving: stop() ends its gRPC (and metrics) service and closes its maps. */
export interface RunningTransitd {
  readonly host: string;
  stop(): Promise<void>;
}

/**
 * Binds every ADDR:PORT given at once, for a moment: an address this host does
 * not have, a port taken, or two flags naming one port fail now, in one line.
 */
async function checkCanListen(addresses: [flag: string, address: string][]): Promise<void> {
  const probes: ReturnType<typeof createNetServer>[] = [];
  try {
    for (const [flag, address] of addresses) {
      const m = /^\[?(.*?)\]?:(\d+)$/.exec(address)!;
      const probe = createNetServer();
      probes.push(probe);
      await new Promise<void>((resolve, reject) => {
        probe.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`${flag} ${address}: cannot listen there (${err.code ?? err.message}`
          + `${err.code === 'EADDRINUSE' && addresses.length > 1 ? '; or another flag names the same port' : ''})`)));
        probe.listen(Number(m[2]), m[1], () => resolve());
      });
    }
  } finally {
    await Promise.all(probes.map((p) => new Promise<void>((resolve) => (p.listening ? p.close(() => resolve()) : resolve()))));
  }
}

/** sun_path holds 108 bytes with its NUL: a longer path would be bound cut short. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * --socket: short enough to bind as given, not a directory, and not answered
 * by a live transitd (removing its socket would cut it off from its clients).
 */
async function checkSocketPath(path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`--socket: '${path}' is ${Buffer.byteLength(path)} bytes; a unix socket path holds at most ${MAX_SOCKET_PATH_BYTES}`);
  }
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return; // nothing there
  }
  if (st.isDirectory()) throw new Error(`--socket: '${path}' is a directory`);
  if (!st.isSocket()) return; // a stale file or symlink: replaced at bind
  const live = await new Promise<boolean>((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`--socket: another process (a transitd?) serves '${path}': stop it first, or give another path`);
}

/**
 * An exclusive lock on the pin root, held while this transitd runs: a second
 * transitd over the same maps would roll back the first one's goal state in
 * flight as "interrupted" and rewrite records under it. The kernel drops the
 * lock with the process, so a killed transitd leaves none.
 */
function lockPinRoot(pinRoot: string): number {
  mkdirSync(pinRoot, { recursive: true });
  const fd = addon.lockDir(pinRoot);
  if (fd < 0) throw new Error(`--pin-root ${pinRoot}: another transitd runs over these maps: stop it first`);
  return fd;
}

/**
 * Serves transitd with command-line arguments `args` (without node and the
 * script). Returns undefined for --help (after printing the usage).
 */
export async function serveTransitd(args: string[]): Promise<RunningTransitd | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' }, socket: { type: 'string' }, iface: { type: 'string', default: 'eth0' },
      'pin-root': { type: 'string' }, 'ns-prefix': { type: 'string' }, mode: { type: 'string', default: 'native' },
      'max-endpoints': { type: 'string' }, journal: { type: 'string' }, help: { type: 'boolean' },
      listen: { type: 'string' }, 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' },
      'max-message-mb': { type: 'string' }, 'max-calls': { type: 'string' }, metrics: { type: 'string' }, capacity: { type: 'string' },
      'endpoint-namespace': { type: 'string', default: 'own' },
      preallocate: { type: 'string' },
    },
  });
  if (values.help) { console.log(USAGE); return undefined; }
  if (!values.host || !values.socket) throw new Error(`--host and --socket are required\n${USAGE}`);
  checkHostName(values.host, '--host');
  const positive = (raw: string | undefined, name: string, max: number): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be an integer in 1..${max}, not '${raw}'`);
    return n;
  };
  const maxEndpoints = positive(values['max-endpoints'], 'max-endpoints', 2 ** 31 - 1);
  // native/generic: the XDP build; tc: the TC build (GSO kept, for veth hosts).
  const mode = values.mode as AttachMode;
  if (!ATTACH_MODES.includes(mode)) throw new Error(`--mode must be native, generic or tc, not '${mode}'`);
  const endpointNamespace = values['endpoint-namespace'] as EndpointNamespaceMode;
  if (!ENDPOINT_NAMESPACE_MODES.includes(endpointNamespace)) throw new Error(`--endpoint-namespace must be own or shared, not '${endpointNamespace}'`);
  const agentMode = process.env.XVPC_AGENT_MODE;
  if (agentMode !== undefined && agentMode !== 'native' && agentMode !== 'generic') {
    throw new Error(`XVPC_AGENT_MODE must be native or generic, not '${agentMode}'`);
  }

  const tlsGiven = ['tls-ca', 'tls-cert', 'tls-key'].filter((k) => values[k as 'tls-ca'] !== undefined);
  if (values.listen !== undefined && tlsGiven.length !== 3) throw new Error(`--listen needs --tls-ca, --tls-cert and --tls-key (TCP is mutual TLS only)\n${USAGE}`);
  if (values.listen === undefined && tlsGiven.length > 0) throw new Error(`--${tlsGiven[0]} goes with --listen`);
  checkPrerequisites();
  // Everything given is checked before the data path is touched: a typo must not leave programs attached and maps pinned.
  const tcp = values.listen === undefined ? undefined
    : { address: checkBindAddress(values.listen, '--listen'), credentials: serverCredentials({ ca: values['tls-ca']!, cert: values['tls-cert']!, key: values['tls-key']! }) };
  if (values.metrics !== undefined) checkBindAddress(values.metrics, '--metrics');
  await checkCanListen([['--listen', values.listen], ['--metrics', values.metrics]]
    .filter((a): a is [string, string] => a[1] !== undefined));
  await checkSocketPath(values.socket);
  ensureTrustedDir(dirname(values.socket), '--socket');
  const journalPath = values.journal ?? `${values.socket.replace(/\.sock$/, '')}.journal`;
  ensureTrustedDir(dirname(journalPath), '--journal');
  const limits: Limits = {
    ...DEFAULT_LIMITS,
    maxMessageBytes: (positive(values['max-message-mb'], 'max-message-mb', 1024) ?? DEFAULT_LIMITS.maxMessageBytes / 2 ** 20) * 2 ** 20,
    maxCallsInFlight: positive(values['max-calls'], 'max-calls', 10_000) ?? DEFAULT_LIMITS.maxCallsInFlight,
  };

  const eth = await linkInfo(values.iface!);
  if (!eth.ipv4) throw new Error(`${values.iface} has no IPv4 address`);
  const pinRoot = values['pin-root'] ?? `/sys/fs/bpf/xvpc/${values.host}`;
  const capacities = values.capacity !== undefined ? parseCapacities(values.capacity, '--capacity')
    : parseCapacities(process.env.XVPC_TRANSITD_CAPACITY ?? '', 'XVPC_TRANSITD_CAPACITY');
  const preallocate = values.preallocate !== undefined ? parsePreallocate(values.preallocate, '--preallocate')
    : parsePreallocate(process.env.XVPC_TRANSITD_PREALLOCATE ?? '', 'XVPC_TRANSITD_PREALLOCATE');
  const lock = lockPinRoot(pinRoot);
  // What start-up has opened, undone (last first) if a later step fails: the lock goes last,
  // so no other transitd takes the pin root while this one still serves from it.
  const undo: (() => void)[] = [];
  try {
    const dp = HostDataplane.open(pinRoot, { ...capacities, ...(maxEndpoints !== undefined ? { endpoints: maxEndpoints } : {}) }, { hook: hookOf(mode), preallocate });
    // A goal state a killed transitd left half-applied is rolled back before anything is served.
    const journal = new GoalStateJournal(journalPath);
    const restored = recoverGoalState(dp, journal);
    if (restored > 0) console.log(`transitd ${values.host}: rolled back an interrupted goal state (${restored} records restored from ${journal.path})`);
    dp.setHostConfig({ ip: eth.ipv4, mac: eth.mac, ifindex: eth.ifindex });
    const service = new TransitService(dp, { name: values.host, iface: eth.name, ip: eth.ipv4, mac: eth.mac, ifindex: eth.ifindex, mtu: eth.mtu },
      values['ns-prefix'] ?? values.host, endpointNamespace);
    service.journal = journal;
    // The highest leader term heard, beside the journal: a restart keeps refusing a deposed leader.
    service.fence = new HostFence(`${journalPath.replace(/\.journal$/, '')}.fence`);
    service.maxMessageBytes = limits.maxMessageBytes;
    await service.loadTransit(eth.name, mode);
    const agents = service.reattachAgents();
    dp.voidFlowCacheCopies(); // the programs replaced may be of a build that moves no epoch

    undo.push(() => dp.close());
    const server = new grpc.Server(serverOptions(limits));
    undo.push(() => server.forceShutdown());
    const metrics = values.metrics !== undefined ? new TransitMetrics(dp, values.host) : undefined;
    const handlers = service.handlers(new CallGate(limits.maxCallsInFlight), metrics && ((m, c, s) => metrics.observeRpc(m, c, s)));
    // Each call runs in the async context serving started in: in a shared host, its droplet's namespace (host.ts).
    // PutEndpoints' batch is read as views of the received message (batch-wire.ts), not copied out of it.
    const def = { ...TransitServiceDef, putEndpoints: { ...TransitServiceDef.putEndpoints, requestDeserialize: decodeEndpointBatch } };
    server.addService(tolerantDefinition(def),
      Object.fromEntries(Object.entries(handlers).map(([name, h]) => [name, AsyncLocalStorage.bind(h as (...a: unknown[]) => unknown)])));
    rmSync(values.socket, { force: true });
    // Connecting needs write permission: the socket is root's only from its bind on.
    await withPrivateUmask(() => new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${values.socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve()))));
    chmodSync(values.socket, PRIVATE_FILE_MODE);
    let served = `unix://${values.socket}`;
    if (tcp) {
      const port = await new Promise<number>((resolve, reject) =>
        server.bindAsync(tcp.address, tcp.credentials, (err, p) => (err ? reject(err) : resolve(p))));
      served += ` and ${tcp.address.replace(/:\d+$/, `:${port}`)} (mutual TLS)`;
    }
    const metricsServer = metrics ? await metrics.serve(values.metrics!) : undefined;
    undo.push(() => metricsServer?.server.close());
    if (metricsServer) served += `, metrics on http://${values.metrics!.replace(/:\d+$/, `:${metricsServer.port}`)}/metrics`;
    console.log(`transitd ${values.host}: ${eth.ipv4} (${eth.mac}) on ${eth.name} (${mode}, ${agents} endpoint agents), serving ${served}`);

    // On stop, leave programs attached and maps pinned: traffic keeps flowing
    // until the next transitd takes over.
    return {
      host: values.host,
      stop: async () => {
        metricsServer?.server.close();
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => { server.forceShutdown(); resolve(); }, 2000);
          server.tryShutdown(() => { clearTimeout(force); resolve(); });
        });
        try {
          dp.close();
        } finally {
          addon.closeFd(lock);
        }
      },
    };
  } catch (err) {
    for (const fn of undo.reverse()) {
      try { fn(); } catch { /* the start-up error is the one to report */ }
    }
    addon.closeFd(lock); // the next transitd may take over what this one made
    throw err;
  }
}
