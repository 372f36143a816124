// Small measuring helpers: percentiles, process RSS, system memory, clocks.
import { readFile } from 'node:fs/promises';

/** The p-th percentile (0..100) of values, nearest-rank on a sorted copy. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = (values: number[]): number => percentile(values, 50);

export const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Milliseconds since `start` (from nowNs()). */
export const nowNs = (): bigint => process.hrtime.bigint();
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

/** Resident set size of a process in bytes (VmRSS), or NaN if it is gone. */
export async function rssBytes(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU seconds a process used, its waited-for children (the commands it ran) included; NaN if it is gone. */
export async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (!stat) return NaN;
  // fields after "(comm)": state is field 3; utime, stime, cutime, cstime are fields 14-17
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = [11, 12, 13, 14].reduce((a, i) => a + Number(f[i]), 0);
  return ticks / 100; // USER_HZ
}

/** /proc/meminfo in bytes, by field. */
export async function meminfo(): Promise<Record<string, number>> {
  const text = await readFile('/proc/meminfo', 'utf8');
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?: kB)?/.exec(line);
    if (m) out[m[1]] = Number(m[2]) * (line.endsWith('kB') ? 1024 : 1);
  }
  return out;
}

/** Kernel-side memory that grows with namespaces, links and maps (bytes). */
export const kernelBytes = (m: Record<string, number>): number =>
  (m.Slab ?? 0) + (m.Percpu ?? 0) + (m.KernelStack ?? 0) + (m.PageTables ?? 0) + (m.VmallocUsed ?? 0);

/**
 * Memory charged to this process's memory cgroup (its children, transitds
 * included, charge it too, and so do the kernel objects they create): usage
 * and its kernel part, in bytes. Attributable to this run even when others
 * share the machine; undefined when there is no such cgroup (the root).
 */
export async function cgroupMemory(): Promise<{ source: string; usageBytes: number; kernelBytes: number } | undefined> {
  const lines = (await readFile('/proc/self/cgroup', 'utf8').catch(() => '')).split('\n');
  const num = async (path: string) => Number((await readFile(path, 'utf8').catch(() => '')).trim() || NaN);
  const v1 = lines.map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('memory'));
  if (v1 && v1[2] && v1[2] !== '/') {
    const dir = `/sys/fs/cgroup/memory${v1[2]}`;
    const usage = await num(`${dir}/memory.usage_in_bytes`);
    if (Number.isFinite(usage)) return { source: `cgroup v1 ${dir}`, usageBytes: usage, kernelBytes: await num(`${dir}/memory.kmem.usage_in_bytes`) };
  }
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3);
  if (v2 && v2 !== '/') {
    for (const root of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
      const usage = await num(`${root}${v2}/memory.current`);
      if (!Number.isFinite(usage)) continue;
      const stat = await readFile(`${root}${v2}/memory.stat`, 'utf8').catch(() => '');
      const kernel = Number(/^kernel (\d+)/m.exec(stat)?.[1] ?? NaN);
      return { source: `cgroup v2 ${root}${v2}`, usageBytes: usage, kernelBytes: kernel };
    }
  }
  return undefined;
}

/** Busy share of all CPUs between two /proc/stat samples, split by kind. */
export interface CpuSample { user: number; system: number; softirq: number; idle: number; total: number }

export async function cpuSample(): Promise<CpuSample> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq] = f;
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { user: user + nice, system: system + irq, softirq, idle: idle + iowait, total };
}

export function cpuShare(a: CpuSample, b: CpuSample): { user: number; system: number; softirq: number; idle: number } {
  const t = b.total - a.total || 1;
  const r = (x: number) => Math.round((x / t) * 1000) / 1000;
  return { user: r(b.user - a.user), system: r(b.system - a.system), softirq: r(b.softirq - a.softirq), idle: r(b.idle - a.idle) };
}

/** Rounds to `digits` significant digits for display and JSON. */
export function sig(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(digits));
}
