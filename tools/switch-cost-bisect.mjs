#!/usr/bin/env node
// Where the switch path's ns go: builds variants of xvpc.o that each leave
// one part of the path out (in a scratch copy of native/bpf; the data plane's
// source is not touched) and times them side by side with the build as it is
// (tools/switch-cost-ab.mjs). Measuring instruments only: a variant without
// its endpoint lookup answers the bench's one remote endpoint from a
// one-entry array, and is wrong for anything else.
//
//   node tools/switch-cost-bisect.mjs [--rounds 31] [--repeat 300000] [--copies 1] [--stages | --prototype]
//
// --prototype: the build as it is against one whose endpoint lookup is an
// open-addressed table in an ARRAY (PROTO_ARRAY below), what a redesign that
// moves the switch's record out of the HASH map would give.
//
// --stages: instead, cumulative cuts: each build stops the switch path with
// XDP_TX after one more step (entry, outer headers, Geneve, inner IPv4,
// endpoint lookup, the switch's checks, its rewrite; the last is the build
// as it is), so the differences
// between neighbours add up to the whole path; plus the entry without the
// capture hook and without counters. Only xdp_transit is cut (the agent's
// inline transit, from_agent, is left whole).
//
// Run as root after `npm run build`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { repoRoot } from '../dist/dataplane/addon.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '31' }, repeat: { type: 'string', default: '300000' }, stages: { type: 'boolean', default: false }, prototype: { type: 'boolean', default: false }, copies: { type: 'string', default: '1' } } });

/** [file, text, replacement]: a variant's edits; each text must be found. */
const EDITS = {
  counters: [
    ['maps.h', '\t__u64 *v = bpf_map_lookup_elem(&stats, &idx);\n', '\t__u64 *v = 0; /* bisect: no counters */\n'],
    ['maps.h', '\t__u32 *last = bpf_map_lookup_elem(&drop_reason, &zero);\n', '\t__u32 *last = 0; (void)zero;\n'],
  ],
  'endpoint-hash': [
    ['maps.h', '\treturn bpf_map_lookup_elem(&endpoints, &k);\n}', `\tif (ip == BISECT_SERVER_IP) { /* bisect: the bench's remote endpoint from a one-entry array */
		__u32 zero = 0;
		struct endpoint_value *e = bpf_map_lookup_elem(&bisect_ep, &zero);

		if (e) {
			e->host_ip = BISECT_PEER_IP;
			e->hosted_ifindex = -1;
		}
		return e;
	}
	return bpf_map_lookup_elem(&endpoints, &k);
}`],
    ['maps.h', '#define XVPC_LPM_HOST', `struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct endpoint_value);
} bisect_ep SEC(".maps");
#define BISECT_SERVER_IP 0x0300000a /* 10.0.0.3, as tools/switch-cost-ab.mjs */
#define BISECT_PEER_IP 0x03001eac   /* 172.30.0.3 */
#define XVPC_LPM_HOST`],
  ],
  'csum-check': [['csum.h', '\treturn xvpc_ip_sum20(ip) == 0xffff;', '\treturn 1; /* bisect */']],
  'buff-len': [['hook_xdp.h', '\treturn bpf_xdp_get_buff_len(ctx);', '\treturn ctx->data_end - ctx->data; /* bisect: linear only */']],
  hook: [],
};

/* --prototype: the endpoints in an open-addressed table inside an ARRAY
 * (whose lookup the verifier inlines) under a multiplicative hash, probed
 * linearly: what moving the switch path's record out of the HASH map would
 * give. Filled from the HASH map on a miss (a cache, stale after any change:
 * a measuring instrument, never the data plane); the bench's packets all hit. */
const PROTO_ARRAY = [
  ['maps.h', '\treturn bpf_map_lookup_elem(&endpoints, &k);\n}', `\t__u32 idx = ((ip ^ (vni * 0x9e3779b9u)) * 0x85ebca6bu) >> (32 - PROTO_BITS);
	for (int i = 0; i < 4; i++) {
		struct proto_slot *s = bpf_map_lookup_elem(&proto_eps, &idx);
		struct endpoint_value *e;

		if (!s)
			return 0;
		if (s->k.vni == vni && s->k.ip == ip && s->used)
			return &s->v;
		if (s->used) {
			idx = (idx + 1) & ((1u << PROTO_BITS) - 1);
			continue;
		}
		e = bpf_map_lookup_elem(&endpoints, &k); /* miss: fill (prototype only) */
		if (!e)
			return 0;
		__builtin_memcpy(&s->v, e, sizeof(*e));
		s->k = k;
		s->used = 1;
		return &s->v;
	}
	return 0;
}`],
  ['maps.h', '#define XVPC_LPM_HOST', `#define PROTO_BITS 16
struct proto_slot {
	struct endpoint_key k;
	__u32 used;
	__u32 _pad;
	struct endpoint_value v;
};
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1 << PROTO_BITS);
	__type(key, __u32);
	__type(value, struct proto_slot);
} proto_eps SEC(".maps");
#define XVPC_LPM_HOST`],
];

