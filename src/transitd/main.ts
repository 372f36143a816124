#!/usr/bin/env node
// transitd: one per host. Loads the xvpc programs (maps pinned under
// --pin-root, so a restart picks the state up again), attaches the transit
// program to --iface and serves the Transit gRPC service on a unix socket.
import * as grpc from '@grpc/grpc-js';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { ATTACH_MODES, HostDataplane, hookOf, type AttachMode } from '../dataplane/host.js';
import { TransitService as TransitServiceDef } from '../gen/transit.js';
import { linkInfo } from '../util/link.js';
import { checkPrerequisites } from '../util/prereq.js';
import { TransitService } from './service.js';

const USAGE = `usage: transitd --host NAME --socket PATH [--iface eth0] [--pin-root DIR] [--ns-prefix P] [--mode native|generic|tc]
example: transitd --host left --socket /run/xvpc/demo/left.sock --iface eth0`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' }, socket: { type: 'string' }, iface: { type: 'string', default: 'eth0' },
      'pin-root': { type: 'string' }, 'ns-prefix': { type: 'string' }, mode: { type: 'string', default: 'native' },
      'max-endpoints': { type: 'string' }, help: { type: 'boolean' },
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

  checkPrerequisites();
  const eth = await linkInfo(values.iface!);
  if (!eth.ipv4) throw new Error(`${values.iface} has no IPv4 address`);
  const pinRoot = values['pin-root'] ?? `/sys/fs/bpf/xvpc/${values.host}`;
  const maxEndpoints = values['max-endpoints'] ? Number(values['max-endpoints']) : undefined;
  const dp = HostDataplane.open(pinRoot, { endpoints: maxEndpoints }, { hook: hookOf(mode) });
  dp.setHostConfig({ ip: eth.ipv4, mac: eth.mac, ifindex: eth.ifindex });
  const service = new TransitService(dp, { name: values.host, iface: eth.name, ip: eth.ipv4, mac: eth.mac, ifindex: eth.ifindex, mtu: eth.mtu },
    values['ns-prefix'] ?? values.host);
  await service.loadTransit(eth.name, mode);
  const agents = service.reattachAgents();

  const server = new grpc.Server();
  server.addService(TransitServiceDef, service.handlers());
  mkdirSync(dirname(values.socket), { recursive: true });
  rmSync(values.socket, { force: true });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${values.socket}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
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
