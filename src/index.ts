// xvpc public API (see shared/API.md).
export { createDroplets, destroyDroplets, cleanupAll, openDroplets } from './droplet/index.js';
export type { Droplet, CreateDropletsOptions, DropletBackend } from './droplet/index.js';
export { Controller, type ControllerOptions, type ReconcileState } from './controller/controller.js';
export type { Store, StoreChange, StoredObject, StoreSnapshot } from './controller/store/store.js';
export { Endpoint, type PingResult } from './controller/endpoint.js';
export { remoteHost, type RemoteHostSpec } from './controller/remote-host.js';
export type { ControllerHost } from './controller/endpoint.js';
export type { TlsFiles } from './transitd/tls.js';
export { XvpcError, type XvpcErrorCode } from './errors.js';
export { connectTransitd, type TransitdClient } from './transitd/client.js';
export { HostDataplane } from './dataplane/host.js';
export { STAT_NAMES, type StatName, type Stats } from './abi/index.js';
export { BpfObject, BpfMap, BpfProgram, PinnedMap, bpfObjectPath, xdpDetach, xdpQuery } from './dataplane/bpf.js';
export {
  Capture, XdpCapture, PcapCapture, XDP_ACTIONS, decodeFrame, summarizeFrame, createEncoder, compileFilter,
  type CapturedPacket, type XdpAction, type Frame, type CaptureFormat, type CaptureInterface, type PacketRecord,
} from './capture/index.js';
export type { DropletCaptureOptions } from './droplet/index.js';
export { runScenario, STAGES, type RunScenarioOptions, type RunScenarioResult } from './scenario/run.js';
export { parseScenarioText, readScenarioFile } from './scenario/parse.js';
export { makePlan } from './scenario/plan.js';
export { runGraph, StageError, CancelledError, type Stage, type Task, type StageTiming } from './scenario/graph.js';
export type { Scenario, Plan } from './scenario/types.js';
