// transitd's Prometheus metrics (--metrics ADDR:PORT, plain HTTP GET /metrics):
// every data-plane counter (packets by program and verdict, drops by reason,
// the other events by name), map occupancy against capacity, and the gRPC
// calls served, by method and status, with their latencies. Data-plane values
// are read from the maps at each scrape.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { HostDataplane } from '../dataplane/host.js';
import { STAT_NAMES, type StatName } from '../abi/index.js';
import { invalid } from '../errors.js';

const VERDICT = /^(transit|agent)_(rx|pass|tx|redirect|drop)$/;

/** Where a counter goes: packets{program, verdict}, drops{reason} or events{event}. */
function place(name: StatName): { metric: 'packets' | 'drops' | 'events'; labels: Record<string, string> } {
  const v = VERDICT.exec(name);
  if (v) return { metric: 'packets', labels: { program: v[1], verdict: v[2] } };
  if (name.startsWith('drop_')) return { metric: 'drops', labels: { reason: name.slice('drop_'.length) } };
  return { metric: 'events', labels: { event: name } };
}

export class TransitMetrics {
  readonly registry = new Registry();
  private readonly rpcs: Counter<'method' | 'code'>;
  private readonly latency: Histogram<'method'>;

  constructor(dp: HostDataplane, host: string) {
    this.registry.setDefaultLabels({ host });
    collectDefaultMetrics({ register: this.registry, prefix: 'xvpc_transitd_' });
    // The first metric's collect reads every counter and map once per scrape,
    // before the registry serializes any of them.
    const packets: Counter<string> = new Counter({
      name: 'xvpc_datapath_packets_total', help: 'Packets seen by a data-path program, by verdict (rx: every packet)',
      labelNames: ['program', 'verdict'], registers: [this.registry],
      collect() {
        const stats = dp.stats();
        for (const c of Object.values(counters)) c.reset();
        for (const name of STAT_NAMES) {
          const { metric, labels } = place(name);
          counters[metric].inc(labels, stats[name] ?? 0);
        }
        for (const m of dp.mapUsage()) {
          entries.set({ map: m.name }, m.entries);
          capacity.set({ map: m.name }, m.capacity);
        }
      },
    });
    const drops: Counter<string> = new Counter({ name: 'xvpc_datapath_drops_total', help: 'Packets dropped, by reason', labelNames: ['reason'], registers: [this.registry] });
    const events: Counter<string> = new Counter({ name: 'xvpc_datapath_events_total', help: 'Data-path events (switch_fwd, decap, encap, arp_reply, ...)', labelNames: ['event'], registers: [this.registry] });
    const counters = { packets, drops, events };
    const entries = new Gauge({ name: 'xvpc_map_entries', help: 'Entries in a record or flow map', labelNames: ['map'], registers: [this.registry] });
    const capacity = new Gauge({ name: 'xvpc_map_capacity', help: 'max_entries of a record or flow map', labelNames: ['map'], registers: [this.registry] });
    this.rpcs = new Counter({ name: 'xvpc_rpc_requests_total', help: 'gRPC calls answered, by method and status code (OK or the error)', labelNames: ['method', 'code'], registers: [this.registry] });
    this.latency = new Histogram({
      name: 'xvpc_rpc_duration_seconds', help: 'gRPC call latency, by method', labelNames: ['method'], registers: [this.registry],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    });
  }

  /** Records one answered call. */
  observeRpc(method: string, code: string, seconds: number): void {
    this.rpcs.inc({ method, code });
    this.latency.observe({ method }, seconds);
  }

  /** Serves GET /metrics on "ADDR:PORT"; resolves with the port bound. */
  serve(listen: string): Promise<{ server: Server; port: number }> {
    const m = /^(.+):(\d{1,5})$/.exec(listen);
    if (!m || Number(m[2]) > 65535) throw invalid(`metrics: '${listen}' is not ADDR:PORT (e.g. 127.0.0.1:9464)`);
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end('only GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500).end(`${err.message}\n`),
      );
    });
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(m[2]), m[1].replace(/^\[|\]$/g, ''), () => {
        const addr = server.address();
        resolve({ server, port: typeof addr === 'object' && addr ? addr.port : Number(m[2]) });
      });
    });
  }
}
