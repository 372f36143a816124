// transitd's request validation (src/transitd/validate.ts, src/util/check.ts):
// every message becomes a canonical record or an INVALID_ARGUMENT naming the field.
import { describe, expect, it } from 'vitest';
import { EndpointType, MAX_BACKENDS, MAX_MEMBERS } from '../../src/abi/index.js';
import { XvpcError } from '../../src/errors.js';
import * as v from '../../src/transitd/validate.js';
import * as check from '../../src/util/check.js';

const refused = (fn: () => unknown, message: RegExp) => {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(XvpcError);
  expect((err as XvpcError).code).toBe('INVALID_ARGUMENT');
  expect((err as XvpcError).message).toMatch(message);
};

const NET = { vni: 5, netId: 1, cidr: '10.5.1.0/24', gatewayIp: '10.5.1.1', gatewayMac: '0A:05:0A:05:01:01', switches: ['172.30.0.2'] };
const EP = {
  vni: 5, ip: '10.5.1.2', type: EndpointType.SIMPLE, mac: '0e:05:0a:05:01:02', hostIp: '172.30.0.1', hostMac: '02:00:00:00:00:01',
  netId: 1, backends: [] as string[], hostedIfindex: 42,
};

describe('single fields', () => {
  it('vni: 1..2^24-1', () => {
    expect(check.vni(1)).toBe(1);
    expect(check.vni(0xffffff)).toBe(0xffffff);
    refused(() => check.vni(0), /^vni: 0 is not a VNI \(1\.\.16777215\)/);
    refused(() => check.vni(0x1000000, 'key.vni'), /^key\.vni: 16777216/);
    refused(() => check.vni(1.5), /not a VNI/);
    refused(() => check.vni('5'), /not a VNI/);
  });
  it('u32, ipv4, cidr, mac', () => {
    expect(check.u32(0xffffffff, 'n')).toBe(0xffffffff);
    refused(() => check.u32(-1, 'net_id'), /^net_id: -1 is not a uint32/);
    // text that looks like a number is shown quoted: the mistake is its type
    refused(() => check.u32('1', 'netId'), /^netId: '1' is not a uint32/);
    refused(() => check.vni('9'), /^vni: '9' is not a VNI/);
    expect(check.ipv4('10.0.0.1', 'ip')).toBe('10.0.0.1');
    refused(() => check.ipv4('10.0.0.256', 'host_ip'), /^host_ip/);
    expect(check.cidr('10.0.0.0/8')).toBe('10.0.0.0/8');
    refused(() => check.cidr('10.0.0.1/8'), /^cidr/);
    expect(check.mac('0A:00:00:00:00:01', 'mac')).toBe('0a:00:00:00:00:01');
    refused(() => check.mac('01:00:5e:00:00:01', 'gateway_mac'), /^gateway_mac: '01:00:5e:00:00:01' is a multicast MAC/);
  });
});

