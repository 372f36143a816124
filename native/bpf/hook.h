/* hook: the ctx_* operations of the hook this object is built for. The
 * packet logic (transit.h, agent.h and what they use) touches packets only
 * through them, and its verdicts are XDP's on both hooks. The entry object
 * says which hook before any include: XVPC_HOOK_XDP (xvpc.bpf.c,
 * hook_xdp.h) or XVPC_HOOK_TC (xvpc_tc.bpf.c, hook_tc.h). */
#ifndef XVPC_HOOK_H
#define XVPC_HOOK_H

#if defined(XVPC_HOOK_XDP) && !defined(XVPC_HOOK_TC)
#include "hook_xdp.h"
#elif defined(XVPC_HOOK_TC) && !defined(XVPC_HOOK_XDP)
#include "hook_tc.h"
#else
#error "define exactly one of XVPC_HOOK_XDP, XVPC_HOOK_TC before any include"
#endif

#endif
