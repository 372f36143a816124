// src/abi codecs without a kernel: every record kind round-trips through its
// bytes, fields land at the offsets of layout.ts (which test/btf.test.ts ties
// to the C structs), and the packed-batch checker refuses malformed batches.
import { describe, expect, it } from 'vitest';
import {
  ENDPOINT_KEY, ENDPOINT_VALUE, EndpointType, LAYOUTS, MAX_BACKENDS, NETWORK_VALUE, RECORD_KINDS, SLOT_TABLE_SIZE,
  XVPC_MEMBERS, batchCount, batchEndpoint, batchHostedIfindex, batchValueIs, checkEndpointBatch, setBatchHostedIfindex, decodeAgentMeta, decodeHostCache, decodeHostConfig, encodeAgentMeta, encodeHostCache,
  encodeEndpoint, encodeHostConfig, endpointRecordKey, networkRecordKey, packEndpoints, slotTable, unpackEndpoints,
  type EndpointRecord, type KeyOf, type RecordKind, type RecordKindName, type RecordOf,
} from '../../src/abi/index.js';
import { XvpcError } from '../../src/errors.js';

const EP: EndpointRecord = {
  vni: 0x123456, ip: '10.1.2.3', type: EndpointType.HOST, mac: '0e:56:0a:01:02:03', hostIp: '172.30.0.7', hostMac: '02:00:00:00:00:07',
  netId: 0xdeadbeef, backends: [], hostedIfindex: -1,
};
const SCALED: EndpointRecord = {
  ...EP, ip: '10.1.2.100', type: EndpointType.SCALED, hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', backends: ['10.1.2.3', '10.1.2.4'],
};
const SAMPLES: { [N in RecordKindName]: RecordOf<N>[] } = {
  vpcs: [{ vni: 1, routers: [], directPath: false }, { vni: 0xffffff, routers: ['172.30.0.1', '172.30.0.2', '172.30.0.3'], directPath: true }],
  networks: [
    { vni: 9, netId: 3, cidr: '10.9.0.0/16', gatewayIp: '10.9.0.1', gatewayMac: '0a:09:0a:09:00:01', switches: ['172.30.0.2'] },
    { vni: 9, netId: 4, cidr: '0.0.0.0/0', gatewayIp: '0.0.0.1', gatewayMac: '0a:09:00:00:00:01', switches: [] },
  ],
  endpoints: [EP, { ...EP, hostedIfindex: 12 }, SCALED],
  substrate: [{ ip: '172.30.0.9', mac: '02:00:00:00:00:09' }],
};

describe('record kinds round-trip', () => {
  for (const kind of Object.keys(SAMPLES) as RecordKindName[]) {
    it(kind, () => {
      const roundTrip = <N extends RecordKindName>(n: N, r: RecordOf<N>) => {
        const codec: RecordKind<RecordOf<N>, KeyOf<N>> = RECORD_KINDS[n];
        return codec.decode(codec.mapKey(r), codec.encode(r));
      };
      for (const r of SAMPLES[kind]) expect(roundTrip(kind, r)).toEqual(r);
    });
  }
});

