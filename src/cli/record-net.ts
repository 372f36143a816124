// `xvpc records net`: network records ((vni, cidr) -> gateway, switches) on one host's transitd.
import type { Network } from '../gen/transit.js';
import { intOpt, listOpt, required, UsageError } from './args.js';
import { type RecordKind, recordCommand } from './record.js';
import { vniOpt } from './record-vpc.js';
import { networkRecordKey } from '../abi/index.js';

type NetKey = { vni: number; cidr: string };

const net: RecordKind<Network, NetKey> = {
  name: 'net',
  noun: 'network',
  keyOptions: { vni: { type: 'string' }, cidr: { type: 'string' } },
  fieldOptions: {
    'net-id': { type: 'string' }, 'gateway-ip': { type: 'string' }, 'gateway-mac': { type: 'string' }, switches: { type: 'string' },
  },
  key: (v) => ({ vni: vniOpt(v), cidr: required(v.cidr as string | undefined, 'cidr') }),
  fields: (v) => {
    const f: Partial<Network> = {};
    if (v['net-id'] !== undefined) f.netId = intOpt(v['net-id'] as string, 'net-id', 0, 0xffffffff);
    if (v['gateway-ip'] !== undefined) f.gatewayIp = v['gateway-ip'] as string;
    if (v['gateway-mac'] !== undefined) f.gatewayMac = v['gateway-mac'] as string;
    if (v.switches !== undefined) f.switches = listOpt(v.switches as string);
    return f;
  },
  complete: (k, f) => {
    for (const [field, opt] of [['netId', 'net-id'], ['gatewayIp', 'gateway-ip'], ['gatewayMac', 'gateway-mac']] as const) {
      if (f[field] === undefined) throw new UsageError(`--${opt} is required to create a network`);
    }
    return { ...k, netId: f.netId!, gatewayIp: f.gatewayIp!, gatewayMac: f.gatewayMac!, switches: f.switches ?? [] };
  },
  describeKey: networkRecordKey,
  get: (c, k) => c.getNetwork(k),
  list: async (c) => (await c.dump({})).networks,
  create: (c, r) => c.createNetwork(r),
  update: (c, r) => c.updateNetwork(r),
  delete: (c, k) => c.deleteNetwork(k),
  toJson: (r) => ({ vni: r.vni, netId: r.netId, cidr: r.cidr, gatewayIp: r.gatewayIp, gatewayMac: r.gatewayMac, switches: r.switches }),
  line: (r) => `network ${r.vni}/${r.cidr}  id ${r.netId}  gateway ${r.gatewayIp} ${r.gatewayMac}  switches ${r.switches.join(',') || '-'}`,
};

export const netRecordsCommand = recordCommand(net,
  'xvpc records net get --prefix demo1 --host switch --vni 3 --cidr 10.0.0.0/16 --json\n  xvpc records net update --prefix demo1 --host switch --vni 3 --cidr 10.0.0.0/16 --switches 172.30.0.4');
