// `xvpc ep`: endpoints of the desired state (create, list, get, delete through
// the Controller). --type host makes a host endpoint; --type scaled one whose
// --backends are endpoints of the VPC (`update` replaces them); --security-groups
// names groups (xvpc sg) to attach.
import type { Endpoint } from '../controller/endpoint.js';
import { notFound } from '../errors.js';
import { UsageError, listOpt } from './args.js';
import { type ObjectKind, type Values, objectCommand } from './objects.js';
import { netIdOpt } from './net.js';
import { vniOpt } from './record-vpc.js';

/** sharedNamespace: its namespace holds its host's other endpoints too, so commands run as it must bind its address. */
interface EpRow { vni: number; netId: number; ip: string; mac: string; host: string | null; netns: string; sharedNamespace: boolean; backends: string[] }

const row = (e: Endpoint): EpRow => ({
  vni: e.vni, netId: e.netId, ip: e.ip, mac: e.mac, host: e.host?.id ?? null, netns: e.netns, sharedNamespace: e.sharedNamespace, backends: [...e.backends],
});
const TYPES = ['simple', 'host', 'scaled'];

/** --backends as the Controller takes them (endpoints named by IP). */
const backendsOpt = (v: Values): Endpoint[] => (listOpt(v.backends as string) ?? []).map((ip) => ({ ip })) as Endpoint[];

async function createEp(c: Parameters<ObjectKind['create']>[0], v: Values): Promise<unknown> {
  const type = (v.type as string | undefined) ?? 'simple';
  if (!TYPES.includes(type)) throw new UsageError(`--type must be one of ${TYPES.join(', ')}, not '${type}'`);
  const base = { vni: vniOpt(v), netId: netIdOpt(v), ip: v.ip as string };
  if (type === 'scaled') {
    if (v.backends === undefined) throw new UsageError('--backends is required for a scaled endpoint');
    // Given and ignored, either would leave the user believing something that is not so.
    if (v.host !== undefined) throw new UsageError('--host: a scaled endpoint lives on no host (its backends do)');
    if (v['security-groups'] !== undefined) throw new UsageError('--security-groups: attach groups to a scaled endpoint\'s backends, not to it');
    return c.createScaledEndpoint({ ...base, backends: backendsOpt(v) });
  }
  if (v.backends !== undefined) throw new UsageError('--backends: only a scaled endpoint (--type scaled) has backends');
  if (v.host === undefined) throw new UsageError('--host is required for a simple or host endpoint');
  const groups = listOpt(v['security-groups'] as string | undefined);
  const args = { ...base, host: v.host as string, ...(groups ? { securityGroups: groups } : {}) };
  return type === 'host' ? c.createHostEndpoint(args) : c.createSimpleEndpoint(args);
}

const ep: ObjectKind = {
  name: 'ep',
  noun: 'endpoint',
  options: {
    create: {
      vni: { type: 'string' }, 'net-id': { type: 'string' }, ip: { type: 'string' }, host: { type: 'string' },
      type: { type: 'string' }, backends: { type: 'string' }, 'security-groups': { type: 'string' },
    },
    list: { vni: { type: 'string' } },
    get: { vni: { type: 'string' }, ip: { type: 'string' } },
    delete: { vni: { type: 'string' }, 'net-id': { type: 'string' }, ip: { type: 'string' } },
  },
  optional: { create: ['host', 'type', 'backends', 'security-groups'] },
  create: createEp,
  list: async (c, v) => (await c.listEndpoints({ vni: vniOpt(v) })).map(row),
  get: async (c, v) => {
    const found = (await c.listEndpoints({ vni: vniOpt(v) })).find((e) => e.ip === v.ip);
    if (!found) throw notFound(`ip: VPC ${vniOpt(v)} has no endpoint ${v.ip}`);
    return row(found);
  },
  delete: (c, v) => c.deleteSimpleEndpoint({ vni: vniOpt(v), netId: netIdOpt(v), ip: v.ip as string }),
  more: {
    // A scaled endpoint's backends, replaced whole (what a network's delete asks for when one of its endpoints is a backend).
    update: {
      options: { vni: { type: 'string' }, 'net-id': { type: 'string' }, ip: { type: 'string' }, backends: { type: 'string' } },
      run: (c, v) => c.updateScaledEndpoint({ vni: vniOpt(v), netId: netIdOpt(v), ip: v.ip as string, backends: backendsOpt(v) }),
      done: (v) => `endpoint ${v.vni}/${v.ip}: backends ${v.backends}`,
    },
  },
  line: (o) => {
    const x = o as EpRow;
    return `endpoint ${x.vni}/${x.ip}  network ${x.netId}  ${x.mac}  ${x.host ? `on ${x.host}${x.netns ? ` (netns ${x.netns}${x.sharedNamespace ? ', shared: bind its address' : ''})` : ''}` : `scaled, backends ${x.backends.join(',')}`}`;
  },
};

export const epCommand = objectCommand(ep, 'xvpc ep create --prefix demo1 --vni 3 --net-id 1 --ip 10.3.1.5 --host left');