describe('bytes at the offsets of layout.ts', () => {
  it('struct sizes are what the encoders produce', () => {
    expect(RECORD_KINDS.endpoints.encode(EP)).toHaveLength(ENDPOINT_VALUE.size);
    expect(RECORD_KINDS.endpoints.mapKey(EP)).toHaveLength(ENDPOINT_KEY.size);
    expect(RECORD_KINDS.networks.encode(SAMPLES.networks[0])).toHaveLength(NETWORK_VALUE.size);
    // every layout names its members in increasing offset order, inside the struct
    for (const l of LAYOUTS) {
      const offs = Object.values(l.off);
      expect(offs).toEqual([...offs].sort((a, b) => a - b));
      expect(Math.max(...offs)).toBeLessThan(l.size);
    }
  });

  it('an endpoint value: IPs in network order, the rest little-endian', () => {
    const b = RECORD_KINDS.endpoints.encode({ ...SCALED, hostedIfindex: -2 });
    const o = ENDPOINT_VALUE.off;
    expect(b[o.type]).toBe(EndpointType.SCALED);
    expect(b[o.backend_count]).toBe(2);
    expect(b.subarray(o.mac, o.mac + 6).toString('hex')).toBe('0e560a010203');
    expect(b.readInt32LE(o.hosted_ifindex)).toBe(-2);
    expect(b.readUInt32LE(o.net_id)).toBe(0xdeadbeef);
    expect([...b.subarray(o.backends, o.backends + 8)]).toEqual([10, 1, 2, 3, 10, 1, 2, 4]);
    const k = RECORD_KINDS.endpoints.mapKey(EP);
    expect(k.readUInt32LE(ENDPOINT_KEY.off.vni)).toBe(0x123456);
    expect([...k.subarray(ENDPOINT_KEY.off.ip, ENDPOINT_KEY.off.ip + 4)]).toEqual([10, 1, 2, 3]);
  });

  it('a member list carries the slot table of its members', () => {
    const net = SAMPLES.networks[0];
    const b = RECORD_KINDS.networks.encode({ ...net, switches: ['172.30.0.2', '172.30.0.3'] });
    const at = NETWORK_VALUE.off.switches;
    expect(b.readUInt32LE(at + XVPC_MEMBERS.off.count)).toBe(2);
    expect([...b.subarray(at + XVPC_MEMBERS.off.slots, at + XVPC_MEMBERS.off.slots + SLOT_TABLE_SIZE)])
      .toEqual([...slotTable(['172.30.0.2', '172.30.0.3'])]);
  });

  it('the network key counts the VNI bits in its prefix length', () => {
    const k = RECORD_KINDS.networks.mapKey({ vni: 9, cidr: '10.9.0.0/16' });
    expect(k.readUInt32LE(0)).toBe(32 + 16);
  });

  it('host config (with its reserved flags word), host cache, agent meta', () => {
    const cfg = { ip: '172.30.0.1', mac: '02:00:00:00:00:01', ifindex: 3, flags: 0x5 };
    expect(decodeHostConfig(encodeHostConfig(cfg))).toEqual(cfg);
    expect(decodeHostConfig(encodeHostConfig({ ...cfg, flags: undefined })).flags).toBe(0);
    const hc = { hostIp: '172.30.0.4', hostMac: '02:00:00:00:00:04' };
    expect(decodeHostCache(encodeHostCache(hc))).toEqual(hc);
    const meta = { vni: 77, ip: '10.0.0.2', mac: '0e:4d:0a:00:00:02', netId: 2 };
    expect(decodeAgentMeta(encodeAgentMeta(meta))).toEqual(meta);
  });

  it('record keys name records the same way everywhere', () => {
    expect(endpointRecordKey(EP)).toBe('1193046/10.1.2.3');
    expect(networkRecordKey(SAMPLES.networks[0])).toBe('9/10.9.0.0/16');
  });
});

