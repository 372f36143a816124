// What a scenario file holds once parsed (Scenario), and the plan `up` makes of
// it (Plan): hosts and endpoints expanded, every endpoint with an address.
export interface Shaping { delay?: string; jitter?: string; loss?: string; rate?: string }

export interface Rule { protocol: 'tcp' | 'udp' | 'icmp' | 'any'; cidr?: string; ports?: string }

export interface Scenario {
  name?: string;
  description?: string;
  hosts: { names?: string[]; count?: number; namePrefix?: string; backend?: 'netns' | 'docker'; mode?: 'tc' | 'native' | 'generic'; transitd?: 'own' | 'shared'; endpointNamespace?: 'own' | 'shared' };
  links?: {
    uplink?: Shaping;
    hosts?: Record<string, Shaping>;
    pairs?: (Shaping & { between: [string, string] })[];
  };
  vpcs: { vni: number; cidr: string; routers?: string[]; networks: { netId: number; cidr: string; switches: string[] }[] }[];
  securityGroups?: { vni: number; name: string; ingress?: Rule[]; egress?: Rule[] }[];
  endpoints?: {
    vni: number; netId: number;
    name?: string; host?: string; ip?: string;
    hosts?: 'all' | string[]; perHost?: number;
    securityGroups?: string[];
  }[];
  checks?: Checks;
}

export interface Checks {
  pingall?: { sample?: number; count?: number; seed?: number };
  iperf?: { client: string; server: string; seconds?: number; udp?: boolean; minMbps?: number; maxMbps?: number }[];
  coordinated?: { clients: string[]; servers: string[]; seconds?: number }[];
  rtt?: { from: string; to: string; count?: number; minMs?: number; maxMs?: number; minLossPct?: number; maxLossPct?: number }[];
  unreachable?: { from: string; to: string }[];
}

export interface PlannedEndpoint { name: string; vni: number; netId: number; host: string; ip: string; securityGroups?: string[] }

/** Shaping of one host's uplink: the common part, plus per-destination classes for pairs. */
export interface HostShaping { host: string; uplink?: Shaping; pairs: { peer: string; shaping: Shaping }[] }

export interface Plan {
  name: string;
  hosts: string[];
  backend: 'netns' | 'docker';
  mode?: 'tc' | 'native' | 'generic';
  /** shared: one transitd process for every host (createDroplets transitd: 'shared'; netns only) */
  transitd?: 'shared';
  /** shared: all endpoints of a host in one namespace (createDroplets endpointNamespace: 'shared'; netns only) */
  endpointNamespace?: 'shared';
  shaping: HostShaping[];
  vpcs: { vni: number; cidr: string; routers: string[] }[];
  networks: { vni: number; netId: number; cidr: string; switches: string[] }[];
  securityGroups: { vni: number; name: string; ingress: Rule[]; egress: Rule[] }[];
  endpoints: PlannedEndpoint[];
  checks: Checks;
}
