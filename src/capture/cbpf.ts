// Classic BPF (what libpcap's pcap_compile gives for a tcpdump expression)
// translated into eBPF instructions that run inside an XDP program, on the
// packet itself: every packet load is bounds-checked against data_end, and
// a load past the end rejects the packet, as classic BPF does.
//
// Register use: A and X of classic BPF live in two eBPF registers as 32-bit
// values (32-bit ALU keeps them zero-extended), scratch memory M[0..15] on
// the stack. The translation only ever jumps forward (classic BPF cannot jump
// back) and leaves out instructions no path reaches (the verifier refuses
// unreachable code).
import { addon } from '../dataplane/addon.js';
import {
  ADD, AND, type Asm, DIV, FP, JEQ, JGE, JGT, JSET, LSH, MOD, MUL, OR, RSH, SUB, XOR, inverseJump,
} from './ebpf.js';

export interface CbpfInsn { code: number; jt: number; jf: number; k: number }

/** libpcap's Ethernet link type (DLT_EN10MB): what an XDP program sees. */
export const DLT_EN10MB = 1;

/** Compiles a tcpdump expression with libpcap; throws with libpcap's message on a bad one. */
export function compileFilter(expr: string, snaplen = 262144, linktype = DLT_EN10MB): Buffer {
  return addon.pcapCompile(expr, snaplen, linktype);
}

/** struct bpf_insn[] (host order: u16 code, u8 jt, u8 jf, u32 k) as objects. */
export function decodeCbpf(buf: Buffer): CbpfInsn[] {
  const out: CbpfInsn[] = [];
  for (let o = 0; o + 8 <= buf.length; o += 8) {
    out.push({ code: buf.readUInt16LE(o), jt: buf.readUInt8(o + 2), jf: buf.readUInt8(o + 3), k: buf.readUInt32LE(o + 4) });
  }
  return out;
}

// Classic BPF encodings (pcap/bpf.h).
const C = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07 };
const cls = (code: number) => code & 0x07;
const size = (code: number) => code & 0x18;
const mode = (code: number) => code & 0xe0;
const op = (code: number) => code & 0xf0;
const src = (code: number) => code & 0x08;
const SZ: Record<number, 1 | 2 | 4> = { 0x00: 4, 0x08: 2, 0x10: 1 };
const M_ABS = 0x20, M_IND = 0x40, M_MEM = 0x60, M_LEN = 0x80, M_MSH = 0xa0, M_IMM = 0x00;
const RVAL_K = 0x00, RVAL_X = 0x08, RVAL_A = 0x10;
const JA_OP = 0x00;
const MISC_TAX = 0x00, MISC_TXA = 0x80;
const ALU_OPS: Record<number, number> = {
  0x00: ADD, 0x10: SUB, 0x20: MUL, 0x30: DIV, 0x40: OR, 0x50: AND, 0x60: LSH, 0x70: RSH, 0x90: MOD, 0xa0: XOR,
};
const JMP_OPS: Record<number, number> = { 0x10: JEQ, 0x20: JGT, 0x30: JGE, 0x40: JSET };

/** Largest packet offset the verifier tracks (MAX_PACKET_OFF) less room for a 4-byte load. */
const MAX_OFF = 0xff00;

export interface CbpfRegs {
  /** packet start and end (PTR_TO_PACKET, PTR_TO_PACKET_END), valid throughout the filter */
  data: number; dataEnd: number;
  /** packet length (scalar) */
  len: number;
  /** classic A and X */
  a: number; x: number;
  /** two scratch registers */
  t1: number; t2: number;
}

export interface CbpfLabels { accept: string; reject: string }

/** Stack bytes the scratch memory takes, below the frame pointer. */
export const CBPF_STACK = 64;

/** Whether the program touches scratch memory M[] (the caller zeroes it first). */
export function cbpfUsesMemory(prog: CbpfInsn[]): boolean {
  return prog.some(({ code }) => cls(code) === C.ST || cls(code) === C.STX ||
    ((cls(code) === C.LD || cls(code) === C.LDX) && mode(code) === M_MEM));
}

/** Instructions reachable from the first one; throws on a jump out of the program or a fall off its end. */
function reachable(prog: CbpfInsn[]): boolean[] {
  const seen = new Array<boolean>(prog.length).fill(false);
  const target = (from: number, to: number) => {
    if (to >= prog.length) throw new Error(`classic BPF: instruction ${from} jumps past the end`);
    seen[to] = true;
  };
  if (prog.length === 0) throw new Error('classic BPF: empty program');
  seen[0] = true;
  for (let i = 0; i < prog.length; i++) {
    if (!seen[i]) continue;
    const { code, jt, jf, k } = prog[i];
    if (cls(code) === C.RET) continue;
    if (cls(code) === C.JMP) {
      if (op(code) === JA_OP) target(i, i + 1 + k);
      else { target(i, i + 1 + jt); target(i, i + 1 + jf); }
      continue;
    }
    target(i, i + 1);
  }
  return seen;
}

/**
 * Appends the translation of `prog` to `asm`: every path ends in a jump to
 * labels.accept or labels.reject (classic BPF's non-zero or zero return).
 * Scratch memory is read from the stack: the caller zeroes it first when
 * cbpfUsesMemory() says so (the verifier refuses reads of uninitialised stack).
 */
