// Progress of a graph run: on a terminal one line rewritten in place per
// stage; otherwise (logs, CI) plain lines at stage start/end and each retry.
import type { ProgressEvent } from './graph.js';

export function progressPrinter(out: NodeJS.WriteStream = process.stderr): (e: ProgressEvent) => void {
  const tty = out.isTTY === true;
  let lastDraw = 0;
  return (e) => {
    switch (e.kind) {
      case 'stage-start':
        if (!tty) out.write(`[${e.stage}] ${e.total} task${e.total === 1 ? '' : 's'}\n`);
        break;
      case 'task-done':
        if (tty && (Date.now() - lastDraw > 100 || e.done === e.total)) {
          lastDraw = Date.now();
          const width = 30;
          const fill = Math.round((width * e.done) / Math.max(1, e.total));
          out.write(`\r\x1b[K[${e.stage}] ${'#'.repeat(fill)}${'.'.repeat(width - fill)} ${e.done}/${e.total}`);
        }
        break;
      case 'retry':
        out.write(`${tty ? '\r\x1b[K' : ''}[${e.stage}] retry ${e.attempt} of ${e.object}: ${e.error}\n`);
        break;
      case 'stage-end':
        out.write(`${tty ? '\r\x1b[K' : ''}[${e.stage}] ${e.status} in ${(e.durationMs / 1000).toFixed(2)} s\n`);
        break;
    }
  };
}
