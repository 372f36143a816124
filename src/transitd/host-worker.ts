// One droplet's transitd inside a shared host (host.ts): this worker thread
// enters the droplet's network namespace, then serves as a transitd process
// would (serve.ts). Child processes it runs (ip, nsenter) fork from this
// thread, so they start in the droplet's namespace too.
import { parentPort, workerData } from 'node:worker_threads';
import { addon } from '../dataplane/addon.js';
import { serveTransitd } from './serve.js';

/** What host.ts starts a worker with. */
export interface HostWorkerData { netns: string; args: string[] }
/** From the worker: it serves. To the worker: 'stop'. */
export interface HostWorkerMessage { ready: true }

async function main(): Promise<void> {
  const { netns, args } = workerData as HostWorkerData;
  addon.enterNetns(netns);
  const running = await serveTransitd(args);
  if (!running) return;
  parentPort!.on('message', (m: unknown) => {
    if (m !== 'stop') return;
    // process.exit in a worker ends this thread only, with everything it holds.
    running.stop().finally(() => process.exit(0));
  });
  parentPort!.postMessage({ ready: true } satisfies HostWorkerMessage);
}

// A failure ends the worker with an 'error' event: host.ts writes it to the droplet's log.
await main();
