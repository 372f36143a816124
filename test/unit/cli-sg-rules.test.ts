// The command line's notation for security-group rules (src/cli/sg-rules.ts).
import { describe, expect, it } from 'vitest';
import { formatRules, parseRules } from '../../src/cli/sg-rules.js';

describe('xvpc sg rules', () => {
  it('parses PROTO[:PORTS][@CIDR] lists', () => {
    expect(parseRules('tcp:80@10.0.1.0/24, tcp:8000-8080,icmp@10.0.0.0/16,any', 'ingress')).toEqual([
      { protocol: 'tcp', cidr: '10.0.1.0/24', ports: '80' },
      { protocol: 'tcp', ports: '8000-8080' },
      { protocol: 'icmp', cidr: '10.0.0.0/16' },
      { protocol: 'any' },
    ]);
    expect(parseRules('', 'egress')).toEqual([]);
  });

  it('refuses what is not a rule, naming the option and the rule', () => {
    expect(() => parseRules('tcp:80,udp 53', 'egress')).toThrow("--egress: rule 2 'udp 53' is not PROTO[:PORTS][@CIDR]");
    expect(() => parseRules('tcp:80,', 'ingress')).toThrow("--ingress: rule 2 '' is not");
    expect(() => parseRules('TCP:80', 'ingress')).toThrow("rule 1 'TCP:80'");
  });

  it('formats back to the same notation', () => {
    const text = 'tcp:80@10.0.1.0/24,tcp:8000-8080,icmp,any@10.9.0.0/16';
    expect(formatRules(parseRules(text, 'ingress'))).toBe(text);
    expect(formatRules([{ protocol: 'udp', cidr: '0.0.0.0/0', ports: '53' }])).toBe('udp:53');
    expect(formatRules([])).toBe('-');
  });
});
