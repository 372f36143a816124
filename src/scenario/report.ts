// The report every `up` writes: JSON (all the numbers) and a self-contained
// HTML page (inline SVG charts, inline CSS, no script, no network).
import { writeFile } from 'node:fs/promises';
import type { StageTiming } from './graph.js';
import type { CheckReport } from './checks.js';
import { renderSvg, rttChart, stageChart, throughputChart } from './charts.js';

export interface ScenarioReport {
  scenario: string;
  prefix: string;
  startedAt: string;
  /** 'up' (all checks passed), 'checks-failed', 'failed', 'interrupted' */
  outcome: string;
  error?: string;
  hosts: number;
  endpoints: number;
  /** from start until every endpoint exists (before checks) */
  readyMs?: number;
  totalMs: number;
  stages: StageTiming[];
  checks: CheckReport;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function renderHtml(r: ScenarioReport): Promise<string> {
  const charts = [await renderSvg(stageChart(r.stages))];
  const rtts = r.checks.pings.filter((p) => p.rttMs !== undefined).map((p) => p.rttMs!);
  if (rtts.length) charts.push(await renderSvg(rttChart(rtts)));
  if (r.checks.throughput.length) charts.push(await renderSvg(throughputChart(r.checks.throughput)));
  const rows = r.checks.results.map((c) => `<tr class="${c.ok ? 'ok' : 'bad'}"><td>${c.ok ? 'pass' : 'FAIL'}</td><td>${esc(c.name)}</td><td>${esc(c.detail)}</td></tr>`);
  const stageRows = r.stages.map((s) => `<tr><td>${esc(s.name)}</td><td>${s.status}</td><td>${s.tasks}</td><td>${s.retries}</td><td>${((s.durationMs ?? 0) / 1000).toFixed(2)} s</td></tr>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xvpc up ${esc(r.scenario)} (${esc(r.prefix)})</title>
<style>body{font-family:sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
tr.bad td{background:#fdd}.chart{margin:1.5em 0}</style></head><body>
<h1>xvpc up: ${esc(r.scenario)}</h1>
<p>prefix <b>${esc(r.prefix)}</b>, started ${esc(r.startedAt)}; outcome <b>${esc(r.outcome)}</b>${r.error ? `: ${esc(r.error)}` : ''}.<br>
${r.hosts} hosts, ${r.endpoints} endpoints; ready after ${r.readyMs !== undefined ? `${(r.readyMs / 1000).toFixed(2)} s` : '-'}, ${(r.totalMs / 1000).toFixed(2)} s in all.</p>
<h2>Stages</h2><table><tr><th>stage</th><th>status</th><th>tasks</th><th>retries</th><th>time</th></tr>${stageRows.join('')}</table>
<h2>Checks</h2>${rows.length ? `<table><tr><th></th><th>check</th><th>result</th></tr>${rows.join('')}</table>` : '<p>none</p>'}
<h2>Charts</h2>${charts.map((svg) => `<div class="chart">${svg}</div>`).join('\n')}
</body></html>
`;
}

/** Writes base.json and base.html; returns their paths. */
export async function writeReport(r: ScenarioReport, base: string): Promise<{ json: string; html: string }> {
  const json = `${base}.json`;
  const html = `${base}.html`;
  await writeFile(json, `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(html, await renderHtml(r));
  return { json, html };
}
