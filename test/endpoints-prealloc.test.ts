// The endpoints map's allocation is a load-time choice (HostDataplane.open
// `preallocate`, transitd --preallocate endpoints): per record by default
// (BPF_F_NO_PREALLOC), all elements at creation when asked; a map already
// pinned keeps the flags it was made with either way, and every pinned map
// keeps its size whatever capacities the next open asks for (libbpf would
// refuse to reuse a pin whose flags or size differ). Records written to a preallocated map read
// back as written.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { BPF_F_NO_PREALLOC } from '../src/dataplane/bpf.js';
import { HostDataplane, endpointsPreallocated } from '../src/dataplane/host.js';
import { EndpointType, packEndpoints, type EndpointRecord } from '../src/abi/index.js';
import { putEndpointBatch } from '../src/transitd/put-endpoints.js';
import { uniquePrefix } from './lib/names.js';
import { HOOK, ensureBpffs } from './xdp/harness.js';

const CAP = { endpoints: 1024, networks: 256, vpcs: 64, substrate: 256, agent_meta: 64, ep_host_cache: 64 };
const rec = (i: number): EndpointRecord => ({
  vni: 5, ip: `10.5.${i >> 8}.${i & 255}`, type: EndpointType.SIMPLE, mac: '0e:05:00:00:00:01', hostIp: '172.30.0.2',
  hostMac: '0a:58:ac:1e:00:02', netId: 1, backends: [], hostedIfindex: -1,
});

describe('endpoints map flags (preallocate)', () => {
  const roots: string[] = [];
  const open = (root: string, preallocate?: boolean) => HostDataplane.open(root, CAP, { hook: HOOK, ...(preallocate === undefined ? {} : { preallocate }) });
  const newRoot = () => {
    ensureBpffs();
    const r = `/sys/fs/bpf/xvpc/${uniquePrefix('u')}-pre`;
    roots.push(r);
    return r;
  };
  const flagsOf = (dp: HostDataplane) => dp.map('endpoints').info().flags;
  afterEach(() => { for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true }); });

  it('per record by default, preallocated when asked, and records go in and read back either way', async () => {
    for (const preallocate of [undefined, false, true]) {
      const dp = open(newRoot(), preallocate);
      try {
        const flags = flagsOf(dp);
        expect(flags & BPF_F_NO_PREALLOC, `preallocate ${preallocate}`).toBe(preallocate ? 0 : BPF_F_NO_PREALLOC);
        expect(endpointsPreallocated(flags)).toBe(preallocate === true);
        const records = Array.from({ length: 300 }, (_, i) => rec(i + 1));
        const { keys, values } = packEndpoints(records);
        expect(await putEndpointBatch(dp, '172.30.0.9', keys, values)).toBe(300);
        expect(dp.listEndpointKeys()).toHaveLength(300);
        expect(dp.get('endpoints', { vni: 5, ip: rec(77).ip })).toEqual(rec(77));
      } finally {
        dp.close();
      }
    }
  });

  it('a pinned map keeps its flags (and its records) whatever the next open asks', () => {
    for (const first of [true, false]) {
      const root = newRoot();
      const dp = open(root, first);
      dp.put('endpoints', rec(1), 'create');
      dp.close();
      const again = open(root, !first);
      try {
        expect(endpointsPreallocated(flagsOf(again))).toBe(first);
        expect(again.get('endpoints', { vni: 5, ip: rec(1).ip })).toEqual(rec(1));
      } finally {
        again.close();
      }
    }
  });

  it('a pinned map keeps its size (and its records) when the next open asks for other capacities', () => {
    const root = newRoot();
    const dp = open(root);
    dp.put('endpoints', rec(1), 'create');
    dp.close();
    // Before: libbpf refused to reuse the pins ("parameter mismatch") and the host could not start.
    const again = HostDataplane.open(root, { ...CAP, endpoints: 4096, conntrack: 2048 }, { hook: HOOK });
    try {
      expect(again.map('endpoints').info().maxEntries).toBe(CAP.endpoints);
      expect(again.get('endpoints', { vni: 5, ip: rec(1).ip })).toEqual(rec(1));
    } finally {
      again.close();
    }
  });
});

