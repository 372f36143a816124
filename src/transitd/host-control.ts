// The control socket of a shared transitd host (host.ts): one JSON line in,
// one JSON line out, per connection. The droplet side (src/droplet/netns.ts)
// starts, stops and asks after one droplet's transitd through it.
import { connect } from 'node:net';

export type HostOp = 'start' | 'stop' | 'status';
export interface HostRequest { op: HostOp; name: string }
/** One droplet's transitd in the host: starting (until it serves), running, stopping, stopped (asked to), exited (start-up failed). */
export type TransitdState = 'starting' | 'running' | 'stopping' | 'stopped' | 'exited';
export interface HostReply {
  ok: boolean;
  error?: string;
  state?: TransitdState;
  /** droplets starting or running after the request; at 0 the host exits */
  live?: number;
}

/** Sends one request to the host listening at `path`; rejects if it does not answer within `timeoutMs`. */
export function hostRequest(path: string, req: HostRequest, timeoutMs = 10_000): Promise<HostReply> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let text = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`transitd host ${path}: no answer to ${req.op} ${req.name} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => { text += d; });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(text) as HostReply);
      } catch {
        reject(new Error(`transitd host ${path}: unreadable answer '${text.slice(0, 200)}'`));
      }
    });
  });
}
