// The throughput scenarios' keys and labels: pure data, shared by the
// scenarios (which build them) and the report (which reads their results).
export type ScenarioKey = 'a' | 'b' | 'at' | 'bt' | 'c' | 'd';
/** The xvpc scenarios: [switch on a third host, switch on the client host] per data path. */
export const XVPC_KEYS = { native: ['a', 'b'], tc: ['at', 'bt'] } as const;
export type XvpcKey = 'a' | 'b' | 'at' | 'bt';
export const isXvpc = (k: ScenarioKey): k is XvpcKey => k !== 'c' && k !== 'd';

export const SCENARIO_LABELS: Record<ScenarioKey, string> = {
  a: 'xvpc XDP, switch on a 3rd host',
  b: 'xvpc XDP, switch on client host',
  at: 'xvpc TC, switch on a 3rd host',
  bt: 'xvpc TC, switch on client host',
  c: 'direct (veth+bridge)',
  d: 'kernel VXLAN',
};
