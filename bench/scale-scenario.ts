// The scenario file the scale bench runs for a shape (hosts x endpoints per
// host): one VPC, one /18 network, a pingall sample. Pure: unit-tested.

export interface ScaleShape {
  /** droplets with endpoints */
  hosts: number;
  perHost: number;
  /** one more droplet that only switches (the one-host run), else the first two hosts switch */
  switchHost: boolean;
  /** shared: every droplet's transitd in one process (scenario hosts.transitd); default a process each */
  transitd?: 'shared';
  /** shared: every droplet's endpoints in one namespace (scenario hosts.endpointNamespace); default a namespace each */
  endpointNamespace?: 'shared';
}

/** Pairs the pingall check samples (a sample, not all n^2). */
const PING_PAIRS = 20;

/** The scenario text for a shape (YAML is a superset of JSON). */
export function scenarioText(label: string, s: ScaleShape): string {
  const hosts = Array.from({ length: s.hosts }, (_, i) => `h${i + 1}`);
  const switches = s.switchHost ? ['sw'] : hosts.slice(0, Math.min(2, hosts.length));
  const n = s.hosts * s.perHost;
  const sample = Math.min(1, PING_PAIRS / Math.max(1, n * (n - 1)));
  return JSON.stringify({
    name: `bench-${label}`,
    hosts: {
      names: s.switchHost ? [...hosts, 'sw'] : hosts, ...(s.transitd ? { transitd: s.transitd } : {}),
      ...(s.endpointNamespace ? { endpointNamespace: s.endpointNamespace } : {}),
    },
    vpcs: [{ vni: 9, cidr: '10.9.0.0/16', networks: [{ netId: 1, cidr: '10.9.0.0/18', switches }] }],
    endpoints: [{ vni: 9, netId: 1, hosts, perHost: s.perHost }],
    checks: { pingall: { sample, seed: 1 } },
  });
}