/** A cut: xdp_transit leaves with XDP_TX just before `text` (transit.h). */
const cut = (text) => ['transit.h', text, `\tif (!from_agent) return XDP_TX; /* bisect: stage cut */\n${text}`];
const STAGES = {
  'cut-entry': cut('\tact = transit_outer(ctx, hc, &p);\n'),
  'cut-outer': cut('\tact = transit_geneve(&p);\n'),
  'cut-geneve': cut('\tif (eth_proto(p.ieth) == bpf_htons(ETH_P_ARP))\n'),
  'cut-inner': cut('\tep = endpoint_of(p->g.vni, iip->daddr);\n'),
  'cut-lookup': ['transit.h', '\tif (ep)\n\t\treturn transit_switch(', '\tif (ep && !from_agent) return XDP_TX; /* bisect: stage cut */\n\tif (ep)\n\t\treturn transit_switch('],
  'cut-checks': cut('\touter_forward(p->eth, p->ip, hc, ep->host_ip, ep->host_mac);\n'),
  'cut-rewrite': cut('\tstat_inc(XVPC_STAT_SWITCH_FWD);\n'),
};

const work = mkdtempSync(`${tmpdir()}/switch-bisect-`);
const arch = execFileSync('uname', ['-m']).toString().trim();
function build(name, parts) {
  const dir = `${work}/${name}`;
  cpSync(`${repoRoot}native/bpf`, dir, { recursive: true });
  for (const part of parts) {
    for (const [file, from, to] of part === 'endpoint-array' ? PROTO_ARRAY : EDITS[part] ?? [STAGES[part]]) {
      const s = readFileSync(`${dir}/${file}`, 'utf8');
      if (!s.includes(from)) throw new Error(`bisect ${part}: ${file} no longer holds ${JSON.stringify(from.slice(0, 60))}`);
      writeFileSync(`${dir}/${file}`, s.replace(from, to));
    }
  }
  execFileSync('clang', ['-target', 'bpf', '-mcpu=v3', '-O2', '-g', '-Wall', '-Werror', '-I.', `-I/usr/include/${arch}-linux-gnu`,
    ...(parts.includes('hook') ? ['-DXVPC_NO_XDPCAP'] : []), '-c', 'xvpc.bpf.c', '-o', `${work}/${name}.o`], { cwd: dir });
  return `${name}=${work}/${name}.o`;
}
try {
  const parts = Object.keys(EDITS);
  const objs = values.prototype
    ? [`as-built=${repoRoot}obj/bpf/xvpc.o`, build('endpoint-array', ['endpoint-array']), build('no-endpoint-hash', ['endpoint-hash']),
      build('array-nohook', ['endpoint-array', 'hook']), build('none', parts)]
    : values.stages
    ? [build('entry-bare', ['cut-entry', 'hook', 'counters']), build('entry-nohook', ['cut-entry', 'hook']),
      ...Object.keys(STAGES).map((c) => build(c, [c])), `as-built=${repoRoot}obj/bpf/xvpc.o`]
    : [`as-built=${repoRoot}obj/bpf/xvpc.o`, ...parts.map((p) => build(`no-${p}`, [p])), build('none', parts)];
  console.log(values.prototype
    ? 'prototype: endpoint-array looks endpoints up in an open-addressed ARRAY table; no-endpoint-hash answers from a one-entry array (the floor); none: every part of the bisect left out'
    : values.stages
    ? 'stages: each build stops after one more step of the path (cumulative); entry-bare: no hook, no counters; entry-nohook: no hook'
    : `variants: each leaves out one part; "none" leaves out all of ${parts.join(', ')}`);
  execFileSync(process.execPath, [`${repoRoot}tools/switch-cost-ab.mjs`, '--rounds', values.rounds, '--repeat', values.repeat, '--copies', values.copies,
    ...(values.stages ? ['--verdict-only'] : []), ...objs], { stdio: 'inherit' });
} finally {
  rmSync(work, { recursive: true, force: true });
}
