// The worker thread of EndpointBatchSender (batch-sender.ts): one gRPC client
// of the transitd; each request brings a slot's memory (moved here), sent as
// one PutEndpoints, and the answer moves it back.
import { parentPort, workerData } from 'node:worker_threads';
import { XvpcError } from '../errors.js';
import { connectTransitd } from './client.js';
import type { SenderReply, SenderRequest, SenderWorkerData } from './batch-sender.js';
import { ENDPOINT_KEY as EK, ENDPOINT_VALUE as EV } from '../abi/index.js';

const data = workerData as SenderWorkerData;
const client = connectTransitd(data.name, data.address, data.timeoutMs, data.tls);

parentPort!.on('message', (m: SenderRequest) => {
  const { slot } = m;
  // Views of the slot: the encoder copies them into the request.
  const call = !slot ? client.health({})
    : client.putEndpoints({ keys: Buffer.from(slot.keys, 0, m.count * EK.size), values: Buffer.from(slot.values, 0, m.count * EV.size) });
  const back = slot ? [slot.keys, slot.values] : [];
  call.then(
    () => parentPort!.postMessage({ id: m.id, slot } satisfies SenderReply, back),
    (err: unknown) => parentPort!.postMessage({
      id: m.id, slot,
      error: err instanceof XvpcError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: String(err) },
    } satisfies SenderReply, back),
  );
});
