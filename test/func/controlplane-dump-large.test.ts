// A host holding more endpoints than one 64 MiB message can carry (~650,000
// packed records): DumpPacked streams them in messages that each fit, and the
// Controller's client reads back every record it put, byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointType, ENDPOINT_KEY, ENDPOINT_VALUE, packEndpoints, type EndpointRecord } from '../../src/abi/index.js';
import type { Droplet } from '../../src/droplet/index.js';
// The built one: its worker thread runs dist/transitd/batch-sender-worker.js.
import { EndpointBatchSender } from '../../dist/transitd/batch-sender.js';
import { connectTransitd } from '../../src/transitd/client.js';
import { DEFAULT_LIMITS } from '../../src/transitd/limits.js';
import { formatIpv4 } from '../../src/util/addr.js';
import { destroyDroplets, makeDroplets } from './lib.js';

const COUNT = 700_000;

/** Endpoint i: 10.0.0.1 upwards in VNI 9, on one of 16 other hosts. */
function record(i: number): EndpointRecord {
  const ip = formatIpv4(((10 << 24) >>> 0) + i + 1);
  const h = i % 16;
  return {
    vni: 9, ip, type: EndpointType.SIMPLE, mac: `0e:09:${(i >>> 24).toString(16).padStart(2, '0')}:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
    hostIp: `172.31.0.${h + 2}`, hostMac: `0a:58:ac:1f:00:${(h + 2).toString(16).padStart(2, '0')}`, netId: 1, backends: [], hostedIfindex: -1,
  };
}

describe('DumpPacked of a host with more endpoints than one message holds', () => {
  let droplets: Record<string, Droplet>;
  beforeAll(async () => {
    droplets = await makeDroplets(['big'], 'dpl');
  });
  afterAll(async () => {
    if (droplets) await destroyDroplets(droplets);
  });

  it(`${COUNT.toLocaleString('en')} endpoints put, then dumped whole in messages that each fit the limit`, async () => {
    const d = droplets.big;
    const records = Array.from({ length: COUNT }, (_, i) => record(i));
    const sender = new EndpointBatchSender(d.id, d.transitdAddress, { timeoutMs: 120_000 });
    try {
      await sender.ready();
      await sender.put(records);
    } finally {
      await sender.close();
    }
    // One message could not have carried them: that is the point of the stream.
    expect(COUNT * (ENDPOINT_KEY.size + ENDPOINT_VALUE.size)).toBeGreaterThan(DEFAULT_LIMITS.maxMessageBytes);

    const client = connectTransitd(d.id, d.transitdAddress, 120_000);
    try {
      const dump = await client.dumpPacked();
      const keys = Buffer.from(dump.endpoints!.keys);
      const values = Buffer.from(dump.endpoints!.values);
      expect(keys.length / ENDPOINT_KEY.size).toBe(COUNT);
      // The map's order is the kernel's: each dumped record is found by its IP (record i holds 10.0.0.1 + i) and compared as bytes.
      const sent = packEndpoints(records);
      const seen = new Uint8Array(COUNT);
      let same = 0;
      for (let j = 0; j < COUNT; j++) {
        const i = keys.readUInt32BE(j * ENDPOINT_KEY.size + ENDPOINT_KEY.off.ip) - ((10 << 24) >>> 0) - 1;
        const at = (b: Buffer, k: number, size: number) => b.subarray(k * size, (k + 1) * size);
        if (i >= 0 && i < COUNT && !seen[i] && at(keys, j, ENDPOINT_KEY.size).equals(at(sent.keys, i, ENDPOINT_KEY.size))
          && at(values, j, ENDPOINT_VALUE.size).equals(at(sent.values, i, ENDPOINT_VALUE.size))) {
          seen[i] = 1;
          same++;
        }
      }
      expect(same).toBe(COUNT);
    } finally {
      client.close();
    }
  });
});
