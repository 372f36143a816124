// The bench's targets: each measured value against its goal, with by how much
// it is met or missed. Targets live here and in the report only; no test
// ever asserts a timing.

export interface TargetCheck {
  id: string;
  /** what is compared, in words */
  what: string;
  /** the goal as written: "≥ 1.0× kernel VXLAN" */
  goal: string;
  measured: number;
  unit: string;
  threshold: number;
  direction: '>=' | '<=';
  met: boolean;
  /** measured / threshold (for ≥) or threshold / measured (for ≤): ≥ 1 means met */
  score: number;
  /** "met with 12% to spare" / "missed by 88%" / "7.0× over" */
  margin: string;
  /** why it is missed (or caveats), with the evidence */
  why?: string;
  /** true when the value is extrapolated or otherwise not measured as the goal states */
  estimated?: boolean;
}

export function check(id: string, what: string, goal: string, measured: number, unit: string, threshold: number,
  direction: '>=' | '<=', extra: { why?: string; estimated?: boolean } = {}): TargetCheck {
  const met = direction === '>=' ? measured >= threshold : measured <= threshold;
  const score = direction === '>=' ? measured / threshold : threshold / measured;
  let margin: string;
  if (!Number.isFinite(score)) margin = 'not measured';
  else if (met) margin = `met with ${Math.round((score - 1) * 100)}% to spare`;
  else if (direction === '>=') margin = `missed by ${Math.round((1 - score) * 100)}% (${score.toFixed(2)} of the goal)`;
  else margin = `missed: ${(measured / threshold).toFixed(2)}× the limit`;
  return { id, what, goal, measured, unit, threshold, direction, met, score: Number(score.toFixed(3)), margin, ...extra };
}
