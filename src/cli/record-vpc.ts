// `xvpc records vpc`: VPC records (vni -> routers) on one host's transitd.
import type { Vpc } from '../gen/transit.js';
import { MAX_VNI } from '../abi/index.js';
import { intOpt, listOpt, required } from './args.js';
import { invalid } from '../errors.js';
import { type RecordKind, recordCommand } from './record.js';

export const vniOpt = (v: Record<string, unknown>): number =>
  intOpt(required(v.vni as string | undefined, 'vni'), 'vni', 1, MAX_VNI)!;

export function onOff(v: string): boolean {
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw invalid(`--direct-path: expected on or off, got '${v}'`);
}

const vpc: RecordKind<Vpc, number> = {
  name: 'vpc',
  noun: 'vpc',
  keyOptions: { vni: { type: 'string' } },
  fieldOptions: { routers: { type: 'string' }, 'direct-path': { type: 'string' } },
  key: vniOpt,
  fields: (v) => ({
    ...(v.routers !== undefined ? { routers: listOpt(v.routers as string) } : {}),
    ...(v['direct-path'] !== undefined ? { directPath: onOff(v['direct-path'] as string) } : {}),
  }),
  complete: (vni, f) => ({ vni, routers: f.routers ?? [], directPath: f.directPath ?? true }),
  describeKey: (vni) => String(vni),
  get: (c, vni) => c.getVpc({ vni }),
  list: async (c) => (await c.dump({})).vpcs,
  create: (c, r) => c.createVpc(r),
  update: (c, r) => c.updateVpc(r),
  delete: (c, vni) => c.deleteVpc({ vni }),
  toJson: (r) => ({ vni: r.vni, routers: r.routers, directPath: r.directPath }),
  line: (r) => `vpc ${r.vni}  routers ${r.routers.join(',') || '-'}  direct-path ${r.directPath ? 'on' : 'off'}`,
};

export const vpcRecordsCommand = recordCommand(vpc,
  'xvpc records vpc get --prefix demo1 --host left --vni 3 --json\n  xvpc records vpc update --prefix demo1 --host left --vni 3 --routers 172.30.0.4,172.30.0.5');

