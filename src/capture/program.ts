// The capture program that goes into a slot of a host's capture hook
// (xdpcap_hook on the XDP build, tccap_hook on the TC build): it runs the
// (translated) filter on the packet as the host's program leaves it, emits
// matching packets into a BPF ring buffer, and returns the verdict of its
// slot, so the packet goes on exactly as it would have without it.
//
// A sample in the ring buffer:
//   u64 ktime ns | u32 action (low 16 bits; the DROP slot puts the drop
//   reason, an XVPC_STAT_DROP_* index, in the high 16) | u32 ingress ifindex |
//   u32 wire length | u32 captured length | bytes
import { DROP_REASON_MAP } from '../abi/index.js';
import { addon } from '../dataplane/addon.js';
import type { Hook } from '../dataplane/host.js';
import { type CbpfInsn, CBPF_STACK, cbpfUsesMemory, translateCbpf } from './cbpf.js';
import { ADD, AND, Asm, FP, HELPER, JEQ, JLE, JLT, JNE, LSH, OR } from './ebpf.js';

/** The data path's verdicts (XDP's on both builds), one hook slot each. */
export const XDP_ACTIONS = ['aborted', 'drop', 'pass', 'tx', 'redirect'] as const;
export type XdpAction = (typeof XDP_ACTIONS)[number];

export const SAMPLE_HEADER = 24;
/** Largest snaplen: the per-CPU scratch value stays well under the allocator's unit size. */
export const MAX_SNAPLEN = 16384;
export const DEFAULT_SNAPLEN = 4096;

const BPF_PROG_TYPE_SCHED_CLS = 3;
const BPF_PROG_TYPE_XDP = 6;
const BPF_XDP = 37; // expected attach type libbpf gives SEC("xdp"); tail-call partners must match
/** The host's programs are SEC("xdp.frags"); a tail-call partner must be frags-aware too. */
const BPF_F_XDP_HAS_FRAGS = 1 << 5;
const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
const BPF_MAP_TYPE_RINGBUF = 27;

/** What differs between the two hooks' contexts (struct xdp_md, struct __sk_buff). */
const CTX = {
  xdp: { data: 0, dataEnd: 4, ifindex: 12 /* ingress_ifindex */, loadBytes: HELPER.xdp_load_bytes },
  tc: { data: 76, dataEnd: 80, ifindex: 40 /* ifindex: the device it arrived on */, loadBytes: HELPER.skb_load_bytes },
} as const;
/** The TC verdict each slot's program returns (tc_verdict() in native/bpf/hook_tc.h). */
const TC_VERDICT = [2, 2, 0, 7, 7]; // SHOT, SHOT, OK, REDIRECT, REDIRECT

export interface CaptureProgramSpec {
  /** slot and verdict: index into XDP_ACTIONS */
  action: number;
  snaplen: number;
  ringbufFd: number;
  scratchFd: number;
  /** classic BPF filter; none captures everything */
  filter?: CbpfInsn[];
  /** which build's hook the program goes into; default xdp */
  hook?: Hook;
  /** the host's pinned drop_reason map (native/bpf/maps.h): the DROP slot's samples carry the reason */
  dropReasonFd?: number;
}

const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9;
const KEY_SLOT = -CBPF_STACK - 8;

