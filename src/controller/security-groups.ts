// Security groups in the controller: the API's checks and model changes
// (each function validates everything first, then changes the model, so a
// rejected call changes nothing), and what each host should hold (a group
// goes to the hosts of the endpoints it is attached to; an endpoint's group
// list to its own host). Semantics: docs/architecture.md "Security groups".
import {
  EndpointType, SG_MAX_GROUPS, endpointRecordKey, sgName, sgRuleFilled, sgRules,
  type SecurityAttachRecord, type SecurityRule,
} from '../abi/index.js';
import { XvpcError, alreadyExists, invalid, notFound } from '../errors.js';
import type { SecurityAttachment, SecurityGroup } from '../transitd/client.js';
import * as check from '../util/check.js';
import { Model, type EndpointModel, type SecurityGroupModel } from './model.js';

export interface SecurityGroupArgs { vni: number; name: string; ingress?: SecurityRule[]; egress?: SecurityRule[] }
export interface SecurityGroupRef { vni: number; name: string }
export interface SecurityAttachArgs { vni: number; ip: string; name: string }
/** A group as the API shows it. */
export interface SecurityGroupInfo { vni: number; name: string; ingress: SecurityRule[]; egress: SecurityRule[]; attachedTo: string[] }

// What each call takes: any other argument is refused (a misspelt `ingres` must not leave a group empty).
const GROUP_ARGS = ['vni', 'name', 'ingress', 'egress'] as const;
const GROUP_REF_ARGS = ['vni', 'name'] as const;
const ATTACH_ARGS = ['vni', 'ip', 'name'] as const;

function vpcOf(m: Model, v: unknown): number {
  const vni = check.vni(v);
  if (!m.vpcs.has(vni)) throw notFound(`vni: no VPC with VNI ${vni}`);
  return vni;
}

/** The group `name` of VPC vni; a group of that name in another VPC is named in the error. */
function groupOf(m: Model, vni: number, name: string, field = 'name'): SecurityGroupModel {
  const g = m.securityGroups.get(Model.sgKey(vni, name));
  if (g) return g;
  const elsewhere = [...m.securityGroups.values()].find((x) => x.name === name);
  if (elsewhere) throw notFound(`${field}: VPC ${vni} has no security group '${name}' (VPC ${elsewhere.vni} has one; a group applies only in its own VPC)`);
  throw notFound(`${field}: VPC ${vni} has no security group '${name}'`);
}

const attachedTo = (m: Model, g: SecurityGroupModel): EndpointModel[] =>
  m.endpointsOf(g.vni).filter((e) => e.securityGroups?.includes(g.name));

/** The next unused id (ids name groups on hosts; unique across VPCs). */
const nextId = (m: Model): number => Math.max(0, ...[...m.securityGroups.values()].map((g) => g.id)) + 1;

export function createSecurityGroup(m: Model, args: unknown): void {
  const a = check.args(args, 'createSecurityGroup', GROUP_ARGS);
  const vni = vpcOf(m, a.vni);
  const name = sgName(a.name);
  const rules = sgRules(a.ingress, a.egress);
  if (m.securityGroups.has(Model.sgKey(vni, name))) throw alreadyExists(`name: VPC ${vni} already has a security group '${name}'`);
  m.securityGroups.set(Model.sgKey(vni, name), { id: nextId(m), vni, name, ...rules });
}

/** Replaces both rule lists; connections already tracked go on, new ones see the new rules. */
export function updateSecurityGroup(m: Model, args: unknown): void {
  const a = check.args(args, 'updateSecurityGroup', GROUP_ARGS);
  const vni = vpcOf(m, a.vni);
  const g = groupOf(m, vni, sgName(a.name));
  const rules = sgRules(a.ingress, a.egress);
  g.ingress = rules.ingress;
  g.egress = rules.egress;
}

export function deleteSecurityGroup(m: Model, args: unknown): void {
  const a = check.args(args, 'deleteSecurityGroup', GROUP_REF_ARGS);
  const vni = vpcOf(m, a.vni);
  const g = groupOf(m, vni, sgName(a.name));
  const users = attachedTo(m, g);
  if (users.length) throw new XvpcError('FAILED_PRECONDITION', `name: security group '${g.name}' is attached to ${users.map((e) => e.ip).join(', ')}; detach it first`);
  m.securityGroups.delete(Model.sgKey(vni, g.name));
}

