// `xvpc records ep`: endpoint records ((vni, ip) -> mac, host, type) on one host's transitd.
import { EndpointType, type Endpoint } from '../gen/transit.js';
import { UsageError, intOpt, listOpt, required } from './args.js';
import { type RecordKind, recordCommand } from './record.js';
import { vniOpt } from './record-vpc.js';
import { endpointRecordKey } from '../abi/index.js';

type EpKey = { vni: number; ip: string };

const TYPES: Record<string, EndpointType> = {
  simple: EndpointType.SIMPLE, scaled: EndpointType.SCALED, host: EndpointType.HOST, gateway: EndpointType.GATEWAY,
};
const typeName = (t: EndpointType): string => Object.keys(TYPES).find((k) => TYPES[k] === t) ?? String(t);

const ep: RecordKind<Endpoint, EpKey> = {
  name: 'ep',
  noun: 'endpoint',
  keyOptions: { vni: { type: 'string' }, ip: { type: 'string' } },
  fieldOptions: {
    type: { type: 'string' }, mac: { type: 'string' }, 'host-ip': { type: 'string' }, 'host-mac': { type: 'string' },
    'net-id': { type: 'string' }, backends: { type: 'string' },
  },
  key: (v) => ({ vni: vniOpt(v), ip: required(v.ip as string | undefined, 'ip') }),
  fields: (v) => {
    const f: Partial<Endpoint> = {};
    if (v.type !== undefined) {
      const t = TYPES[v.type as string];
      if (t === undefined) throw new UsageError(`--type must be one of ${Object.keys(TYPES).join(', ')}, not '${v.type}'`);
      f.type = t;
    }
    if (v.mac !== undefined) f.mac = v.mac as string;
    if (v['host-ip'] !== undefined) f.hostIp = v['host-ip'] as string;
    if (v['host-mac'] !== undefined) f.hostMac = v['host-mac'] as string;
    if (v['net-id'] !== undefined) f.netId = intOpt(v['net-id'] as string, 'net-id', 0, 0xffffffff);
    if (v.backends !== undefined) f.backends = listOpt(v.backends as string);
    return f;
  },
  complete: (k, f) => {
    const type = f.type ?? EndpointType.SIMPLE;
    const needed = type === EndpointType.SCALED ? [['mac', 'mac'], ['netId', 'net-id']] as const
      : [['mac', 'mac'], ['hostIp', 'host-ip'], ['hostMac', 'host-mac'], ['netId', 'net-id']] as const;
    for (const [field, opt] of needed) if (f[field] === undefined) throw new UsageError(`--${opt} is required to create an endpoint`);
    return {
      ...k, type, mac: f.mac!, hostIp: f.hostIp ?? '', hostMac: f.hostMac ?? '', netId: f.netId!, backends: f.backends ?? [],
      hostedIfindex: -1,
    };
  },
  describeKey: endpointRecordKey,
  get: (c, k) => c.getEndpoint(k),
  list: async (c) => (await c.dump({})).endpoints,
  create: (c, r) => c.createEndpoint(r),
  update: (c, r) => c.updateEndpoint(r),
  delete: (c, k) => c.deleteEndpoint(k),
  toJson: (r) => ({
    vni: r.vni, ip: r.ip, type: typeName(r.type), mac: r.mac, hostIp: r.hostIp, hostMac: r.hostMac, netId: r.netId,
    backends: r.backends, hostedIfindex: r.hostedIfindex,
  }),
  line: (r) => `endpoint ${r.vni}/${r.ip}  ${typeName(r.type)}  ${r.mac}  on ${r.hostIp}${r.hostedIfindex >= 0 ? ` (here, ifindex ${r.hostedIfindex})` : ''}`,
};

export const epRecordsCommand = recordCommand(ep,
  'xvpc records ep get --prefix demo1 --host left --vni 3 --ip 10.0.0.3 --json\n  xvpc records ep update --prefix demo1 --host left --vni 3 --ip 10.0.0.3 --mac 0e:03:0a:00:00:33');
