// The throughput scenarios' keys and labels: pure data, shared by the
// scenarios (which build them) and the report (which reads their results).
export type ScenarioKey = 'a' | 'a-off' | 'b' | 'at' | 'at-off' | 'bt' | 'c' | 'd';
/** The xvpc scenarios: [switch on a third host, the same with direct path off, switch on the client host] per data path. */
export const XVPC_KEYS = { native: ['a', 'a-off', 'b'], tc: ['at', 'at-off', 'bt'] } as const;
export type XvpcKey = 'a' | 'a-off' | 'b' | 'at' | 'at-off' | 'bt';
export const isXvpc = (k: ScenarioKey): k is XvpcKey => k !== 'c' && k !== 'd';
/** Every scenario, in the table's order. */
export const SCENARIO_ORDER: readonly ScenarioKey[] = ['a', 'a-off', 'b', 'at', 'at-off', 'bt', 'c', 'd'];
/** A scenario with direct path on -> the same with it off (same droplets, switch and run). */
export const DIRECT_OFF_OF: Partial<Record<ScenarioKey, ScenarioKey>> = { a: 'a-off', at: 'at-off' };

export const SCENARIO_LABELS: Record<ScenarioKey, string> = {
  a: 'xvpc XDP, switch on a 3rd host, direct path on',
  'a-off': 'xvpc XDP, switch on a 3rd host, direct path off',
  b: 'xvpc XDP, switch on client host',
  at: 'xvpc TC, switch on a 3rd host, direct path on',
  'at-off': 'xvpc TC, switch on a 3rd host, direct path off',
  bt: 'xvpc TC, switch on client host',
  c: 'direct (veth+bridge)',
  d: 'kernel VXLAN',
};
