// xvpc public API (see shared/API.md).
export { createDroplets, destroyDroplets, cleanupAll } from './droplet/index.js';
export type { Droplet, CreateDropletsOptions, DropletBackend } from './droplet/index.js';
export { Controller } from './controller/controller.js';
export { Endpoint, type PingResult } from './controller/endpoint.js';
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
