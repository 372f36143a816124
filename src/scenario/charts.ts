// Charts as inline SVG, rendered in Node by Vega-Lite -> Vega (no browser, no
// network): the page that holds them needs nothing else to show them.
import { View, parse } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vega = compile(spec).spec;
  const view = new View(parse(vega), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Horizontal bars: one per stage, its duration in seconds. */
export function stageChart(stages: { name: string; durationMs?: number; status: string }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Time per stage',
    width: 520,
    data: { values: stages.map((s) => ({ stage: s.name, seconds: (s.durationMs ?? 0) / 1000, status: s.status })) },
    mark: 'bar',
    encoding: {
      y: { field: 'stage', type: 'nominal', sort: null, title: null },
      x: { field: 'seconds', type: 'quantitative', title: 'seconds' },
      color: { field: 'status', type: 'nominal' },
      tooltip: [{ field: 'stage' }, { field: 'seconds', format: '.2f' }],
    },
  };
}

/** Histogram of RTTs in ms. */
export function rttChart(rtts: number[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `RTT distribution (${rtts.length} samples)`,
    width: 520,
    data: { values: rtts.map((ms) => ({ ms })) },
    mark: 'bar',
    encoding: {
      x: { field: 'ms', type: 'quantitative', bin: { maxbins: 40 }, title: 'RTT (ms)' },
      y: { aggregate: 'count', type: 'quantitative', title: 'pings' },
    },
  };
}

/** Bars of Mbit/s per client -> server. */
export function throughputChart(rows: { name: string; client: string; server: string; mbps: number }[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Throughput',
    width: 520,
    data: { values: rows.map((r) => ({ pair: `${r.client} -> ${r.server}`, check: r.name, mbps: r.mbps })) },
    mark: 'bar',
    encoding: {
      y: { field: 'pair', type: 'nominal', sort: null, title: null },
      x: { field: 'mbps', type: 'quantitative', title: 'Mbit/s' },
      color: { field: 'check', type: 'nominal' },
    },
  };
}
