// `xvpc vpc`: VPCs of the desired state (create, list, get, delete through the Controller).
import { notFound } from '../errors.js';
import { intOpt, listOpt } from './args.js';
import { type ObjectKind, objectCommand } from './objects.js';
import { onOff, vniOpt } from './record-vpc.js';

interface VpcRow { vni: number; cidr: string; routers: string[]; directPath: boolean }

const vpc: ObjectKind = {
  name: 'vpc',
  noun: 'VPC',
  options: {
    create: { vni: { type: 'string' }, cidr: { type: 'string' }, routers: { type: 'string' }, 'direct-path': { type: 'string' } },
    list: {},
    get: { vni: { type: 'string' } },
    delete: { vni: { type: 'string' } },
  },
  optional: { create: ['routers', 'direct-path'] },
  create: (c, v) => c.createVpc({
    vni: vniOpt(v), cidr: v.cidr as string, routers: listOpt(v.routers as string | undefined) ?? [],
    ...(v['direct-path'] !== undefined ? { directPath: onOff(v['direct-path'] as string) } : {}),
  }),
  list: (c) => c.listVpcs(),
  get: async (c, v) => {
    const vni = vniOpt(v);
    const found = (await c.listVpcs()).find((x) => x.vni === vni);
    if (!found) throw notFound(`vni: no VPC with VNI ${vni}`);
    return found;
  },
  delete: (c, v) => c.deleteVpc({ vni: vniOpt(v) }),
  line: (o) => {
    const x = o as VpcRow;
    return `vpc ${x.vni}  ${x.cidr}  routers ${x.routers.join(',') || '-'}  direct-path ${x.directPath ? 'on' : 'off'}`;
  },
};

export const vpcCommand = objectCommand(vpc, 'xvpc vpc create --prefix demo1 --vni 3 --cidr 10.3.0.0/16 --routers sw');
