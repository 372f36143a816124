// Scenario files without root: YAML + schema errors name the line and the
// field; the plan expands hosts and endpoints and allocates addresses.
import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/parse.js';
import { makePlan } from '../../src/scenario/plan.js';

const BASE = `name: t
hosts:
  names: [left, right, sw]
vpcs:
  - vni: 3
    cidr: 10.0.0.0/16
    networks:
      - netId: 1
        cidr: 10.0.1.0/24
        switches: [sw]
`;

const plan = (text: string) => {
  const { scenario, source } = parseScenarioText(text, 'f.yaml');
  return makePlan(scenario, source);
};
const errorOf = (text: string): string => {
  try {
    plan(text);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
};

describe('scenario files', () => {
  it('plans listed and counted endpoints with addresses that skip the gateway and listed ones', () => {
    const p = plan(`${BASE}endpoints:
  - { name: a, vni: 3, netId: 1, host: left, ip: 10.0.1.3 }
  - { name: b, vni: 3, netId: 1, host: right }
  - { vni: 3, netId: 1, hosts: [left, right], perHost: 2 }
`);
    expect(p.hosts).toEqual(['left', 'right', 'sw']);
    expect(p.endpoints.map((e) => `${e.name}@${e.host}=${e.ip}`)).toEqual([
      'a@left=10.0.1.3', 'b@right=10.0.1.2', 'v3n1-left-1@left=10.0.1.4', 'v3n1-left-2@left=10.0.1.5',
      'v3n1-right-1@right=10.0.1.6', 'v3n1-right-2@right=10.0.1.7',
    ]);
  });

  it('expands a host count and shapes uplinks and pairs', () => {
    const p = plan(`hosts: { count: 3, namePrefix: d }
links:
  uplink: { delay: 5ms }
  hosts: { d2: { loss: 10% } }
  pairs: [{ between: [d1, d3], rate: 10mbit }]
vpcs: [{ vni: 1, cidr: 10.0.0.0/16, networks: [{ netId: 1, cidr: 10.0.0.0/16, switches: [d1] }] }]
`);
    expect(p.hosts).toEqual(['d1', 'd2', 'd3']);
    expect(p.shaping).toEqual([
      { host: 'd1', uplink: { delay: '5ms' }, pairs: [{ peer: 'd3', shaping: { rate: '10mbit' } }] },
      { host: 'd2', uplink: { loss: '10%' }, pairs: [] },
      { host: 'd3', uplink: { delay: '5ms' }, pairs: [{ peer: 'd1', shaping: { rate: '10mbit' } }] },
    ]);
  });

  it('hosts.transitd: own (the default) or shared, which is for netns hosts only', () => {
    const vpcs = 'vpcs: [{ vni: 1, cidr: 10.0.0.0/16, networks: [{ netId: 1, cidr: 10.0.0.0/16, switches: [d1] }] }]\n';
    expect(plan(`hosts: { count: 2, namePrefix: d }\n${vpcs}`).transitd).toBeUndefined();
    expect(plan(`hosts: { count: 2, namePrefix: d, transitd: own }\n${vpcs}`).transitd).toBeUndefined();
    expect(plan(`hosts: { count: 2, namePrefix: d, transitd: shared }\n${vpcs}`).transitd).toBe('shared');
    expect(errorOf(`hosts: { count: 2, namePrefix: d, backend: docker, transitd: shared }\n${vpcs}`))
      .toMatch(/^f\.yaml:1: hosts\.transitd: shared is for netns hosts only, not docker/);
    expect(errorOf(`hosts: { count: 2, namePrefix: d, transitd: both }\n${vpcs}`)).toMatch(/^f\.yaml:1: hosts\.transitd/);
  });

  it('refuses a host name no droplet may have (reserved, or another\'s namespace name) at its line, before anything is made', () => {
    const vpcs = 'vpcs: [{ vni: 1, cidr: 10.0.0.0/16, networks: [{ netId: 1, cidr: 10.0.0.0/16, switches: [sw] }] }]\n';
    expect(errorOf(`hosts:\n  names: [ul, sw]\n${vpcs}`)).toBe("f.yaml:2: hosts.names[0]: host name 'ul' is reserved");
    expect(errorOf(`hosts:\n  names: [sw, a-eps]\n${vpcs}`)).toMatch(/^f\.yaml:2: hosts\.names\[1\]: host name 'a-eps' ends in '-eps', reserved/);
    expect(errorOf(`hosts:\n  names: [a, a-e3-1-0-0-2, sw]\n${vpcs}`))
      .toBe("f.yaml:2: hosts.names[1]: host name 'a-e3-1-0-0-2' ends in '-e3-1-0-0-2', reserved: droplet 'a' names an endpoint's namespace so");
    expect(plan(`hosts:\n  names: [e3, a-e3, sw]\n${vpcs}`).hosts).toEqual(['e3', 'a-e3', 'sw']);
  });

  it('names the line and field of a schema error', () => {
    expect(errorOf(`${BASE}endpoints:
  - { name: a, vni: 3, netId: 1, host: left }
  - name: b
    vni: 3
    netId: 1
    host: right
    colour: red
`)).toBe("f.yaml:17: endpoints[1].colour: is not a known field");
    expect(errorOf(BASE.replace('cidr: 10.0.1.0/24', 'cidr: ten'))).toMatch(/^f\.yaml:9: vpcs\[0\]\.networks\[0\]\.cidr: must match pattern/);
    expect(errorOf(BASE.replace('vni: 3', 'vni: 0'))).toBe('f.yaml:5: vpcs[0].vni: must be >= 1');
    expect(errorOf(BASE.replace('hosts:\n  names: [left, right, sw]\n', ''))).toBe("f.yaml:1: (top level): needs field 'hosts'");
    expect(errorOf(`${BASE}endpoints:\n  - { name: a, vni: 3, netId: 1, host: left, perHost: 3 }\n`)).toMatch(/^f\.yaml:12: endpoints\[0\]: give either 'name' and 'host'/);
  });

  it('names the line and field of a reference or address error', () => {
    expect(errorOf(`${BASE}endpoints:\n  - { name: a, vni: 3, netId: 1, host: nowhere }\n`)).toBe("f.yaml:12: endpoints[0].host: no host 'nowhere' (hosts: left, right, sw)");
    expect(errorOf(`${BASE}endpoints:\n  - { name: a, vni: 3, netId: 2, host: left }\n`)).toBe('f.yaml:12: endpoints[0].netId: VPC 3 has no network 2');
    expect(errorOf(`${BASE}endpoints:\n  - { name: a, vni: 3, netId: 1, host: left, ip: 10.0.1.1 }\n`)).toMatch(/^f\.yaml:12: endpoints\[0\]\.ip: 10\.0\.1\.1 is the network, gateway/);
    expect(errorOf(`${BASE}endpoints:\n  - { name: a, vni: 3, netId: 1, host: left, ip: 10.0.2.9 }\n`)).toMatch(/^f\.yaml:12: endpoints\[0\]\.ip: 10\.0\.2\.9 is outside/);
    expect(errorOf(BASE.replace('switches: [sw]', 'switches: [sw, zz]'))).toMatch(/^f\.yaml:10: vpcs\[0\]\.networks\[0\]\.switches\[1\]: no host 'zz'/);
    expect(errorOf(`${BASE}endpoints:\n  - { name: a, vni: 3, netId: 1, host: left }\nchecks:\n  iperf:\n    - { client: a, server: ghost }\n`))
      .toBe("f.yaml:15: checks.iperf[0].server: no endpoint 'ghost'");
    expect(errorOf(`${BASE}links:\n  uplink:\n    jitter: 2ms\n`)).toBe('f.yaml:13: links.uplink.jitter: jitter needs a delay');
    expect(errorOf(BASE.replace('cidr: 10.0.0.0/16', 'cidr: 0.0.0.0/0'))).toBe("f.yaml:6: vpcs[0].cidr: 0.0.0.0/0 overlaps 0.0.0.0/8, where no endpoint's address can come from");
  });

  it('reports a network with no room left, and YAML syntax errors with their line', () => {
    const tiny = BASE.replace('cidr: 10.0.1.0/24', 'cidr: 10.0.1.0/29');
    expect(errorOf(`${tiny}endpoints:\n  - { vni: 3, netId: 1, hosts: all, perHost: 2 }\n`)).toMatch(/^f\.yaml:12: endpoints\[0\]: network 1 of VPC 3 .* has no free address left/);
    // Counted endpoints bounded before any address is walked (1,000 hosts x 100,000 each would take minutes and gigabytes).
    const huge = BASE.replace('names: [left, right, sw]', 'count: 1000').replace('cidr: 10.0.0.0/16', 'cidr: 10.0.0.0/8').replace('cidr: 10.0.1.0/24', 'cidr: 10.0.0.0/8')
      .replace('switches: [sw]', 'switches: [h1]');
    expect(errorOf(`${huge}endpoints:\n  - { vni: 3, netId: 1, hosts: all, perHost: 100000 }\n`))
      .toMatch(/^f\.yaml:\d+: endpoints: 100000000 endpoints \(listed, and perHost times hosts\); a scenario makes at most 100000$/);
    expect(errorOf('hosts:\n  names: [a\nvpcs: []\n')).toMatch(/^f\.yaml:\d+: YAML: /);
    expect(errorOf('hosts: { names: [a] }\nhosts: { names: [b] }\nvpcs: []\n')).toMatch(/^f\.yaml:2: YAML: .*unique/i);
  });
});
