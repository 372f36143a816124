// A restoring wrapper for BPF_PROG_TEST_RUN with repeat > 1.
//
// test_run repeats a program on the same buffer, and every xvpc path rewrites
// its packet, so a plain repeat measures one real run and N-1 runs of another
// path. This tiny XDP program puts the packet back first (moves the start of
// the packet back to where it was, rewrites the original bytes from a map)
// and then tail-calls the program under test. Timing wrapper->path and
// wrapper->empty program the same way and subtracting gives the path's own,
// warm, per-packet cost.
//
// The C source lives here rather than in native/bpf because it is a
// measuring instrument, not part of the data plane; it is compiled on first
// use with native/bpf/Makefile's clang flags but -mcpu=v3: under v3 clang
// computes its packet length in 32-bit registers added to a packet pointer,
// which the verifier refuses ("32-bit pointer arithmetic prohibited").
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { must } from '../dist/util/exec.js';
import { BpfObject, type BpfProgram } from '../dist/dataplane/bpf.js';

const MAX_PACKET = 256;

const SOURCE = `/* bench restore wrapper: restore the packet, then tail-call the target. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_PACKET ${MAX_PACKET}

struct tmpl {
	__u32 len;
	__u8 bytes[MAX_PACKET];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tmpl);
} tmpl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target SEC(".maps");

SEC("xdp.frags") /* tail-call partners must match the data plane's frags flag */
int xdp_restore(struct xdp_md *ctx)
{
	__u32 zero = 0;
	struct tmpl *t = bpf_map_lookup_elem(&tmpl, &zero);
	int delta;
	__u32 len;

	if (!t)
		return XDP_ABORTED;
	len = t->len;
	if (len < 1 || len > MAX_PACKET)
		return XDP_ABORTED;
	delta = (int)(ctx->data_end - ctx->data) - (int)len;
	if (delta && bpf_xdp_adjust_head(ctx, delta))
		return XDP_ABORTED;
	if (bpf_xdp_store_bytes(ctx, 0, t->bytes, len))
		return XDP_ABORTED;
	bpf_tail_call(ctx, &target, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
`;

function compile(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const src = `${dir}/restore.bpf.c`;
  const obj = `${dir}/restore.o`;
  writeFileSync(src, SOURCE);
  const arch = `/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`;
  return must(['clang', '-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', ...(existsSync(arch) ? ['-I', arch] : []), '-c', src, '-o', obj])
    .then(() => obj);
}

export class RestoreWrapper {
  private constructor(private readonly obj: BpfObject) {}

  /** Compiles (into `dir`) and loads the wrapper. */
  static async load(dir: string): Promise<RestoreWrapper> {
    return new RestoreWrapper(BpfObject.load(await compile(dir)));
  }

  /** Runs `prog` `repeat` times, the packet restored to `packet` before each run; the kernel's mean ns per run. */
  run(prog: BpfProgram, packet: Buffer, repeat: number, ingressIfindex?: number): { retval: number; meanNs: number; data: Buffer } {
    if (packet.length > MAX_PACKET) throw new Error(`restore wrapper: packet of ${packet.length} bytes > ${MAX_PACKET}`);
    const key = Buffer.alloc(4);
    const t = Buffer.alloc(4 + MAX_PACKET);
    t.writeUInt32LE(packet.length, 0);
    packet.copy(t, 4);
    this.obj.map('tmpl').update(key, t);
    const fd = Buffer.alloc(4);
    fd.writeUInt32LE(prog.fd, 0);
    this.obj.map('target').update(key, fd);
    const r = this.obj.program('xdp_restore').testRun(packet, { repeat, ...(ingressIfindex ? { ingressIfindex } : {}) });
    return { retval: r.retval, meanNs: r.durationNs, data: r.data };
  }

  close(): void { this.obj.close(); }
}