describe('records', () => {
  it('a VPC: routers are distinct IPv4s, at most MAX_MEMBERS', () => {
    expect(v.vpcRecord({ vni: 3, routers: ['172.30.0.1'] })).toEqual({ vni: 3, routers: ['172.30.0.1'], directPath: false });
    expect(v.vpcRecord({ vni: 3, routers: [], directPath: true }).directPath).toBe(true);
    refused(() => v.vpcRecord({ vni: 3, routers: ['172.30.0.1', '172.30.0.1'] }), /^routers: 172\.30\.0\.1 is listed twice/);
    const many = Array.from({ length: MAX_MEMBERS + 1 }, (_, i) => `172.30.1.${i + 1}`);
    refused(() => v.vpcRecord({ vni: 3, routers: many }), new RegExp(`^routers: at most ${MAX_MEMBERS} entries, got ${MAX_MEMBERS + 1}`));
    refused(() => v.vpcRecord({ vni: 3, routers: ['x'] }), /^routers\[0\]/);
  });

  it('a network: canonical, its gateway a host address inside it', () => {
    expect(v.networkRecord(NET)).toEqual({ ...NET, gatewayMac: '0a:05:0a:05:01:01' });
    refused(() => v.networkRecord({ ...NET, gatewayIp: '10.5.2.1' }), /^gateway_ip: 10\.5\.2\.1 is not a host address of 10\.5\.1\.0\/24/);
    refused(() => v.networkRecord({ ...NET, gatewayIp: '10.5.1.0' }), /^gateway_ip/);
    refused(() => v.networkRecord({ ...NET, netId: -1 }), /^net_id/);
    refused(() => v.networkRecord({ ...NET, switches: ['172.30.0.2', 'nope'] }), /^switches\[1\]/);
  });

  it('an endpoint: hostedIfindex is never taken from a request', () => {
    expect(v.endpointRecord(EP)).toEqual({ ...EP, hostedIfindex: -1 });
  });

  it('an endpoint: type and backends agree', () => {
    refused(() => v.endpointRecord({ ...EP, type: 4 as EndpointType }), /^type: 4 is not an endpoint type/);
    refused(() => v.endpointRecord({ ...EP, backends: ['10.5.1.3'] }), /^backends: only a scaled endpoint has backends/);
    refused(() => v.endpointRecord({ ...EP, type: EndpointType.SCALED }), /^backends: a scaled endpoint needs at least one/);
    const many = Array.from({ length: MAX_BACKENDS + 1 }, (_, i) => `10.5.3.${i + 1}`);
    refused(() => v.endpointRecord({ ...EP, type: EndpointType.SCALED, backends: many }), new RegExp(`^backends: at most ${MAX_BACKENDS}`));
  });

  it('addresses no machine can have are refused where a machine\'s address goes', () => {
    for (const ip of ['0.0.0.0', '0.0.0.5', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.5', '255.255.255.255', '127.0.0.1']) {
      refused(() => v.endpointRecord({ ...EP, ip }), new RegExp(`^ip: ${ip.replace(/\./g, '\\.')} is not a unicast address`));
      refused(() => v.endpointRecord({ ...EP, hostIp: ip }), /^host_ip: .* is not a unicast address/);
      refused(() => v.vpcRecord({ vni: 5, routers: [ip], directPath: true }), /^routers\[0\]: .* is not a unicast address/);
      refused(() => v.substrateRecord({ ip, mac: '02:00:00:00:00:01' }), /^ip: .* is not a unicast address/);
    }
    // the network's broadcast address is no gateway (a /31 has none: both its addresses are hosts)
    refused(() => v.networkRecord({ ...NET, gatewayIp: '10.5.1.255' }), /^gateway_ip: 10\.5\.1\.255 is not a host address of 10\.5\.1\.0\/24/);
  });

  it('a scaled endpoint needs no host', () => {
    expect(v.endpointRecord({ ...EP, type: EndpointType.SCALED, hostIp: '', hostMac: '', backends: ['10.5.1.3'] })).toMatchObject({
      hostIp: '0.0.0.0', hostMac: '00:00:00:00:00:00', backends: ['10.5.1.3'],
    });
    refused(() => v.endpointRecord({ ...EP, hostIp: '' }), /^host_ip/);
    // No host, or a unicast one (as PutEndpoints' batch check): never a multicast one.
    expect(v.endpointRecord({ ...EP, type: EndpointType.SCALED, hostIp: '0.0.0.0', hostMac: '', backends: ['10.5.1.3'] }).hostIp).toBe('0.0.0.0');
    refused(() => v.endpointRecord({ ...EP, type: EndpointType.SCALED, hostIp: '224.0.0.1', backends: ['10.5.1.3'] }), /^host_ip: 224\.0\.0\.1 is not a unicast address/);
  });

  it('keys', () => {
    expect(v.endpointKey({ vni: 5, ip: '10.5.1.2' })).toEqual({ vni: 5, ip: '10.5.1.2' });
    refused(() => v.endpointKey({ vni: 5, ip: '10.5.1' }), /^ip/);
    expect(v.networkKey({ vni: 5, cidr: '10.5.1.0/24' })).toEqual({ vni: 5, cidr: '10.5.1.0/24' });
    refused(() => v.networkKey({ vni: 0, cidr: '10.5.1.0/24' }), /^vni/);
    expect(v.substrateRecord({ ip: '172.30.0.1', mac: '02:00:00:00:00:01' })).toEqual({ ip: '172.30.0.1', mac: '02:00:00:00:00:01' });
  });
});

describe('attach requests', () => {
  const REQ = { vni: 5, netId: 1, ip: '10.5.1.2', mac: '0e:05:0a:05:01:02', cidr: '10.5.1.0/24', gatewayIp: '10.5.1.1', hostEndpoint: false, mtu: 0 };
  it('canonical, with the prefix length', () => {
    expect(v.attachRequest(REQ)).toEqual({ ...REQ, prefixLen: 24, vpcCidr: '' });
    expect(v.attachRequest({ ...REQ, vpcCidr: '10.5.0.0/16' }).vpcCidr).toBe('10.5.0.0/16');
    refused(() => v.attachRequest({ ...REQ, vpcCidr: '10.6.0.0/16' }), /^vpc_cidr: 10\.6\.0\.0\/16 does not contain cidr/);
  });
  it('the address, the gateway and the MTU must fit', () => {
    refused(() => v.attachRequest({ ...REQ, ip: '10.5.2.2' }), /^ip: 10\.5\.2\.2 is outside cidr 10\.5\.1\.0\/24/);
    refused(() => v.attachRequest({ ...REQ, gatewayIp: '10.5.9.1' }), /^gateway_ip: '10\.5\.9\.1' is not inside cidr/);
    refused(() => v.attachRequest({ ...REQ, ip: '10.5.1.1' }), /^ip: 10\.5\.1\.1 is the gateway address/);
    refused(() => v.attachRequest({ ...REQ, mtu: 100 }), /^mtu: 100 is outside 576\.\.9000/);
    expect(v.attachRequest({ ...REQ, mtu: 1500 }).mtu).toBe(1500);
  });
});
