// Running a command inside one endpoint of a run, from its run-file record:
// the argv that does it on this machine, for any process (up, pingall, exec).
import { XvpcError } from '../errors.js';
import { run, type RunResult } from '../util/exec.js';
import type { RunEndpoint, RunFile, RunHost } from './runfile.js';

/** An endpoint by name, or by IP when just one endpoint of the run has it. */
export function findEndpoint(runFile: RunFile, which: string): RunEndpoint {
  const byName = runFile.endpoints.find((e) => e.name === which);
  if (byName) return byName;
  const byIp = runFile.endpoints.filter((e) => e.ip === which);
  if (byIp.length === 1) return byIp[0];
  if (byIp.length > 1) throw new XvpcError('INVALID_ARGUMENT', `endpoint: ${which} is in ${byIp.length} VPCs; name it (${byIp.map((e) => e.name).join(', ')})`);
  const some = runFile.endpoints.slice(0, 5).map((e) => e.name).join(', ');
  throw new XvpcError('NOT_FOUND', `endpoint: no endpoint '${which}' in prefix '${runFile.prefix}' (e.g. ${some || 'none'})`);
}

function hostOf(runFile: RunFile, ep: RunEndpoint): RunHost {
  const h = runFile.hosts.find((x) => x.name === ep.host);
  if (!h) throw new XvpcError('NOT_FOUND', `endpoint ${ep.name}: its host '${ep.host}' is not in the run file`);
  return h;
}

/** argv running cmd inside the endpoint (interactive: keeps stdin for docker). */
export function endpointArgv(runFile: RunFile, ep: RunEndpoint, cmd: string[], interactive = false): string[] {
  const h = hostOf(runFile, ep);
  const inNs = ep.netns ? ['ip', 'netns', 'exec', ep.netns, ...cmd] : cmd;
  if (h.backend === 'docker') return ['docker', 'exec', ...(interactive ? ['-i'] : []), h.container!, ...inNs];
  if (ep.netns) return inNs;
  return ['ip', 'netns', 'exec', h.ns!, ...cmd];
}

export const runIn = (runFile: RunFile, ep: RunEndpoint, cmd: string[], timeoutMs = 60_000): Promise<RunResult> =>
  run(endpointArgv(runFile, ep, cmd), { timeoutMs });
