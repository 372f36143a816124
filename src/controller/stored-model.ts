// The Model as store objects: one table row per kind of object the Controller
// keeps. A new kind is one more row here and one more
// map on the Model; the stores (store/) stay as they are.
import { endpointRecordKey } from '../abi/index.js';
import { Model } from './model.js';
import { sameJson } from '../util/json-value.js';
import type { StoreChange, StoredObject } from './store/store.js';

export interface ModelKind<V = any> {
  /** the store's name for the kind */
  kind: string;
  /** where the Model keeps objects of this kind, by their key */
  map(m: Model): Map<string | number, V>;
  /** the key an object has in that map (numbers stay numbers) */
  keyOf(v: V): string | number;
}

/**
 * In dependency order: a commit writes kinds in this order and deletes them in
 * the reverse one, so a store that cannot take one huge transaction (etcd)
 * holds a model that makes sense after every part of it.
 */
export const MODEL_KINDS: ModelKind[] = [
  { kind: 'vpc', map: (m) => m.vpcs, keyOf: (v) => v.vni },
  { kind: 'network', map: (m) => m.networks, keyOf: (v) => Model.netKey(v.vni, v.netId) },
  { kind: 'securityGroup', map: (m) => m.securityGroups, keyOf: (v) => Model.sgKey(v.vni, v.name) },
  { kind: 'endpoint', map: (m) => m.endpoints, keyOf: (v) => endpointRecordKey(v) },
];

/** What the store must do to go from `before` to `after`. */
export function modelChanges(before: Model, after: Model): StoreChange[] {
  const puts: StoreChange[] = [];
  const deletes: StoreChange[] = [];
  for (const k of MODEL_KINDS) {
    const was = k.map(before);
    const now = k.map(after);
    for (const [key, v] of now) {
      const old = was.get(key);
      if (old === undefined || !sameJson(old, v)) puts.push({ kind: k.kind, key: String(key), value: v });
    }
    const gone: StoreChange[] = [];
    for (const key of was.keys()) if (!now.has(key)) gone.push({ kind: k.kind, key: String(key) });
    deletes.unshift(...gone);
  }
  return [...puts, ...deletes];
}

/** Every object the store holds, as the Model (kinds this version does not know are an error, not skipped). */
export function modelFrom(objects: StoredObject[]): Model {
  const m = new Model();
  const byName = new Map(MODEL_KINDS.map((k) => [k.kind, k]));
  for (const o of objects) {
    const k = byName.get(o.kind);
    if (!k) throw new Error(`store holds objects of kind '${o.kind}', which this version of xvpc does not know`);
    k.map(m).set(k.keyOf(o.value), o.value);
  }
  return m;
}