export function translateCbpf(asm: Asm, prog: CbpfInsn[], r: CbpfRegs, labels: CbpfLabels, tag = 'c'): void {
  const live = reachable(prog);
  const at = (i: number) => `${tag}${i}`;
  const mem = (k: number) => {
    if (k >= 16) throw new Error(`classic BPF: scratch memory index ${k} out of range`);
    return -CBPF_STACK + 4 * k;
  };

  /** dst = packet[off .. off+n) in network order; a load past the end rejects. off: constant or register. */
  const loadPacket = (dst: number, n: 1 | 2 | 4, k: number, indexed: boolean) => {
    if (indexed) {
      if (k > MAX_OFF) { asm.ja(labels.reject); return; }
      asm.mov64(r.t1, r.x).alu64(ADD, r.t1, { imm: k });
      asm.jmp(JGT, r.t1, { imm: MAX_OFF }, labels.reject);
      asm.mov64(r.t2, r.data).alu64(ADD, r.t2, r.t1); // t2 = data + X + k
    } else {
      if (k + n > MAX_OFF) { asm.ja(labels.reject); return; }
      asm.mov64(r.t2, r.data);
      if (k) asm.alu64(ADD, r.t2, { imm: k });
    }
    asm.mov64(r.t1, r.t2).alu64(ADD, r.t1, { imm: n });
    asm.jmp(JGT, r.t1, r.dataEnd, labels.reject);
    asm.ldx(n, dst, r.t2, 0);
    if (n > 1) asm.toBe(dst, n === 2 ? 16 : 32);
  };

  const order = prog.map((_, i) => i).filter((i) => live[i]);
  order.forEach((i, pos) => {
    const next = order[pos + 1];
    const { code, jt, jf, k } = prog[i];
    asm.label(at(i));
    switch (cls(code)) {
      case C.LD:
      case C.LDX: {
        const dst = cls(code) === C.LD ? r.a : r.x;
        const m = mode(code);
        if (m === M_ABS || m === M_IND) {
          if (cls(code) === C.LDX) throw new Error(`classic BPF: unsupported instruction 0x${code.toString(16)} at ${i}`);
          loadPacket(dst, SZ[size(code)] ?? fail(i, code), k, m === M_IND);
        } else if (m === M_IMM) {
          asm.mov32(dst, { imm: k });
        } else if (m === M_MEM) {
          asm.ldx(4, dst, FP, mem(k));
        } else if (m === M_LEN) {
          asm.mov32(dst, r.len);
        } else if (m === M_MSH && cls(code) === C.LDX) {
          loadPacket(r.x, 1, k, false);
          asm.alu32(AND, r.x, { imm: 0xf }).alu32(LSH, r.x, { imm: 2 });
        } else {
          fail(i, code);
        }
        return;
      }
      case C.ST:
      case C.STX:
        asm.stx(4, FP, mem(k), cls(code) === C.ST ? r.a : r.x);
        return;
      case C.ALU: {
        if (op(code) === 0x80) { asm.neg32(r.a); return; } // NEG
        const eop = ALU_OPS[op(code)];
        if (eop === undefined) fail(i, code);
        if (src(code) === 0x08) {
          if (eop === DIV || eop === MOD) asm.jmp(JEQ, r.x, { imm: 0 }, labels.reject); // classic BPF: x / 0 rejects
          asm.alu32(eop, r.a, r.x);
        } else {
          if ((eop === LSH || eop === RSH) && k >= 32) throw new Error(`classic BPF: shift by ${k} at ${i}`);
          if ((eop === DIV || eop === MOD) && k === 0) { asm.ja(labels.reject); return; }
          asm.alu32(eop, r.a, { imm: k });
        }
        return;
      }
      case C.JMP: {
        if (op(code) === JA_OP) {
          if (i + 1 + k !== next) asm.ja(at(i + 1 + k));
          return;
        }
        const eop = JMP_OPS[op(code)] ?? fail(i, code);
        const v = src(code) === 0x08 ? r.x : { imm: k };
        const t = i + 1 + jt, f = i + 1 + jf;
        if (t === f) { if (t !== next) asm.ja(at(t)); return; }
        const inv = inverseJump(eop);
        if (t === next && inv !== undefined) {
          asm.jmp32(inv, r.a, v, at(f));
        } else {
          asm.jmp32(eop, r.a, v, at(t));
          if (f !== next) asm.ja(at(f));
        }
        return;
      }
      case C.RET: {
        const rv = code & 0x18;
        if (rv === RVAL_K) { asm.ja(k === 0 ? labels.reject : labels.accept); return; }
        const reg = rv === RVAL_A ? r.a : rv === RVAL_X ? r.x : fail(i, code);
        asm.jmp32(JEQ, reg, { imm: 0 }, labels.reject).ja(labels.accept);
        return;
      }
      case C.MISC:
        if ((code & 0xf8) === MISC_TAX) asm.mov32(r.x, r.a);
        else if ((code & 0xf8) === MISC_TXA) asm.mov32(r.a, r.x);
        else fail(i, code);
        return;
      default:
        fail(i, code);
    }
  });
}

function fail(i: number, code: number): never {
  throw new Error(`classic BPF: unsupported instruction 0x${code.toString(16)} at ${i}`);
}