/** The capture program's instructions. */
export function captureProgram(spec: CaptureProgramSpec): Buffer {
  const { action, snaplen } = spec;
  const hook = spec.hook ?? 'xdp';
  const ctx = CTX[hook];
  const verdict = hook === 'tc' ? TC_VERDICT[action] : action;
  const asm = new Asm();
  asm.mov64(R6, R1); // ctx, kept across helper calls
  if (hook === 'tc') asm.ldx(4, R9, R6, 0); // skb->len
  else asm.mov64(R1, R6).call(HELPER.xdp_get_buff_len).mov64(R9, R0);

  if (spec.filter) {
    // The verifier refuses reads of uninitialised stack: zero the scratch memory first.
    if (cbpfUsesMemory(spec.filter)) for (let off = -CBPF_STACK; off < 0; off += 8) asm.st(8, FP, off, 0);
    asm.ldx(4, R2, R6, ctx.data).ldx(4, R3, R6, ctx.dataEnd);
    asm.mov32(R7, { imm: 0 }).mov32(R8, { imm: 0 }); // classic BPF starts with A = X = 0
    translateCbpf(asm, spec.filter, { data: R2, dataEnd: R3, len: R9, a: R7, x: R8, t1: R4, t2: R5 },
      { accept: 'accept', reject: 'out' });
    // A filter that never matches: no sample code (it would be unreachable, which the verifier refuses).
    if (!asm.isReferenced('accept')) return asm.label('out').mov64(R0, { imm: verdict }).exit().assemble();
  }

  asm.label('accept');
  asm.st(4, FP, KEY_SLOT, 0);
  asm.ldMapFd(R1, spec.scratchFd).mov64(R2, FP).alu64(ADD, R2, { imm: KEY_SLOT }).call(HELPER.map_lookup_elem);
  asm.jmp(JEQ, R0, { imm: 0 }, 'out');
  asm.mov64(R7, R0);
  asm.call(HELPER.ktime_get_ns).stx(8, R7, 0, R0);
  asm.st(4, R7, 8, action);
  if (action === 1 && spec.dropReasonFd !== undefined) {
    // The key slot still holds 0, drop_reason's only index: this CPU's reason, set by drop() just before the hook.
    asm.ldMapFd(R1, spec.dropReasonFd).mov64(R2, FP).alu64(ADD, R2, { imm: KEY_SLOT }).call(HELPER.map_lookup_elem);
    asm.jmp(JEQ, R0, { imm: 0 }, 'noreason');
    asm.ldx(DROP_REASON_MAP.valueSize, R1, R0, DROP_REASON_MAP.reasonOff).alu64(AND, R1, { imm: 0xffff }).alu64(LSH, R1, { imm: 16 }).alu64(OR, R1, { imm: action });
    asm.stx(4, R7, 8, R1);
    asm.label('noreason');
  }
  asm.ldx(4, R1, R6, ctx.ifindex).stx(4, R7, 12, R1);
  asm.stx(4, R7, 16, R9);
  asm.mov64(R8, R9).jmp(JLE, R8, { imm: snaplen }, 'clamped').mov64(R8, { imm: snaplen });
  asm.label('clamped');
  asm.jmp(JLT, R8, { imm: 1 }, 'out');
  asm.stx(4, R7, 20, R8);
  asm.mov64(R1, R6).mov64(R2, { imm: 0 }).mov64(R3, R7).alu64(ADD, R3, { imm: SAMPLE_HEADER }).mov64(R4, R8);
  asm.call(ctx.loadBytes);
  asm.jmp(JNE, R0, { imm: 0 }, 'out');
  asm.ldMapFd(R1, spec.ringbufFd).mov64(R2, R7).mov64(R3, R8).alu64(ADD, R3, { imm: SAMPLE_HEADER }).mov64(R4, { imm: 0 });
  asm.call(HELPER.ringbuf_output);
  asm.label('out').mov64(R0, { imm: verdict }).exit();
  return asm.assemble();
}

/** The ring buffer and per-CPU scratch value one capture's programs share. */
export class CaptureMaps {
  readonly ringbufFd: number;
  readonly scratchFd: number;

  constructor(readonly snaplen: number, ringBytes: number) {
    this.ringbufFd = addon.mapCreate(BPF_MAP_TYPE_RINGBUF, 'xcap_ring', 0, 0, ringBytes);
    try {
      const value = Math.ceil((SAMPLE_HEADER + snaplen) / 8) * 8;
      this.scratchFd = addon.mapCreate(BPF_MAP_TYPE_PERCPU_ARRAY, 'xcap_scratch', 4, value, 1);
    } catch (err) {
      addon.closeFd(this.ringbufFd);
      throw err;
    }
  }

  close(): void {
    addon.closeFd(this.ringbufFd);
    addon.closeFd(this.scratchFd);
  }
}

/** Loads one capture program, tail-call compatible with the host's programs of that hook. */
export function loadCaptureProgram(insns: Buffer, name: string, hook: Hook = 'xdp'): number {
  if (hook === 'tc') return addon.progLoad(BPF_PROG_TYPE_SCHED_CLS, name, insns);
  return addon.progLoad(BPF_PROG_TYPE_XDP, name, insns, { expectedAttachType: BPF_XDP, progFlags: BPF_F_XDP_HAS_FRAGS });
}

export interface Sample {
  ktimeNs: bigint; action: number; ifindex: number; length: number; data: Buffer;
  /** drops: the XVPC_STAT_DROP_* index of the reason, if the sample carries one */
  dropReason?: number;
}

export function parseSample(buf: Buffer): Sample {
  const caplen = buf.readUInt32LE(20);
  const word = buf.readUInt32LE(8);
  return {
    ktimeNs: buf.readBigUInt64LE(0),
    action: word & 0xffff,
    ...(word >>> 16 ? { dropReason: word >>> 16 } : {}),
    ifindex: buf.readUInt32LE(12),
    length: buf.readUInt32LE(16),
    data: buf.subarray(SAMPLE_HEADER, SAMPLE_HEADER + Math.min(caplen, buf.length - SAMPLE_HEADER)),
  };
}

/** Ring buffer size in bytes: a power of two, at least a page. */
export function ringBytes(requested: number): number {
  let n = 4096;
  while (n < requested) n *= 2;
  return n;
}
