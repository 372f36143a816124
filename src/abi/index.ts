// The kernel contract in TypeScript: what native/bpf/xvpc.h says, once.
//   limits.ts      the #define'd limits (MAX_VNI, MAX_MEMBERS, MAX_BACKENDS, slot count)
//   enums.ts       enum xvpc_ep_type, flag words
//   stats.ts       enum xvpc_stat as counter names
//   layout.ts      every struct's size and member offsets (checked against BTF)
//   codecs.ts      record types and their encoders/decoders, keys included
//   batch.ts       the packed endpoint batch: encoder, checker, record readers
//   batch-compact.ts  its values without the empty backend slots, as PutEndpoints sends them
//   slot-table.ts  the consistent-hash slots of struct xvpc_members
//   record-key.ts  the "vni/ip" strings that name records outside the kernel
//   record-kinds.ts  the record kinds as a table: map, key and value codecs
//   sg-records.ts  security-group rules (checked), groups, attachments, conntrack
//   sg-compile.ts  a group compiled into the policy tries
export * from './limits.js';
export * from './enums.js';
export * from './stats.js';
export * from './layout.js';
export * from './codecs.js';
export * from './batch.js';
export * from './batch-compact.js';
export * from './slot-table.js';
export * from './record-key.js';
export * from './record-kinds.js';
export * from './sg-records.js';
export * from './sg-compile.js';
