// Memory per netns droplet: a transitd process each (the default) against one
// shared transitd host process (createDroplets transitd: 'shared'), side by
// side in one run, alternating, each under its own prefix with the emulation
// map sizes (EMULATION_CAPACITY). Per option and round: the growth of this
// process's memory cgroup plus the uncharged kernel growth (scale-memory.ts)
// while N droplets are created, and the transitd processes' RSS, anonymous
// memory and PSS summed over distinct pids (idle, no endpoints).
//
//   node dist-bench/transitd-memory.js [--droplets 10] [--rounds 2] [--out FILE]
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { cleanupAll, createDroplets, type Droplet } from '../dist/droplet/index.js';
import { cgroupMemory, kernelBytes, meminfo, sig } from './measure.js';
import { EMULATION_CAPACITY, settle } from './scale.js';
import { memoryGrowth, type MemorySnapshot } from './scale-memory.js';

const MB = 2 ** 20;

async function snapshot(): Promise<MemorySnapshot> {
  const [cg, mi] = await Promise.all([cgroupMemory(), meminfo()]);
  return { usageBytes: cg?.usageBytes ?? NaN, kernelBytes: cg?.kernelBytes ?? NaN, systemKernelBytes: kernelBytes(mi), memAvailableBytes: mi.MemAvailable };
}

/** kB fields of /proc/PID/status and smaps_rollup, in bytes. */
async function procMemory(pid: number): Promise<{ rss: number; anon: number; pss: number }> {
  const field = (text: string, name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rss: field(status, 'VmRSS'), anon: field(status, 'RssAnon'), pss: field(rollup, 'Pss') };
}

interface Row {
  option: string; round: number; droplets: number; processes: number; createSeconds: number;
  perDropletMB: number; perDropletCgroupMB: number; perDropletKernelMB: number;
  rssMB: number; anonMB: number; pssMB: number; anonPerDropletMB: number;
}

async function measure(option: string, transitd: true | 'shared', prefix: string, n: number, round: number): Promise<Row> {
  const names = Array.from({ length: n }, (_, i) => `m${i + 1}`);
  await settle();
  const before = await snapshot();
  const t0 = performance.now();
  let droplets: Record<string, Droplet> | undefined;
  try {
    droplets = await createDroplets(names, { prefix, transitd });
    const createSeconds = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 3000)); // let start-up garbage be collected
    const after = await snapshot();
    const g = memoryGrowth(before, after);
    const pids = [...new Set(Object.values(droplets).map((d) => d.transitdPid!))];
    const mem = await Promise.all(pids.map(procMemory));
    const sum = (k: 'rss' | 'anon' | 'pss') => mem.reduce((a, m) => a + m[k], 0);
    return {
      option, round, droplets: n, processes: pids.length, createSeconds: sig(createSeconds),
      perDropletMB: sig(g.bytes / n / MB), perDropletCgroupMB: sig(g.cgroupBytes / n / MB), perDropletKernelMB: sig((g.cgroupKernelBytes + g.unchargedKernelBytes) / n / MB),
      rssMB: sig(sum('rss') / MB), anonMB: sig(sum('anon') / MB), pssMB: sig(sum('pss') / MB), anonPerDropletMB: sig(sum('anon') / n / MB),
    };
  } finally {
    await cleanupAll(prefix);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { droplets: { type: 'string', default: '10' }, rounds: { type: 'string', default: '2' }, out: { type: 'string' } } });
  const n = Number(values.droplets);
  const rounds = Number(values.rounds);
  process.env.XVPC_TRANSITD_CAPACITY = EMULATION_CAPACITY;
  const tag = Math.random().toString(36).slice(2, 5);
  const rows: Row[] = [];
  const stop = () => void Promise.all([cleanupAll(`tmo${tag}`), cleanupAll(`tms${tag}`)]).finally(() => process.exit(1));
  process.on('SIGINT', stop);
  for (let r = 1; r <= rounds; r++) {
    for (const [option, transitd, prefix] of [['a process each', true, `tmo${tag}`], ['shared host', 'shared', `tms${tag}`]] as const) {
      const row = await measure(option, transitd, prefix, n, r);
      rows.push(row);
      console.log(JSON.stringify(row));
    }
  }
  if (values.out) await writeFile(values.out, `${JSON.stringify({ droplets: n, capacity: EMULATION_CAPACITY, rows }, null, 2)}\n`);
}

await main();
