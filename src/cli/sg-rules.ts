// Security-group rules on the command line: `PROTO[:PORTS][@CIDR]`, several
// separated by commas: `tcp:80@10.0.1.0/24,tcp:8000-8080,icmp@10.0.0.0/16,any`.
// Only the shape is checked here; what a rule may say (known protocol, ports
// in range, no host bits) is the Controller's to check, with the field named.
import { SG_ANY_CIDR, type SecurityRule } from '../abi/index.js';
import { UsageError } from './args.js';

const RULE = /^([a-z]+)(?::([0-9]+(?:-[0-9]+)?))?(?:@([0-9./]+))?$/;

export function parseRules(text: string, option: string): SecurityRule[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part, i) => {
    const m = RULE.exec(part.trim());
    if (!m) throw new UsageError(`--${option}: rule ${i + 1} '${part}' is not PROTO[:PORTS][@CIDR] (e.g. tcp:80@10.0.1.0/24)`);
    const [, protocol, ports, cidr] = m;
    return { protocol: protocol as SecurityRule['protocol'], ...(cidr !== undefined ? { cidr } : {}), ...(ports !== undefined ? { ports } : {}) };
  });
}

/** The same notation back, for `xvpc sg list` ('-' for none). */
export function formatRules(rules: SecurityRule[]): string {
  if (rules.length === 0) return '-';
  return rules.map((r) => `${r.protocol}${r.ports ? `:${r.ports}` : ''}${r.cidr && r.cidr !== SG_ANY_CIDR ? `@${r.cidr}` : ''}`).join(',');
}
