// What one bench run produces: the raw results of each section, the metric
// rows of the table (every number with its unit), every comparison as a
// ratio, and the targets. results.json holds all of it.
import type { AgentModeResult } from './agent-mode.js';
import type { CtlPlaneResult } from './ctlplane.js';
import type { PktCostResult } from './pktcost.js';
import type { ProfileResult } from './profile.js';
import type { ProvisioningResult } from './provisioning.js';
import type { SgThroughputResult } from './sg.js';
import type { ScaleResult } from './scale.js';
import type { TargetCheck } from './targets.js';
import type { ThroughputResult } from './throughput.js';

export interface Meta {
  date: string;
  quick: boolean;
  host: { name: string; kernel: string; cpus: number; cpuModel: string; memTotalBytes: number; node: string; iperf3: string };
  git?: string;
  /** os.loadavg() when the run started and ended: how busy the machine was with other work too */
  loadAverage: { start: number[]; end?: number[] };
  settings: Record<string, number | string>;
  sections: string[];
  durationSeconds?: number;
  notes: string[];
}

export interface Sections {
  throughput?: ThroughputResult;
  pktcost?: PktCostResult;
  ctlplane?: CtlPlaneResult;
  provisioning?: ProvisioningResult;
  /** emulation at scale: scenarios through runScenario */
  scale?: ScaleResult;
  agentMode?: AgentModeResult;
  /** security groups: throughput with a 100-rule group vs none (pktcost holds their per-packet cost) */
  sg?: SgThroughputResult;
  profile?: ProfileResult;
  /** (at) and (at-off) TCP 1 stream, each profiled the same way: where the TC path spends with direct path on and off */
  profileTc?: { on: ProfileResult; off: ProfileResult };
}

/** One line of the table: a number, its unit, and its comparisons. */
export interface Row {
  section: string;
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  /** value / the same metric of (c) direct; for latencies > 1 means slower */
  vsDirect?: number;
  /** value / the same metric of (d) kernel VXLAN */
  vsVxlan?: number;
  /** the goal this row is held to, and whether it is met ("yes", "no", "n/a") */
  target?: string;
  met?: string;
}

export interface BenchResults {
  meta: Meta;
  sections: Sections;
  /** sections that failed, with the error */
  errors: Record<string, string>;
  rows: Row[];
  /** every comparison as a plain ratio, e.g. tcp1_xvpc_switch_remote_vs_vxlan: 0.12 */
  ratios: Record<string, number>;
  targets: TargetCheck[];
}
