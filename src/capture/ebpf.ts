// A small eBPF assembler: instructions as the kernel takes them (struct
// bpf_insn, 8 bytes), with symbolic jump labels resolved at the end. The
// capture programs (program.ts) and the classic-BPF translation (cbpf.ts) are
// written with it.

// Instruction classes
export const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, JMP32 = 0x06, ALU64 = 0x07;
// Sizes
export const W = 0x00, H = 0x08, B = 0x10, DW = 0x18;
// Modes
export const IMM = 0x00, MEM = 0x60;
// ALU operations
export const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70,
  NEG = 0x80, MOD = 0x90, XOR = 0xa0, MOV = 0xb0, END = 0xd0;
// Jump operations
export const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, CALL = 0x80, EXIT = 0x90,
  JLT = 0xa0, JLE = 0xb0;
// Operand source
export const K = 0x00, X = 0x08;
export const TO_BE = 0x08;
/** src_reg of a 64-bit immediate load that names a map by fd. */
export const PSEUDO_MAP_FD = 1;

/** Frame pointer (read-only). */
export const FP = 10;

/** Helper function ids (include/uapi/linux/bpf.h). */
export const HELPER = {
  map_lookup_elem: 1,
  ktime_get_ns: 5,
  skb_load_bytes: 26,
  ringbuf_output: 130,
  xdp_get_buff_len: 188,
  xdp_load_bytes: 189,
} as const;

export type Size = 1 | 2 | 4 | 8;
const SIZE_CODE: Record<Size, number> = { 1: B, 2: H, 4: W, 8: DW };

interface Insn { code: number; dst: number; src: number; off: number; imm: number; target?: string }

/** Operand of an ALU or jump: a register, or an immediate given as { imm }. */
export type Operand = number | { imm: number };

const INVERSE: Partial<Record<number, number>> = { [JEQ]: JNE, [JNE]: JEQ, [JGT]: JLE, [JLE]: JGT, [JGE]: JLT, [JLT]: JGE };
export const inverseJump = (op: number): number | undefined => INVERSE[op];

export class Asm {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();
  private readonly referenced = new Set<string>();

  get length(): number { return this.insns.length; }

  /** Whether some jump emitted so far goes to `name`. */
  isReferenced(name: string): boolean { return this.referenced.has(name); }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`ebpf: label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  private push(i: Insn): this {
    this.insns.push(i);
    return this;
  }

  private alu(cls: number, op: number, dst: number, v: Operand): this {
    return typeof v === 'number'
      ? this.push({ code: cls | op | X, dst, src: v, off: 0, imm: 0 })
      : this.push({ code: cls | op | K, dst, src: 0, off: 0, imm: v.imm | 0 });
  }

  /** 64-bit ALU: dst op= v */
  alu64(op: number, dst: number, v: Operand): this { return this.alu(ALU64, op, dst, v); }
  /** 32-bit ALU (upper half of dst zeroed): dst op= v */
  alu32(op: number, dst: number, v: Operand): this { return this.alu(ALU, op, dst, v); }
  mov64(dst: number, v: Operand): this { return this.alu64(MOV, dst, v); }
  mov32(dst: number, v: Operand): this { return this.alu32(MOV, dst, v); }
  neg32(dst: number): this { return this.push({ code: ALU | NEG, dst, src: 0, off: 0, imm: 0 }); }
  /** dst = host-to-big-endian(dst) of `bits`, zero-extended. */
  toBe(dst: number, bits: 16 | 32): this { return this.push({ code: ALU | END | TO_BE, dst, src: 0, off: 0, imm: bits }); }

  /** dst = *(size *)(src + off) */
  ldx(size: Size, dst: number, src: number, off: number): this {
    return this.push({ code: LDX | MEM | SIZE_CODE[size], dst, src, off, imm: 0 });
  }
  /** *(size *)(dst + off) = src */
  stx(size: Size, dst: number, off: number, src: number): this {
    return this.push({ code: STX | MEM | SIZE_CODE[size], dst, src, off, imm: 0 });
  }
  /** *(size *)(dst + off) = imm */
  st(size: Size, dst: number, off: number, imm: number): this {
    return this.push({ code: ST | MEM | SIZE_CODE[size], dst, src: 0, off, imm: imm | 0 });
  }
  /** dst = the map with this fd (a two-instruction load). */
  ldMapFd(dst: number, fd: number): this {
    this.push({ code: LD | IMM | DW, dst, src: PSEUDO_MAP_FD, off: 0, imm: fd });
    return this.push({ code: 0, dst: 0, src: 0, off: 0, imm: 0 });
  }

  private jump(cls: number, op: number, dst: number, v: Operand, target: string): this {
    this.referenced.add(target);
    return typeof v === 'number'
      ? this.push({ code: cls | op | X, dst, src: v, off: 0, imm: 0, target })
      : this.push({ code: cls | op | K, dst, src: 0, off: 0, imm: v.imm | 0, target });
  }
  /** if (dst op v) goto target, 64-bit compare */
  jmp(op: number, dst: number, v: Operand, target: string): this { return this.jump(JMP, op, dst, v, target); }
  /** if ((u32)dst op (u32)v) goto target */
  jmp32(op: number, dst: number, v: Operand, target: string): this { return this.jump(JMP32, op, dst, v, target); }
  ja(target: string): this {
    this.referenced.add(target);
    return this.push({ code: JMP | JA, dst: 0, src: 0, off: 0, imm: 0, target });
  }
  call(helper: number): this { return this.push({ code: JMP | CALL, dst: 0, src: 0, off: 0, imm: helper }); }
  exit(): this { return this.push({ code: JMP | EXIT, dst: 0, src: 0, off: 0, imm: 0 }); }

  /** The program as struct bpf_insn[] with every jump resolved. */
  assemble(): Buffer {
    const out = Buffer.alloc(this.insns.length * 8);
    this.insns.forEach((insn, i) => {
      let off = insn.off;
      if (insn.target !== undefined) {
        const at = this.labels.get(insn.target);
        if (at === undefined) throw new Error(`ebpf: jump to undefined label ${insn.target}`);
        off = at - (i + 1);
        if (off < -32768 || off > 32767) throw new Error(`ebpf: jump to ${insn.target} is too far (${off})`);
      }
      out.writeUInt8(insn.code, i * 8);
      out.writeUInt8((insn.src << 4) | insn.dst, i * 8 + 1);
      out.writeInt16LE(off, i * 8 + 2);
      out.writeInt32LE(insn.imm | 0, i * 8 + 4);
    });
    return out;
  }
}
