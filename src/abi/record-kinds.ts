// The record kinds the control plane writes, one row each: which map holds
// them, how a record's key and value are encoded, how they decode. CRUD over
// the maps (HostDataplane) and over gRPC (transitd) is written once against
// this table.
import {
  decodeEndpoint, decodeNetwork, decodeSubstrate, decodeVpc, encodeEndpoint, encodeNetwork, encodeSubstrate, encodeVpc,
  endpointKey, networkKey, substrateKey, vpcKey,
  type EndpointKey, type EndpointRecord, type NetworkRecord, type SubstrateRecord, type VpcRecord,
} from './codecs.js';
import {
  decodeSgAttach, decodeSgGroup, encodeSgAttach, encodeSgGroup, sgGroupKey,
  type SecurityAttachRecord, type SecurityGroupKey, type SecurityGroupRecord,
} from './sg-records.js';

export interface VpcKey { vni: number }
export interface NetworkKey { vni: number; cidr: string }
export interface SubstrateKey { ip: string }

/** kind (named as its map) -> [record, key]; a record carries its key's fields. */
export interface RecordTypes {
  vpcs: [VpcRecord, VpcKey];
  networks: [NetworkRecord, NetworkKey];
  endpoints: [EndpointRecord, EndpointKey];
  substrate: [SubstrateRecord, SubstrateKey];
  /** security groups by id (their definitions; the loader compiles them into sg_cidrs/sg_ports) */
  sg_groups: [SecurityGroupRecord, SecurityGroupKey];
  /** an endpoint's security groups */
  sg_attach: [SecurityAttachRecord, EndpointKey];
}
export type RecordKindName = keyof RecordTypes;
export type RecordOf<N extends RecordKindName> = RecordTypes[N][0];
export type KeyOf<N extends RecordKindName> = RecordTypes[N][1];

export interface RecordKind<R, K> {
  /** the map's key for k (a record works too: it has the key's fields) */
  mapKey(k: K): Buffer;
  encode(r: R): Buffer;
  decode(key: Buffer, value: Buffer): R;
  /** The map's lookup may return a neighbour (an LPM trie: the longest prefix); true if r is k's own. */
  isExact?(r: R, k: K): boolean;
}

export const RECORD_KINDS: { [N in RecordKindName]: RecordKind<RecordOf<N>, KeyOf<N>> } = {
  vpcs: { mapKey: (k) => vpcKey(k.vni), encode: encodeVpc, decode: decodeVpc },
  networks: {
    mapKey: (k) => networkKey(k.vni, k.cidr),
    encode: encodeNetwork,
    decode: (_key, value) => decodeNetwork(value),
    isExact: (r, k) => r.vni === k.vni && r.cidr === k.cidr,
  },
  endpoints: { mapKey: (k) => endpointKey(k.vni, k.ip), encode: encodeEndpoint, decode: decodeEndpoint },
  substrate: { mapKey: (k) => substrateKey(k.ip), encode: encodeSubstrate, decode: decodeSubstrate },
  sg_groups: { mapKey: (k) => sgGroupKey(k.id), encode: encodeSgGroup, decode: decodeSgGroup },
  sg_attach: { mapKey: (k) => endpointKey(k.vni, k.ip), encode: encodeSgAttach, decode: decodeSgAttach },
};

