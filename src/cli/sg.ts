// `xvpc sg`: security groups of the desired state (create, list, get, delete,
// attach, detach through the Controller). Rules: sg-rules.ts.
import type { SecurityRule } from '../abi/index.js';
import { notFound } from '../errors.js';
import { type ObjectKind, objectCommand } from './objects.js';
import { vniOpt } from './record-vpc.js';
import { formatRules, parseRules } from './sg-rules.js';

interface SgRow { vni: number; name: string; ingress: SecurityRule[]; egress: SecurityRule[]; attachedTo: string[] }

const attachOptions = { vni: { type: 'string' }, name: { type: 'string' }, ip: { type: 'string' } } as const;

const sg: ObjectKind = {
  name: 'sg',
  noun: 'security group',
  options: {
    create: { vni: { type: 'string' }, name: { type: 'string' }, ingress: { type: 'string' }, egress: { type: 'string' } },
    list: { vni: { type: 'string' } },
    get: { vni: { type: 'string' }, name: { type: 'string' } },
    delete: { vni: { type: 'string' }, name: { type: 'string' } },
  },
  optional: { create: ['ingress', 'egress'] },
  create: (c, v) => c.createSecurityGroup({
    vni: vniOpt(v), name: v.name as string,
    ingress: parseRules((v.ingress as string | undefined) ?? '', 'ingress'), egress: parseRules((v.egress as string | undefined) ?? '', 'egress'),
  }),
  list: (c, v) => c.listSecurityGroups({ vni: vniOpt(v) }),
  get: async (c, v) => {
    const found = (await c.listSecurityGroups({ vni: vniOpt(v) })).find((g) => g.name === v.name);
    if (!found) throw notFound(`name: VPC ${vniOpt(v)} has no security group '${v.name}'`);
    return found;
  },
  delete: (c, v) => c.deleteSecurityGroup({ vni: vniOpt(v), name: v.name as string }),
  more: {
    attach: {
      options: attachOptions,
      run: (c, v) => c.attachSecurityGroup({ vni: vniOpt(v), name: v.name as string, ip: v.ip as string }),
      done: (v) => `attached security group ${v.name} to ${v.ip}`,
    },
    detach: {
      options: attachOptions,
      run: (c, v) => c.detachSecurityGroup({ vni: vniOpt(v), name: v.name as string, ip: v.ip as string }),
      done: (v) => `detached security group ${v.name} from ${v.ip}`,
    },
  },
  line: (o) => {
    const x = o as SgRow;
    return `sg ${x.vni}/${x.name}  ingress ${formatRules(x.ingress)}  egress ${formatRules(x.egress)}  attached to ${x.attachedTo.join(',') || '-'}`;
  },
};

export const sgCommand = objectCommand(sg, "xvpc sg create --prefix demo1 --vni 3 --name web --ingress 'tcp:80@10.3.1.0/24,icmp' --egress 'udp:53'");
