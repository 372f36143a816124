// The JSON schema of a scenario file (checked with ajv after YAML parsing).
// Shapes only; what refers to what (hosts, networks, endpoints) is checked in
// validate.ts, which can name the line of the reference.
const name = { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$', maxLength: 12 } as const;
const endpointName = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', maxLength: 63 } as const;
const ipv4 = { type: 'string', pattern: '^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$' } as const;
const cidr = { type: 'string', pattern: '^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})$' } as const;
const vni = { type: 'integer', minimum: 1, maximum: 0xffffff } as const;
const netId = { type: 'integer', minimum: 1, maximum: 0xffffffff } as const;
/** '20ms', '1.5ms', '2s', '100us' */
const duration = { type: 'string', pattern: '^\\d+(?:\\.\\d+)?(?:us|ms|s)$' } as const;
/** '10%', '0.5%' */
const percent = { type: 'string', pattern: '^\\d+(?:\\.\\d+)?%$' } as const;
/** tc rates: '100mbit', '1gbit', '500kbit' */
const rate = { type: 'string', pattern: '^\\d+(?:\\.\\d+)?(?:bit|kbit|mbit|gbit)$' } as const;

const shaping = {
  type: 'object', additionalProperties: false, minProperties: 1,
  properties: { delay: duration, jitter: duration, loss: percent, rate },
} as const;

const rule = {
  type: 'object', additionalProperties: false, required: ['protocol'],
  properties: { protocol: { enum: ['tcp', 'udp', 'icmp', 'any'] }, cidr, ports: { type: 'string', pattern: '^\\d+(?:-\\d+)?$' } },
} as const;

const endpointRef = endpointName;

export const SCENARIO_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts', 'vpcs'],
  properties: {
    name: { type: 'string', maxLength: 80 },
    description: { type: 'string' },
    hosts: {
      type: 'object', additionalProperties: false,
      properties: {
        names: { type: 'array', minItems: 1, uniqueItems: true, items: name },
        count: { type: 'integer', minimum: 1, maximum: 1000 },
        /** with count: names are <namePrefix><i>, from 1 */
        namePrefix: { type: 'string', pattern: '^[a-z][a-z0-9-]*$', maxLength: 7 },
        backend: { enum: ['netns', 'docker'] },
        mode: { enum: ['tc', 'native', 'generic'] },
        /** own (default): a transitd process per host; shared: one for all (netns only) */
        transitd: { enum: ['own', 'shared'] },
        /** own (default): a namespace per endpoint; shared: one per host, endpoints routed by source address (netns only) */
        endpointNamespace: { enum: ['own', 'shared'] },
      },
      oneOf: [{ required: ['names'], not: { required: ['count'] } }, { required: ['count'], not: { required: ['names'] } }],
    },
    links: {
      type: 'object', additionalProperties: false,
      properties: {
        /** every host's uplink (its eth0 on the underlay) */
        uplink: shaping,
        /** one host's uplink, instead of the common one */
        hosts: { type: 'object', propertyNames: name, additionalProperties: shaping },
        /** traffic between two hosts, both ways */
        pairs: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['between'],
            properties: {
              between: { type: 'array', minItems: 2, maxItems: 2, items: name },
              delay: duration, jitter: duration, loss: percent, rate,
            },
          },
        },
      },
    },
    vpcs: {
      type: 'array', minItems: 1,
      items: {
        type: 'object', additionalProperties: false, required: ['vni', 'cidr', 'networks'],
        properties: {
          vni, cidr,
          routers: { type: 'array', uniqueItems: true, items: name },
          networks: {
            type: 'array', minItems: 1,
            items: {
              type: 'object', additionalProperties: false, required: ['netId', 'cidr', 'switches'],
              properties: { netId, cidr, switches: { type: 'array', minItems: 1, uniqueItems: true, items: name } },
            },
          },
        },
      },
    },
    securityGroups: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['vni', 'name'],
        properties: { vni, name: { type: 'string', minLength: 1 }, ingress: { type: 'array', items: rule }, egress: { type: 'array', items: rule } },
      },
    },
    endpoints: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['vni', 'netId'],
        properties: {
          vni, netId,
          /** a listed endpoint: its name, host and (optionally) its address */
          name: endpointName, host: name, ip: ipv4,
          /** counted endpoints: perHost on each of hosts ('all' = every host) */
          hosts: { oneOf: [{ const: 'all' }, { type: 'array', minItems: 1, uniqueItems: true, items: name }] },
          perHost: { type: 'integer', minimum: 1, maximum: 100000 },
          securityGroups: { type: 'array', items: { type: 'string' } },
        },
        oneOf: [
          { required: ['name', 'host'], not: { anyOf: [{ required: ['hosts'] }, { required: ['perHost'] }] } },
          { required: ['hosts', 'perHost'], not: { anyOf: [{ required: ['name'] }, { required: ['host'] }, { required: ['ip'] }] } },
        ],
      },
    },
    checks: {
      type: 'object', additionalProperties: false,
      properties: {
        pingall: {
          type: 'object', additionalProperties: false,
          properties: {
            /** fraction of ordered pairs to try, 0 < sample <= 1 */
            sample: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
            count: { type: 'integer', minimum: 1, maximum: 100 },
            /** the random sample's seed (same seed, same pairs) */
            seed: { type: 'integer' },
          },
        },
        iperf: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['client', 'server'],
            properties: {
              client: endpointRef, server: endpointRef,
              seconds: { type: 'number', minimum: 1, maximum: 600 },
              udp: { type: 'boolean' },
              /** checks: throughput bounds in Mbit/s (a shaping check) */
              minMbps: { type: 'number', minimum: 0 }, maxMbps: { type: 'number', minimum: 0 },
            },
          },
        },
        coordinated: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['clients', 'servers'],
            properties: {
              clients: { type: 'array', minItems: 1, items: endpointRef },
              servers: { type: 'array', minItems: 1, items: endpointRef },
              seconds: { type: 'number', minimum: 1, maximum: 600 },
            },
          },
        },
        rtt: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['from', 'to'],
            properties: {
              from: endpointRef, to: endpointRef,
              count: { type: 'integer', minimum: 1, maximum: 10000 },
              minMs: { type: 'number', minimum: 0 }, maxMs: { type: 'number', minimum: 0 },
              /** loss bounds in percent over the pings */
              minLossPct: { type: 'number', minimum: 0, maximum: 100 }, maxLossPct: { type: 'number', minimum: 0, maximum: 100 },
            },
          },
        },
        unreachable: {
          type: 'array',
          items: {
            type: 'object', additionalProperties: false, required: ['from', 'to'],
            properties: { from: endpointRef, to: endpointRef },
          },
        },
      },
    },
  },
} as const;
