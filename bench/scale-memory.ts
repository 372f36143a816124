// What the scale bench counts as memory between two readings. This run's
// memory cgroup is charged for the bench, its transitds, their commands and
// the kernel objects they make, but not for all of them: measured here, 2,000
// endpoint namespaces grew the kernel's slab by ~590 MB while the cgroup's
// kernel part grew ~290 MB (uncharged kmalloc-*, kernfs_node_cache,
// proc_dir_entry: sysfs and proc entries of each namespace and veth). So the
// headline is the cgroup's growth plus the kernel memory that grew system-wide
// beyond what the cgroup was charged (other work on the machine counts there
// too, so it leans high, never low). Without a cgroup: MemAvailable's drop.
export interface MemorySnapshot {
  /** the cgroup's usage and its kernel part (NaN without a cgroup) */
  usageBytes: number;
  kernelBytes: number;
  /** /proc/meminfo: Slab + Percpu + KernelStack + PageTables + VmallocUsed, system-wide */
  systemKernelBytes: number;
  memAvailableBytes: number;
}

export interface MemoryGrowth {
  /** the headline: cgroup + uncharged kernel, or MemAvailable's drop without a cgroup */
  bytes: number;
  cgroupBytes: number;
  cgroupKernelBytes: number;
  /** kernel growth system-wide beyond the cgroup's kernel growth (0 when less) */
  unchargedKernelBytes: number;
  memAvailableDropBytes: number;
}

export function memoryGrowth(a: MemorySnapshot, b: MemorySnapshot): MemoryGrowth {
  const cgroupBytes = b.usageBytes - a.usageBytes;
  const cgroupKernelBytes = b.kernelBytes - a.kernelBytes;
  const memAvailableDropBytes = a.memAvailableBytes - b.memAvailableBytes;
  if (!Number.isFinite(cgroupBytes) || !Number.isFinite(cgroupKernelBytes)) {
    return { bytes: memAvailableDropBytes, cgroupBytes: NaN, cgroupKernelBytes: NaN, unchargedKernelBytes: NaN, memAvailableDropBytes };
  }
  const unchargedKernelBytes = Math.max(0, (b.systemKernelBytes - a.systemKernelBytes) - cgroupKernelBytes);
  return { bytes: cgroupBytes + unchargedKernelBytes, cgroupBytes, cgroupKernelBytes, unchargedKernelBytes, memAvailableDropBytes };
}

export function addGrowth(x: MemoryGrowth, y: MemoryGrowth): MemoryGrowth {
  return {
    bytes: x.bytes + y.bytes, cgroupBytes: x.cgroupBytes + y.cgroupBytes, cgroupKernelBytes: x.cgroupKernelBytes + y.cgroupKernelBytes,
    unchargedKernelBytes: x.unchargedKernelBytes + y.unchargedKernelBytes, memAvailableDropBytes: x.memAvailableDropBytes + y.memAvailableDropBytes,
  };
}
