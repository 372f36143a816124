// Quick CPU profiles with perf, reduced to what explains a result.
//   - whole machine (perf record -a -g) while traffic runs: kernel symbols by
//     self time, and the inclusive share of the functions that make up the
//     overlay's packet path;
//   - one process (perf record -p PID -g), e.g. transitd started with
//     NODE_OPTIONS=--perf-basic-prof so that its JavaScript functions have
//     names: every symbol by self time.
import { existsSync, rmSync } from 'node:fs';
import { run } from '../dist/util/exec.js';
import { sleep } from './ns.js';

export interface ProfileResult {
  workload: string;
  seconds: number;
  samples: number;
  /** symbols by self time, % of the samples ([k] kernel, [.] user). Whole-machine profiles keep kernel symbols only: on a shared machine, user space is others' too */
  topSelf: { symbol: string; percent: number }[];
  /** % of the samples spent in (and below) the functions that explain the packet path */
  inclusive: Record<string, number>;
  error?: string;
}

/** Kernel functions whose inclusive share tells where an XDP-on-veth overlay spends its time. */
const KEY_FUNCTIONS = [
  'veth_xdp_rcv_skb', 'skb_pp_cow_data', 'veth_xdp_rcv', 'xdp_do_redirect', 'veth_xdp_xmit', 'do_xdp_generic',
  'br_handle_frame', 'tcp_sendmsg', 'tcp_recvmsg', 'udp_sendmsg', 'csum_partial', '__dev_queue_xmit', 'netif_receive_skb_list_internal',
  '__napi_poll', 'skb_segment', 'pv_native_safe_halt', '__sys_bpf', 'map_update_elem', 'map_lookup_elem',
];

const PERCENT_LINE = /^\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?\[([k.])\]\s+(.+?)\s*$/;

interface Line { symbol: string; kernel: boolean; first: number }

function parse(out: string): Line[] {
  return out.split('\n').flatMap((line) => {
    const m = PERCENT_LINE.exec(line);
    return m ? [{ symbol: m[4], kernel: m[3] === 'k', first: Number(m[1]) }] : [];
  });
}

/** bpf_prog_<tag>_xdp_agent -> bpf:xdp_agent; node's "JS:*fn file:///.../x.js:1:2" -> "fn (x.js)" */
function tidy(sym: string): string {
  const js = /^(?:JS|LazyCompile|Function|InterpretedFunction|Builtin):[*~^]?(\S*) (?:file:\/\/)?(\S*?)(?::\d+)*$/.exec(sym);
  if (js) return `${js[1] || '(anonymous)'} (${js[2].split('/').pop() || '?'})`;
  return sym.replace(/^bpf_prog_[0-9a-f]+_/, 'bpf:');
}

export interface ProfileOptions {
  label: string;
  seconds: number;
  /** start recording this long after the workload starts (steady state) */
  delayMs: number;
  dataPath: string;
  /** profile only this process; default: the whole machine */
  pid?: number;
  /** how many symbols to keep */
  top?: number;
}

/** Records while `workload` runs (it must outlast delayMs + seconds) and summarises. */
export async function profileDuring(o: ProfileOptions, workload: () => Promise<unknown>): Promise<ProfileResult & { all: Line[] }> {
  const base = { workload: o.label, seconds: o.seconds, samples: 0, topSelf: [], inclusive: {}, all: [] as Line[] };
  if ((await run(['sh', '-c', 'command -v perf']).catch(() => ({ code: 1 }))).code !== 0) {
    await workload();
    return { ...base, error: 'perf is not installed' };
  }
  const target = o.pid !== undefined ? ['-p', String(o.pid)] : ['-a'];
  const recording = (async () => {
    await sleep(o.delayMs);
    return run(['perf', 'record', '-q', ...target, '-g', '-o', o.dataPath, '--', 'sleep', String(o.seconds)], { timeoutMs: (o.seconds + 30) * 1000 });
  })();
  try {
    const [rec] = await Promise.all([recording, workload()]);
    if (rec.code !== 0 || !existsSync(o.dataPath)) return { ...base, error: `perf record: ${rec.stderr.trim().split('\n').pop()}` };
    const report = (children: boolean) => run(['perf', 'report', '-i', o.dataPath, '--stdio', children ? '--children' : '--no-children',
      '--sort', 'sym', '-g', 'none'], { timeoutMs: 120_000 });
    const self = await report(false);
    const kids = await report(true);
    const count = /^# Samples: ([\d.]+)([KM]?)/m.exec(self.stdout);
    const samples = count ? Math.round(Number(count[1]) * (count[2] === 'K' ? 1e3 : count[2] === 'M' ? 1e6 : 1)) : 0;
    const all = parse(self.stdout).filter((l) => o.pid !== undefined || l.kernel);
    const topSelf = all.slice(0, o.top ?? 15).map((l) => ({ symbol: `${l.kernel ? '[k] ' : ''}${tidy(l.symbol)}`, percent: l.first }));
    const inclusive: Record<string, number> = {};
    for (const l of parse(kids.stdout)) {
      if (l.kernel && (KEY_FUNCTIONS.includes(l.symbol) || l.symbol.startsWith('bpf_prog_'))) {
        const name = tidy(l.symbol);
        inclusive[name] = Math.max(inclusive[name] ?? 0, l.first);
      }
    }
    return { ...base, samples, topSelf, inclusive, all };
  } finally {
    rmSync(o.dataPath, { force: true });
    rmSync(`${o.dataPath}.old`, { force: true });
  }
}
