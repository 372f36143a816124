// xvpc public API (see shared/API.md).
export { BpfObject, BpfMap, BpfProgram, PinnedMap, bpfObjectPath, xdpDetach, xdpQuery } from './dataplane/bpf.js';