/** A list of group names for a new endpoint of VPC vni: known, none twice, at most SG_MAX_GROUPS. */
export function groupNames(m: Model, vni: number, v: unknown, field = 'securityGroups'): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(`${field}: expected a list of security group names`);
  if (v.length > SG_MAX_GROUPS) throw invalid(`${field}: at most ${SG_MAX_GROUPS} groups, got ${v.length}`);
  const names = v.map((n, i) => groupOf(m, vni, sgName(n, `${field}[${i}]`), `${field}[${i}]`).name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw invalid(`${field}: '${dup}' is listed twice`);
  return names;
}

function hostedEndpoint(m: Model, vni: number, v: unknown): EndpointModel {
  const ip = check.ipv4(v, 'ip');
  const ep = m.endpoints.get(endpointRecordKey({ vni, ip }));
  if (!ep) throw notFound(`ip: VPC ${vni} has no endpoint ${ip}`);
  if (ep.type === EndpointType.SCALED) throw invalid(`ip: ${ip} is a scaled endpoint; attach groups to its backends`);
  return ep;
}

export function attachSecurityGroup(m: Model, args: unknown): void {
  const a = check.args(args, 'attachSecurityGroup', ATTACH_ARGS);
  const vni = vpcOf(m, a.vni);
  const ep = hostedEndpoint(m, vni, a.ip);
  const g = groupOf(m, vni, sgName(a.name));
  const now = ep.securityGroups ?? [];
  if (now.includes(g.name)) throw alreadyExists(`name: '${g.name}' is already attached to ${ep.ip}`);
  if (now.length >= SG_MAX_GROUPS) throw new XvpcError('FAILED_PRECONDITION', `ip: ${ep.ip} has ${SG_MAX_GROUPS} groups, the most an endpoint can have`);
  ep.securityGroups = [...now, g.name];
}

export function detachSecurityGroup(m: Model, args: unknown): void {
  const a = check.args(args, 'detachSecurityGroup', ATTACH_ARGS);
  const vni = vpcOf(m, a.vni);
  const ep = hostedEndpoint(m, vni, a.ip);
  const name = sgName(a.name);
  if (!ep.securityGroups?.includes(name)) throw notFound(`name: '${name}' is not attached to ${ep.ip}`);
  ep.securityGroups = ep.securityGroups.filter((n) => n !== name);
}

export function listSecurityGroups(m: Model, args: unknown): SecurityGroupInfo[] {
  const a = check.args(args, 'listSecurityGroups', ['vni']);
  const vni = vpcOf(m, a.vni);
  return [...m.securityGroups.values()].filter((g) => g.vni === vni).map((g) => ({
    vni, name: g.name, ingress: structuredClone(g.ingress), egress: structuredClone(g.egress), attachedTo: attachedTo(m, g).map((e) => e.ip),
  }));
}

// --- what hosts hold ---------------------------------------------------------------

/**
 * For each endpoint with groups, on its host: its group list (by id) and
 * every group in it. host -> [groups by id, attachments by endpoint key].
 */
export function securityGoals(m: Model): Map<string, { groups: Map<string, SecurityGroup>; attachments: Map<string, SecurityAttachment> }> {
  const out = new Map<string, { groups: Map<string, SecurityGroup>; attachments: Map<string, SecurityAttachment> }>();
  for (const ep of m.endpoints.values()) {
    if (!ep.host || !ep.securityGroups?.length) continue;
    let goal = out.get(ep.host);
    if (!goal) out.set(ep.host, (goal = { groups: new Map(), attachments: new Map() }));
    const groups = ep.securityGroups.map((n) => m.securityGroups.get(Model.sgKey(ep.vni, n))!);
    const record: SecurityAttachRecord = { vni: ep.vni, ip: ep.ip, groups: groups.map((g) => g.id) };
    goal.attachments.set(endpointRecordKey(ep), record);
    for (const g of groups) {
      goal.groups.set(String(g.id), { id: g.id, vni: g.vni, name: g.name, ingress: g.ingress.map(sgRuleFilled), egress: g.egress.map(sgRuleFilled) });
    }
  }
  return out;
}
