// Droplets: emulated hosts (network namespaces or Docker containers) for xvpc.
export { DEFAULT_DROPLET_MODE, DEFAULT_UNDERLAY_MTU, createDroplets, destroyDroplets } from './droplet.js';
export type { CreateDropletsOptions, Droplet, DropletBackend, DropletCaptureOptions, RunOptions, RunResult } from './types.js';
export { cleanupAll } from './cleanup.js';
export { openDroplets } from './open.js';
export type { CleanupSummary } from './cleanup.js';
