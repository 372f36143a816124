#!/usr/bin/env node
// transitd: one per host. Loads the xvpc programs (maps pinned under
// --pin-root, so a restart picks the state up again), attaches the transit
// program to --iface and serves the Transit gRPC service on a unix socket.
import * as grpc from '@grpc/grpc-js';
import { chmodSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ATTACH_MODES, HostDataplane, hookOf, type AttachMode } from '../dataplane/host.js';
import { TransitService as TransitServiceDef } from '../gen/transit.js';
import { linkInfo } from '../util/link.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../util/private-fs.js';
import { recoverGoalState } from './goal-state.js';
import { GoalStateJournal } from './journal.js';
import { TransitService } from './service.js';

const USAGE = `usage: transitd --host NAME --socket PATH [--iface eth0] [--pin-root DIR] [--ns-prefix P] [--mode native|generic|tc] [--journal PATH]
  The socket, its directory and the journal are root-only (0600/0700) whatever the umask.
  --journal: where goal states are journalled (default: the socket path with .journal for .sock)
example: transitd --host left --socket /run/xvpc/demo/left.sock --iface eth0`;

async function main(): Promise<void> {
  // Whatever this process creates is root-only; the modes are also set explicitly below.
  process.umask(0o077);
  const { values } = parseArgs({
    options: {
      host: { type: 'string' }, socket: { type: 'string' }, iface: { type: 'string', default: 'eth0' },
      'pin-root': { type: 'string' }, 'ns-prefix': { type: 'string' }, mode: { type: 'string', default: 'native' },
      'max-endpoints': { type: 'string' }, journal: { type: 'string' }, help: { type: 'boolean' },
    },
  });
  if (values.help) { console.log(USAGE); return; }
  if (!values.host || !values.socket) throw new Error(`--host and --socket are required\n${USAGE}`);
  // native/generic: the XDP build; tc: the TC build (GSO kept, for veth hosts).
  const mode = values.mode as AttachMode;
  if (!ATTACH_MODES.includes(mode)) throw new Error(`--mode must be native, generic or tc, not '${mode}'`);
  const agentMode = process.env.XVPC_AGENT_MODE;
  if (agentMode !== undefined && agentMode !== 'native' && agentMode !== 'generic') {
    throw new Error(`XVPC_AGENT_MODE must be native or generic, not '${agentMode}'`);
  }

  const eth = await linkInfo(values.iface!);
  if (!eth.ipv4) throw new Error(`${values.iface} has no IPv4 address`);
  const pinRoot = values['pin-root'] ?? `/sys/fs/bpf/xvpc/${values.host}`;
  const maxEndpoints = values['max-endpoints'] ? Number(values['max-endpoints']) : undefined;
  const dp = HostDataplane.open(pinRoot, { endpoints: maxEndpoints }, { hook: hookOf(mode) });
  // A goal state a killed transitd left half-applied is rolled back before anything is served.
  ensurePrivateDir(dirname(values.socket));
  const journal = new GoalStateJournal(values.journal ?? `${values.socket.replace(/\.sock$/, '')}.journal`);
  const restored = recoverGoalState(dp, journal);
  if (restored > 0) console.log(`transitd ${values.host}: rolled back an interrupted goal state (${restored} records restored from ${journal.path})`);
  dp.setHostConfig({ ip: eth.ipv4, mac: eth.mac, ifindex: eth.ifindex });
  const service = new TransitService(dp, { name: values.host, iface: eth.name, ip: eth.ipv4, mac: eth.mac, ifindex: eth.ifindex, mtu: eth.mtu },
    values['ns-prefix'] ?? values.host);
  service.journal = journal;
  await service.loadTransit(eth.name, mode);
  const agents = service.reattachAgents();

  const server = new grpc.Server();
  server.addService(TransitServiceDef, service.handlers());
  rmSync(values.socket, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${values.socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  chmodSync(values.socket, PRIVATE_FILE_MODE); // connecting needs write permission: root only
  console.log(`transitd ${values.host}: ${eth.ipv4} (${eth.mac}) on ${eth.name} (${mode}, ${agents} endpoint agents), serving unix://${values.socket}`);

  // On stop, leave programs attached and maps pinned: traffic keeps flowing
  // until the next transitd takes over.
  const stop = () => {
    server.tryShutdown(() => {
      dp.close();
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`transitd: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
