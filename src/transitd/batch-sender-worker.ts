// The worker thread of EndpointBatchSender (batch-sender.ts): one gRPC client
// of the transitd; each request names a shared slot, sent as one PutEndpoints.
import { parentPort, workerData } from 'node:worker_threads';
import { XvpcError } from '../errors.js';
import { connectTransitd } from './client.js';
import type { SenderReply, SenderRequest, SenderWorkerData } from './batch-sender.js';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE_HEAD_SIZE } from '../abi/index.js';

const data = workerData as SenderWorkerData;
const client = connectTransitd(data.name, data.address, data.timeoutMs, data.tls);
const slots = data.slots.map((s) => ({ keys: Buffer.from(s.keys), heads: Buffer.from(s.heads), backends: Buffer.from(s.backends) }));
const NO_VALUES = Buffer.alloc(0);

parentPort!.on('message', (m: SenderRequest) => {
  const { keys, heads, backends } = slots[m.slot];
  // Views of the shared slot, packed compact already: the encoder copies them into the request.
  const call = m.count === 0 ? client.health({})
    : client.putEndpoints({
      keys: keys.subarray(0, m.count * EK.size), values: NO_VALUES,
      compact: { heads: heads.subarray(0, m.count * ENDPOINT_VALUE_HEAD_SIZE), backends: backends.subarray(0, m.backendBytes) },
    });
  call.then(
    () => parentPort!.postMessage({ id: m.id } satisfies SenderReply),
    (err: unknown) => parentPort!.postMessage({
      id: m.id,
      error: err instanceof XvpcError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String(err) },
    } satisfies SenderReply),
  );
});
