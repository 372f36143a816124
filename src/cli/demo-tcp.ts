// The demo's TCP ends, run with node inside an endpoint's namespace (demo.ts):
//
//   demo-tcp.js serve PORT[,PORT...] CONNECTIONS SECONDS
//     listens on every port; prints one JSON line per connection that ended,
//     {"port", "bytes", "sha256"} of what arrived; exits after CONNECTIONS of
//     them, or after SECONDS (exit 1) if fewer came.
//   demo-tcp.js send IP PORT BYTES
//     connects, sends BYTES random bytes, closes; prints {"ok": true, "bytes",
//     "sha256"} of what it sent, or {"ok": false, "error"} when the
//     connection failed (exit 0 either way: the demo reads the line).
//
// The hashes of both ends are the proof of delivery; nothing here judges it.
import { createHash, randomBytes } from 'node:crypto';
import { createConnection, createServer } from 'node:net';

function serve(ports: number[], connections: number, seconds: number): void {
  let ended = 0;
  const timer = setTimeout(() => process.exit(1), seconds * 1000);
  for (const port of ports) {
    createServer((sock) => {
      const h = createHash('sha256');
      let bytes = 0;
      sock.on('data', (d: Buffer) => { h.update(d); bytes += d.length; });
      sock.on('error', () => undefined);
      sock.on('end', () => {
        sock.end();
        console.log(JSON.stringify({ port, bytes, sha256: h.digest('hex') }));
        if (++ended >= connections) {
          clearTimeout(timer);
          process.exit(0);
        }
      });
    }).listen(port, '0.0.0.0');
  }
}

function send(ip: string, port: number, size: number): void {
  const data = randomBytes(size);
  const sock = createConnection({ host: ip, port });
  sock.on('connect', () => sock.end(data));
  sock.on('close', (hadError) => {
    if (!hadError) console.log(JSON.stringify({ ok: true, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') }));
  });
  sock.on('error', (err: NodeJS.ErrnoException) => console.log(JSON.stringify({ ok: false, error: err.code ?? err.message })));
}

const [op, ...args] = process.argv.slice(2);
if (op === 'serve' && args.length === 3) serve(args[0].split(',').map(Number), Number(args[1]), Number(args[2]));
else if (op === 'send' && args.length === 3) send(args[0], Number(args[1]), Number(args[2]));
else {
  console.error('usage: demo-tcp.js serve PORT[,PORT...] CONNECTIONS SECONDS | send IP PORT BYTES');
  process.exit(2);
}
