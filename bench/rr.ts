#!/usr/bin/env node
// rr: a TCP request/response tool run inside the bench's namespaces.
//   node rr.js serve PORT             echoes every byte; prints "ready" once listening, exits when the client leaves
//   node rr.js ask IP PORT N SIZE     N round trips of SIZE bytes after a warm-up; prints the RTTs' summary as JSON (µs)
// One connection, Nagle off, one request in flight: each RTT is one message
// there and its echo back, as the application sees it.
import net from 'node:net';

function serve(port: number): void {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
    s.on('error', () => undefined);
    s.on('close', () => server.close(() => process.exit(0)));
  });
  server.listen(port, () => process.stdout.write('ready\n'));
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function ask(ip: string, port: number, n: number, size: number): Promise<void> {
  const warmup = Math.min(200, Math.ceil(n / 10));
  const msg = Buffer.alloc(size, 0x61);
  const rtts: number[] = [];
  const s = net.connect(port, ip);
  s.setNoDelay(true);
  await new Promise<void>((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
  let got = 0;
  let waiter: (() => void) | undefined;
  s.on('data', (d) => {
    got += d.length;
    if (got >= size && waiter) { const w = waiter; waiter = undefined; w(); }
  });
  for (let i = 0; i < warmup + n; i++) {
    got = 0;
    const start = process.hrtime.bigint();
    const answered = new Promise<void>((resolve) => { waiter = resolve; });
    s.write(msg);
    await answered;
    if (i >= warmup) rtts.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  s.end();
  rtts.sort((a, b) => a - b);
  const mean = rtts.reduce((a, b) => a + b, 0) / rtts.length;
  process.stdout.write(`${JSON.stringify({
    rounds: rtts.length, sizeBytes: size, p50Us: pct(rtts, 50), p90Us: pct(rtts, 90), p99Us: pct(rtts, 99),
    maxUs: rtts[rtts.length - 1], meanUs: mean,
  })}\n`);
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'serve') serve(Number(args[0]));
else if (cmd === 'ask') {
  ask(args[0], Number(args[1]), Number(args[2]), Number(args[3] ?? 64)).catch((err: unknown) => {
    process.stderr.write(`rr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: rr.js serve PORT | rr.js ask IP PORT N SIZE\n');
  process.exit(2);
}