describe('packed endpoint batches', () => {
  const refused = (keys: Buffer, values: Buffer, message: RegExp) => {
    let err: unknown;
    try { checkEndpointBatch(keys, values); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(XvpcError);
    expect((err as XvpcError).code).toBe('INVALID_ARGUMENT');
    expect((err as XvpcError).message).toMatch(message);
  };
  const batch = () => packEndpoints([EP, { ...EP, ip: '10.1.2.4' }, SCALED]);
  const V = ENDPOINT_VALUE.size;
  const o = ENDPOINT_VALUE.off;

  it('packs and unpacks', () => {
    const b = batch();
    expect(b.keys).toHaveLength(3 * ENDPOINT_KEY.size);
    expect(b.values).toHaveLength(3 * V);
    expect(checkEndpointBatch(b.keys, b.values)).toBe(3);
    expect(unpackEndpoints(b)).toEqual([EP, { ...EP, ip: '10.1.2.4' }, SCALED]);
    expect(checkEndpointBatch(Buffer.alloc(0), Buffer.alloc(0))).toBe(0);
  });

  it('packs each host address once per batch, byte for byte as one record alone, and names a bad one by record', () => {
    const other = { ...EP, ip: '10.1.2.9', hostIp: '172.30.0.8', hostMac: '02:00:00:00:00:08' };
    const records = [EP, other, { ...EP, ip: '10.1.2.10' }, { ...other, ip: '10.1.2.11' }, SCALED];
    const b = packEndpoints(records);
    records.forEach((r, i) => expect(b.values.subarray(i * V, (i + 1) * V).equals(encodeEndpoint(r))).toBe(true));
    expect(() => packEndpoints([EP, { ...EP, ip: '10.1.2.12', hostMac: '02:00:00:00:00' }])).toThrow(/^records\[1\]\.hostMac: '02:00:00:00:00'/);
    expect(() => packEndpoints([EP, { ...EP, ip: '10.1.2.12', hostIp: '172.30.0' }])).toThrow(/^records\[1\]\.hostIp: '172\.30\.0' is not an IPv4 address/);
  });

  it('refuses partial records', () => {
    const b = batch();
    refused(b.keys.subarray(0, 20), b.values, /^keys: 20 bytes is not a whole number of 8-byte keys/);
    refused(b.keys, b.values.subarray(0, 2 * V), new RegExp(`^values: ${2 * V} bytes, want 3 x ${V}`));
  });

  const corrupt: [string, (b: { keys: Buffer; values: Buffer }) => void, RegExp][] = [
    ['vni 0', (b) => b.keys.writeUInt32LE(0, ENDPOINT_KEY.size + ENDPOINT_KEY.off.vni), /^records\[1\]\.vni: 0 is not a VNI/],
    ['vni too big', (b) => b.keys.writeUInt32LE(0x1000000, ENDPOINT_KEY.off.vni), /^records\[0\]\.vni: 16777216/],
    ['vni with the top bit set', (b) => b.keys.writeUInt32LE(0xffffffff, ENDPOINT_KEY.off.vni), /^records\[0\]\.vni: 4294967295 is not a VNI/],
    ['ip 0.0.0.0 in a later record', (b) => b.keys.writeUInt32BE(0, 2 * ENDPOINT_KEY.size + ENDPOINT_KEY.off.ip), /^records\[2\]\.ip: 0\.0\.0\.0/],
    ['ip 0.0.0.0', (b) => b.keys.writeUInt32BE(0, ENDPOINT_KEY.off.ip), /^records\[0\]\.ip: 0\.0\.0\.0/],
    ['unknown type', (b) => { b.values[V + o.type] = 4; }, /^records\[1\]\.type: 4 is not an endpoint type/],
    ['too many backends', (b) => { b.values[2 * V + o.backend_count] = MAX_BACKENDS + 1; }, new RegExp(`^records\\[2\\]\\.backends: at most ${MAX_BACKENDS}`)],
    ['backends on a simple endpoint', (b) => { b.values[o.backend_count] = 1; }, /^records\[0\]\.backends: a scaled endpoint needs backends, and only/],
    ['a scaled endpoint without', (b) => { b.values[2 * V + o.backend_count] = 0; }, /^records\[2\]\.backends/],
    ['multicast mac', (b) => { b.values[V + o.mac] |= 1; }, /^records\[1\]\.mac: a multicast MAC/],
    ['no host', (b) => b.values.writeUInt32BE(0, o.host_ip), /^records\[0\]\.host_ip: 0\.0\.0\.0 is not a host/],
    ['a multicast host', (b) => b.values.writeUInt32BE(0xe0000001, o.host_ip), /^records\[0\]\.host_ip: 224\.0\.0\.1 is not a host/],
    ['a broadcast endpoint', (b) => b.keys.writeUInt32BE(0xffffffff, ENDPOINT_KEY.size + ENDPOINT_KEY.off.ip), /^records\[1\]\.ip: 255\.255\.255\.255 is not an endpoint address/],
    ['multicast host mac', (b) => { b.values[o.host_mac] |= 1; }, /^records\[0\]\.host_mac: a multicast MAC/],
    ['backend 0.0.0.0', (b) => b.values.writeUInt32BE(0, 2 * V + o.backends + 4), /^records\[2\]\.backends\[1\]: 0\.0\.0\.0/],
    // What the per-record path (CreateEndpoint) refuses, PutEndpoints refuses too.
    ['a loopback backend', (b) => b.values.writeUInt32BE(0x7f000001, 2 * V + o.backends), /^records\[2\]\.backends\[0\]: 127\.0\.0\.1 is not an endpoint address/],
    ['a broadcast backend', (b) => b.values.writeUInt32BE(0xffffffff, 2 * V + o.backends + 4), /^records\[2\]\.backends\[1\]: 255\.255\.255\.255 is not an endpoint address/],
    ['a backend twice', (b) => b.values.writeUInt32BE(b.values.readUInt32BE(2 * V + o.backends), 2 * V + o.backends + 4), /^records\[2\]\.backends: 10\.1\.2\.3 is listed twice/],
    ['a scaled endpoint on a multicast host', (b) => b.values.writeUInt32BE(0xe0000001, 2 * V + o.host_ip), /^records\[2\]\.host_ip: 224\.0\.0\.1 is not a host/],
    ['a scaled endpoint with a multicast host mac', (b) => { b.values[2 * V + o.host_mac] |= 1; }, /^records\[2\]\.host_mac: a multicast MAC/],
    ['padding not zero', (b) => { b.values[V + o._pad + 1] = 9; }, /^records\[1\]: its padding .* must be zero/],
  ];
  it('packing refuses a record whose numbers do not fit its fields, naming the record and field', () => {
    const bad: [Partial<EndpointRecord>, RegExp][] = [
      [{ netId: 2 ** 32 }, /^records\[1\]\.netId: 4294967296 is not an unsigned 32-bit number/],
      [{ vni: -1 }, /^records\[1\]\.vni: -1 is not an unsigned 32-bit number/],
      [{ type: 256 as EndpointType }, /^records\[1\]\.type: 256 is not an endpoint type/],
      [{ hostedIfindex: 2 ** 31 }, /^records\[1\]\.hostedIfindex: 2147483648 is not a signed 32-bit number/],
      [{ type: EndpointType.SCALED, backends: Array.from({ length: MAX_BACKENDS + 1 }, (_, i) => `10.9.0.${i + 1}`) },
        new RegExp(`^records\\[1\\]\\.backends: at most ${MAX_BACKENDS}, got ${MAX_BACKENDS + 1}`)],
    ];
    for (const [change, message] of bad) {
      let err: unknown;
      try { packEndpoints([EP, { ...EP, ip: '10.1.2.4', ...change }]); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(XvpcError);
      expect((err as XvpcError).code).toBe('INVALID_ARGUMENT');
      expect((err as XvpcError).message).toMatch(message);
    }
  });

  it('reads a record and its hosted ifindex, and compares a record with its bytes (hosted_ifindex aside)', () => {
    const b = batch();
    b.values.writeInt32LE(7, V + o.hosted_ifindex); // as transitd fills it
    expect(batchCount(b)).toBe(3);
    expect(batchEndpoint(b, 1)).toEqual({ ...EP, ip: '10.1.2.4', hostedIfindex: 7 });
    expect(batchHostedIfindex(b.values, 1)).toBe(7);
    expect(batchHostedIfindex(b.values, 0)).toBe(-1);
    setBatchHostedIfindex(b.values, 2, 123456789);
    expect(batchHostedIfindex(b.values, 2)).toBe(123456789);
    expect(b.values.readInt32LE(2 * V + o.hosted_ifindex)).toBe(123456789);
    setBatchHostedIfindex(b.values, 2, -1);
    expect(b.values.readInt32LE(2 * V + o.hosted_ifindex)).toBe(-1);
    const scratch = Buffer.alloc(V, 0xff); // left over from another record: must not matter
    expect(batchValueIs(b.values, 0, EP, scratch)).toBe(true);
    expect(batchValueIs(b.values, 1, { ...EP, ip: '10.1.2.4', hostedIfindex: -1 }, scratch)).toBe(true);
    expect(batchValueIs(b.values, 2, SCALED, scratch)).toBe(true);
    expect(batchValueIs(b.values, 2, { ...SCALED, backends: ['10.1.2.3'] }, scratch)).toBe(false);
    expect(batchValueIs(b.values, 0, { ...EP, hostMac: '02:00:00:00:00:08' }, scratch)).toBe(false);
    expect(batchValueIs(b.values, 0, { ...EP, netId: 1 }, scratch)).toBe(false);
    expect(batchValueIs(b.values, 0, { ...EP, type: EndpointType.SIMPLE }, scratch)).toBe(false);
  });

  for (const [name, mutate, message] of corrupt) {
    it(`refuses ${name}`, () => {
      const b = batch();
      mutate(b);
      refused(b.keys, b.values, message);
    });
  }
});
