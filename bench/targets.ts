// The bench's targets: each measured value against its goal, with by how much
// it is met or missed. Targets live here and in the report only; no test
// ever asserts a timing.
//
// A target is judged only on the measurement it names. It is "met" or
// "missed" when that measurement is there and possible; otherwise it says why
// not, and is never counted as met:
//   not measured  the measurement failed or did not run (notMeasured: the reason)
//   invalid       the value cannot be (every goal here is on a positive quantity:
//                 a ratio, a time, a rate, bytes), e.g. negative memory
//   estimate      the value is extrapolated, not measured as the goal states
//   not judged    measured, but too noisy to tell which side of the goal it is on
//                 (notJudged: the spread that says so)

export type TargetStatus = 'met' | 'missed' | 'not measured' | 'invalid' | 'estimate' | 'not judged';

export interface TargetCheck {
  id: string;
  /** what is compared, in words */
  what: string;
  /** the goal as written: "≥ 1.0× kernel VXLAN" */
  goal: string;
  /** absent when not measured */
  measured?: number;
  unit: string;
  threshold: number;
  direction: '>=' | '<=';
  status: TargetStatus;
  /** status === 'met' */
  met: boolean;
  /** measured / threshold (for ≥) or threshold / measured (for ≤): ≥ 1 means on the right side; absent when not measured or invalid */
  score?: number;
  /** "met with 12% to spare" / "missed by 88%" / "not measured: ..." */
  margin: string;
  /** why it is missed (or caveats), with the evidence */
  why?: string;
  /** true when the value is extrapolated or otherwise not measured as the goal states */
  estimated?: boolean;
}

export interface CheckExtra {
  why?: string;
  /** the value is extrapolated: reported as an estimate, never met */
  estimated?: boolean;
  /** the measurement this target names failed: why */
  notMeasured?: string;
  /** the measurement is too noisy to judge: the spread that says so */
  notJudged?: string;
}

export function check(id: string, what: string, goal: string, measured: number | undefined, unit: string, threshold: number,
  direction: '>=' | '<=', extra: CheckExtra = {}): TargetCheck {
  if (!(threshold > 0) || !Number.isFinite(threshold)) throw new Error(`target ${id}: threshold ${threshold} is not a positive number`);
  const { notMeasured, notJudged, ...rest } = extra;
  const base = { id, what, goal, unit, threshold, direction, ...rest };
  if (notMeasured !== undefined || measured === undefined || Number.isNaN(measured)) {
    return { ...base, status: 'not measured', met: false, margin: `not measured: ${notMeasured ?? 'no value'}` };
  }
  if (!Number.isFinite(measured) || measured <= 0) {
    return { ...base, measured, status: 'invalid', met: false, margin: `invalid: ${measured} ${unit} cannot be (must be a finite value above 0)` };
  }
  const onSide = direction === '>=' ? measured >= threshold : measured <= threshold;
  const score = direction === '>=' ? measured / threshold : threshold / measured;
  const side = onSide ? `${Math.round((score - 1) * 100)}% to spare`
    : direction === '>=' ? `short by ${Math.round((1 - score) * 100)}% (${score.toFixed(2)} of the goal)` : `${(measured / threshold).toFixed(2)}× the limit`;
  const common = { ...base, measured, met: false, score: Number(score.toFixed(3)) };
  if (extra.estimated) return { ...common, status: 'estimate', margin: `estimate only, never counted as met (${onSide ? 'would be within the goal' : 'would miss'}: ${side})` };
  if (notJudged !== undefined) return { ...common, status: 'not judged', margin: `not judged: ${notJudged}` };
  if (onSide) return { ...common, status: 'met', met: true, margin: `met with ${side}` };
  return { ...common, status: 'missed', margin: direction === '>=' ? `missed: ${side}` : `missed: ${side}` };
}

/** Targets whose measurement failed or is impossible: these make `npm run bench` exit non-zero (unless --keep-going). */
export function unmeasured(targets: TargetCheck[]): TargetCheck[] {
  return targets.filter((t) => t.status === 'not measured' || t.status === 'invalid');
}

/** The table's "met?" cell of a target. */
export function metCell(t: TargetCheck): string {
  return t.status === 'met' ? 'yes' : t.status === 'missed' ? 'no' : t.status;
}
