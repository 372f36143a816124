// `xvpc vpc`: VPC records (vni -> routers) on one host's transitd.
import type { Vpc } from '../gen/transit.js';
import { MAX_VNI } from '../abi/index.js';
import { intOpt, listOpt, required } from './args.js';
import { type RecordKind, recordCommand } from './record.js';

export const vniOpt = (v: Record<string, unknown>): number =>
  intOpt(required(v.vni as string | undefined, 'vni'), 'vni', 1, MAX_VNI)!;

const vpc: RecordKind<Vpc, number> = {
  name: 'vpc',
  noun: 'vpc',
  keyOptions: { vni: { type: 'string' } },
  fieldOptions: { routers: { type: 'string' } },
  key: vniOpt,
  fields: (v) => (v.routers !== undefined ? { routers: listOpt(v.routers as string) } : {}),
  complete: (vni, f) => ({ vni, routers: f.routers ?? [] }),
  describeKey: (vni) => String(vni),
  get: (c, vni) => c.getVpc({ vni }),
  list: async (c) => (await c.dump({})).vpcs,
  create: (c, r) => c.createVpc(r),
  update: (c, r) => c.updateVpc(r),
  delete: (c, vni) => c.deleteVpc({ vni }),
  toJson: (r) => ({ vni: r.vni, routers: r.routers }),
  line: (r) => `vpc ${r.vni}  routers ${r.routers.join(',') || '-'}`,
};

export const vpcCommand = recordCommand(vpc,
  'xvpc vpc get --prefix demo1 --host left --vni 3 --json\n  xvpc vpc update --prefix demo1 --host left --vni 3 --routers 172.30.0.4,172.30.0.5');

