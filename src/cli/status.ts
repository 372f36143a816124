// `xvpc status`: each host's transitd at a glance: does it answer, which data
// path it runs and whether transit is loaded, its version, and how full its
// maps are; then the desired state (its store, what it holds) and the
// reconcile state: how many records the hosts hold differently from it
// (--reconcile repairs them). A host that does not answer is reported, not
// fatal (exit 1 at the end).
import { connectTransitd } from '../transitd/client.js';
import { socketPath } from '../droplet/names.js';
import { listRecords } from '../droplet/records.js';
import { type Command, UsageError, assertDroplet, checkHost, checkPrefix, parse } from './args.js';
import { checkStoreOption, withController } from './controller.js';

const OPTIONS = {
  prefix: { type: 'string' }, host: { type: 'string', multiple: true }, json: { type: 'boolean' }, store: { type: 'string' }, reconcile: { type: 'boolean' },
} as const;

interface HostStatus {
  host: string; healthy: boolean; error?: string; ip?: string; pid?: number; hook?: string; transitLoaded?: boolean;
  version?: string; maps?: { name: string; entries: number; capacity: number }[];
}

export const statusCommand: Command = {
  summary: 'each host\'s transitd: health, data path and program, version, map occupancy',
  usage: [
    'xvpc status --prefix P [--host NAME]... [--store STORE] [--reconcile] [--json]',
    '',
    'One line per host (--json: one JSON object per host), then the desired state and how many',
    'records the hosts hold differently from it (--json: {"controller": ...}); --reconcile repairs',
    'them first. Exit 1 if any host does not answer.',
  ].join('\n'),
  example: 'xvpc status --prefix demo1',
  run: runStatus,
};

async function statusOf(name: string, address: string): Promise<HostStatus> {
  const client = connectTransitd(name, address, 5000);
  try {
    const h = await client.health({});
    const { maps } = await client.getMapUsage({}, { timeoutMs: 30_000 });
    return {
      host: name, healthy: true, ip: h.ip, pid: h.pid, hook: h.hook, transitLoaded: h.transitLoaded, version: h.version,
      maps: maps.map((m) => ({ name: m.name, entries: m.entries, capacity: m.capacity })),
    };
  } catch (err) {
    return { host: name, healthy: false, error: (err as Error).message };
  } finally {
    client.close();
  }
}

function line(s: HostStatus, width: number): string {
  if (!s.healthy) return `${s.host.padEnd(width)}  DOWN  ${s.error}`;
  const program = `${s.hook}${s.transitLoaded ? '' : ' (transit not loaded)'}`;
  const maps = (s.maps ?? []).map((m) => `${m.name} ${m.entries}/${m.capacity}`).join(', ');
  return `${s.host.padEnd(width)}  ok    ${program.padEnd(4)}  v${s.version}  pid ${s.pid}  ${s.ip}  ${maps}`;
}

export async function runStatus(args: string[]): Promise<number> {
  const { values } = parse(args, OPTIONS);
  if (values.prefix === undefined) throw new UsageError('--prefix is required');
  const prefix = checkPrefix(values.prefix);
  checkStoreOption(values.store);
  let names = (values.host ?? []).map(checkHost);
  for (const n of names) await assertDroplet(prefix, n); // a misspelt host is named, not shown as a DOWN row
  if (names.length === 0) names = (await listRecords(prefix)).map((r) => r.name).sort();
  if (names.length === 0) throw new Error(`no droplets in prefix '${prefix}'`);
  const all = await Promise.all(names.map((n) => statusOf(n, `unix://${socketPath(prefix, n)}`)));
  const width = Math.max(4, ...names.map((n) => n.length));
  if (values.json) for (const s of all) console.log(JSON.stringify(s));
  else {
    console.log(`${'host'.padEnd(width)}  state program version  process  address  maps (entries/capacity)`);
    for (const s of all) console.log(line(s, width));
  }
  const healthy = all.every((s) => s.healthy);
  if (values.host === undefined || values.host.length === 0) await controllerStatus(prefix, values, healthy);
  return healthy ? 0 : 1;
}

/** The desired state and the reconcile state (only when every host answers: a Dump of each is needed). */
async function controllerStatus(prefix: string, values: { store?: string; reconcile?: boolean; json?: boolean }, healthy: boolean): Promise<void> {
  await withController({ prefix, store: values.store }, async (c) => {
    const counts = await c.counts();
    const repaired = values.reconcile && healthy ? (await c.reconcile()).repaired : undefined;
    const drift = healthy ? await c.checkHosts() : undefined;
    const out = { store: c.storeDescription, leading: c.leading, ...counts, ...(repaired !== undefined ? { repaired } : {}), drift };
    if (values.json) {
      console.log(JSON.stringify({ controller: out }));
      return;
    }
    console.log(`desired state: ${counts.vpcs} VPCs, ${counts.networks} networks, ${counts.endpoints} endpoints in ${c.storeDescription}${c.leading ? '' : ' (another controller leads)'}`);
    if (repaired !== undefined) console.log(`reconcile: repaired ${repaired}`);
    if (!drift) console.log('reconcile state: unknown (a host does not answer)');
    else if (drift.differ === 0) console.log(`reconcile state: converged (${drift.checked} records and attachments checked)`);
    else {
      const where = Object.entries(drift.hosts).filter(([, h]) => h.differ > 0).map(([n, h]) => `${n} ${h.differ}`).join(', ');
      console.log(`reconcile state: ${drift.differ} of ${drift.checked} differ (${where}); xvpc status --prefix ${prefix} --reconcile repairs them`);
    }
  });
}
