/* xvpc: the capture hook (xdpcap style).
 *
 * Every XDP program of a host leaves through xdpcap_exit(): it tail-calls
 * slot `action` of a PROG_ARRAY (one slot per XDP action: 0 ABORTED, 1 DROP,
 * 2 PASS, 3 TX, 4 REDIRECT). An empty slot falls through and the program
 * returns its action as if nothing were there; a capture tool puts a program
 * in the slots it wants, which reads the (final) packet, emits a sample and
 * returns the same action. src/capture/ builds and installs those programs.
 *
 * Building with -DXVPC_NO_XDPCAP leaves the hook out (only to measure what
 * it costs: tools/xdpcap-cost.mjs).
 */
#ifndef XVPC_XDPCAP_H
#define XVPC_XDPCAP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define XVPC_XDPCAP_SLOTS (XDP_REDIRECT + 1)

/* A capture hook: the PROG_ARRAY, pinned by name. A PROG_ARRAY keeps the
 * program type of its first user, so each build declares its own. */
#define XVPC_CAPTURE_HOOK(name)                                                                    \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY);                                              \
		__uint(max_entries, XVPC_XDPCAP_SLOTS);                                             \
		__type(key, __u32);                                                                 \
		__type(value, __u32);                                                               \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                                                \
	} name SEC(".maps")

static __always_inline int xdpcap_exit(struct xdp_md *ctx, void *hook, int action)
{
#ifndef XVPC_NO_XDPCAP
	bpf_tail_call(ctx, hook, action);
#endif
	return action;
}

#endif
