#!/usr/bin/env node
// Where the switch path's ns go: builds variants of xvpc.o that each leave
// one part of the path out (in a scratch copy of native/bpf; the data plane's
// source is not touched) and times them side by side with the build as it is
// (tools/switch-cost-ab.mjs). Measuring instruments only: a variant without
// its endpoint lookup answers the bench's one remote endpoint from a
// one-entry array, and is wrong for anything else.
//
//   node tools/switch-cost-bisect.mjs [--rounds 31] [--repeat 300000]
//
// Run as root after `npm run build`.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { repoRoot } from '../dist/dataplane/addon.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '31' }, repeat: { type: 'string', default: '300000' } } });

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

const work = mkdtempSync(`${tmpdir()}/switch-bisect-`);
const arch = execFileSync('uname', ['-m']).toString().trim();
function build(name, parts) {
  const dir = `${work}/${name}`;
  cpSync(`${repoRoot}native/bpf`, dir, { recursive: true });
  for (const part of parts) {
    for (const [file, from, to] of EDITS[part]) {
      const s = readFileSync(`${dir}/${file}`, 'utf8');
      if (!s.includes(from)) throw new Error(`bisect ${part}: ${file} no longer holds ${JSON.stringify(from.slice(0, 60))}`);
      writeFileSync(`${dir}/${file}`, s.replace(from, to));
    }
  }
  execFileSync('clang', ['-target', 'bpf', '-O2', '-g', '-Wall', '-Werror', '-I.', `-I/usr/include/${arch}-linux-gnu`,
    ...(parts.includes('hook') ? ['-DXVPC_NO_XDPCAP'] : []), '-c', 'xvpc.bpf.c', '-o', `${work}/${name}.o`], { cwd: dir });
  return `${name}=${work}/${name}.o`;
}
try {
  const parts = Object.keys(EDITS);
  const objs = [`as-built=${repoRoot}obj/bpf/xvpc.o`, ...parts.map((p) => build(`no-${p}`, [p])), build('none', parts)];
  console.log(`variants: each leaves out one part; "none" leaves out all of ${parts.join(', ')}`);
  execFileSync(process.execPath, [`${repoRoot}tools/switch-cost-ab.mjs`, '--rounds', values.rounds, '--repeat', values.repeat, ...objs], { stdio: 'inherit' });
} finally {
  rmSync(work, { recursive: true, force: true });
}
