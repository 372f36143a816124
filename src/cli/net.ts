// `xvpc net`: networks of the desired state (create, list, get, delete through the Controller).
import { notFound } from '../errors.js';
import { intOpt, listOpt } from './args.js';
import { type ObjectKind, type Values, objectCommand } from './objects.js';
import { vniOpt } from './record-vpc.js';

interface NetRow { vni: number; netId: number; cidr: string; switches: string[] }

export const netIdOpt = (v: Values): number => intOpt(v['net-id'] as string, 'net-id', 0, 0xffffffff)!;

const net: ObjectKind = {
  name: 'net',
  noun: 'network',
  options: {
    create: { vni: { type: 'string' }, 'net-id': { type: 'string' }, cidr: { type: 'string' }, switches: { type: 'string' } },
    list: { vni: { type: 'string' } },
    get: { vni: { type: 'string' }, 'net-id': { type: 'string' } },
    delete: { vni: { type: 'string' }, 'net-id': { type: 'string' } },
  },
  create: (c, v) => c.createNetwork({ vni: vniOpt(v), netId: netIdOpt(v), cidr: v.cidr as string, switches: listOpt(v.switches as string)! }),
  list: (c, v) => c.listNetworks({ vni: vniOpt(v) }),
  get: async (c, v) => {
    const netId = netIdOpt(v);
    const found = (await c.listNetworks({ vni: vniOpt(v) })).find((x) => x.netId === netId);
    if (!found) throw notFound(`net-id: VPC ${vniOpt(v)} has no network ${netId}`);
    return found;
  },
  delete: (c, v) => c.deleteNetwork({ vni: vniOpt(v), netId: netIdOpt(v) }),
  line: (o) => {
    const x = o as NetRow;
    return `network ${x.vni}/${x.netId}  ${x.cidr}  switches ${x.switches.join(',')}`;
  },
};

export const netCommand = objectCommand(net, 'xvpc net create --prefix demo1 --vni 3 --net-id 1 --cidr 10.3.1.0/24 --switches sw');
