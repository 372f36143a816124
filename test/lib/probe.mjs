// A tiny traffic tool run inside endpoints' namespaces (node is on every
// droplet): echo servers and clients for TCP, UDP and HTTP, and a TCP stream
// whose bytes are counted and hashed on both ends.
//   node probe.mjs serve tcp|udp|http PORT [SECONDS] [NAME] [--pidfile F]
//       answers "pong:<msg>" ("pong:<msg>@NAME") until SECONDS pass or SIGTERM; writes its
//       pid to F once it listens (F is the caller's handle: readiness, and whom to stop).
//       SIGUSR2 marks a moment: stream reports say how many bytes arrived after it; F.mark
//       appears once the mark is taken.
//   node probe.mjs ask tcp|udp|http IP PORT MSG       prints the answer; exit 1 if none in 5 s
//   node probe.mjs converse IP PORT COUNT           one TCP connection, COUNT messages one after another, prints each answer
//   node probe.mjs stream IP PORT SECONDS [--pidfile F]
//       sends TCP data until SECONDS pass or SIGTERM; writes its pid to F once the server
//       has received the first MiB; then half-closes and prints JSON
//       {"sent":{"bytes","sha256"},"received":{"bytes","sha256"},"afterMark"} where
//       "received" is what the server counted and hashed. Exit 1 on any socket error.
//   --bind IP (serve, stream): listen on / send from IP only (an endpoint in a namespace
//       shared with others is routed by its source address; docs/emulation.md "Memory").
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const argv = process.argv.slice(2);
const pidfileAt = argv.indexOf('--pidfile');
const pidfile = pidfileAt >= 0 ? argv.splice(pidfileAt, 2)[1] : undefined;
const bindAt = argv.indexOf('--bind');
const bind = bindAt >= 0 ? argv.splice(bindAt, 2)[1] : undefined;
const [cmd, proto, a, b, c] = argv;

/** The first bytes of a stream() connection: the server then sinks instead of echoing. */
const SINK = 'sink\n';
/** The server tells a stream() client it is flowing once this much arrived. */
const FLOWING_AFTER = 1 << 20;

function writePidfile() {
  if (!pidfile) return;
  writeFileSync(`${pidfile}.tmp`, String(process.pid));
  renameSync(`${pidfile}.tmp`, pidfile); // whole or absent: a reader never sees it half written
  process.on('exit', () => {
    for (const f of [pidfile, `${pidfile}.mark`]) try { unlinkSync(f); } catch { /* not there */ }
  });
}

function serve(proto, port, seconds, name) {
  const pong = (msg) => `pong:${msg}${name ? `@${name}` : ''}`;
  setTimeout(() => process.exit(0), seconds * 1000).unref();
  process.on('SIGTERM', () => process.exit(0));
  let marked = false;
  const sinks = new Set();
  process.on('SIGUSR2', () => {
    marked = true;
    for (const k of sinks) k.atMark = k.bytes;
    if (pidfile) writeFileSync(`${pidfile}.mark`, ''); // the caller waits for the mark to be taken
  });
  if (proto === 'tcp') {
    net.createServer((s) => {
      let sink; // a stream() client: count and hash everything, answer only the report
      let first = true;
      s.on('data', (d) => {
        if (first) {
          first = false;
          if (d.subarray(0, SINK.length).toString() === SINK) {
            sink = { bytes: 0, hash: createHash('sha256'), atMark: undefined, told: false };
            sinks.add(sink);
            d = d.subarray(SINK.length);
          }
        }
        if (!sink) return void s.write(pong(d));
        sink.bytes += d.length;
        sink.hash.update(d);
        if (marked && sink.atMark === undefined) sink.atMark = 0; // connected after the mark
        if (!sink.told && sink.bytes >= FLOWING_AFTER) { sink.told = true; s.write('flowing\n'); }
      });
      s.on('end', () => {
        if (!sink) return void s.end();
        sinks.delete(sink);
        const afterMark = sink.atMark === undefined ? null : sink.bytes - sink.atMark;
        s.end(`${JSON.stringify({ bytes: sink.bytes, sha256: sink.hash.digest('hex'), afterMark })}\n`);
      });
      s.on('error', () => {});
    }).listen(port, bind, writePidfile);
  } else if (proto === 'udp') {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => s.send(pong(m), r.port, r.address));
    s.bind(port, bind, writePidfile);
  } else {
    http.createServer((req, res) => res.end(pong(decodeURIComponent(req.url.slice(1))))).listen(port, bind, writePidfile);
  }
  setInterval(() => {}, 1000);
}

async function ask(proto, ip, port, msg) {
  const deadline = Date.now() + 5000;
  const once = () => new Promise((resolve, reject) => {
    const fail = (e) => reject(e);
    if (proto === 'tcp') {
      const s = net.connect(port, ip, () => s.write(msg));
      s.setTimeout(1000, () => { s.destroy(); reject(new Error('timeout')); });
      s.on('data', (d) => { resolve(d.toString()); s.destroy(); }).on('error', fail);
    } else if (proto === 'udp') {
      const s = dgram.createSocket('udp4');
      const t = setTimeout(() => { s.close(); reject(new Error('timeout')); }, 500);
      s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m.toString()); });
      s.send(msg, port, ip);
    } else {
      http.get({ host: ip, port, path: `/${encodeURIComponent(msg)}`, timeout: 1000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d)).on('end', () => resolve(body));
      }).on('error', fail).on('timeout', function () { this.destroy(new Error('timeout')); });
    }
  });
  for (;;) {
    try { return await once(); } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** One TCP connection to a tcp echo server: COUNT messages, each after the last one's answer. */
function converse(ip, port, count) {
  const s = net.connect(port, ip);
  let i = 0;
  s.setTimeout(5000, () => { console.error(`no answer to message ${i}`); process.exit(1); });
  s.on('error', (e) => { console.error(`connection broke at message ${i}: ${e.message}`); process.exit(1); });
  s.on('connect', () => s.write(`m${i}`));
  s.on('data', (d) => {
    console.log(d.toString());
    if (++i === count) { s.end(); process.exit(0); }
    s.write(`m${i}`);
  });
}

/** Connects, retrying a refused connect for up to 5 s (the server may still be starting). */
async function connect(ip, port) {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const s = net.connect({ port, host: ip, ...(bind ? { localAddress: bind } : {}) });
        s.once('connect', () => { s.off('error', reject); resolve(s); });
        s.once('error', reject);
      });
    } catch (e) {
      if (e.code !== 'ECONNREFUSED' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A TCP transfer that must not break: every byte sent must arrive, counted and hashed by the server. */
async function stream(ip, port, seconds) {
  const base = randomBytes(16384);
  const hash = createHash('sha256');
  let sent = 0;
  let seq = 0n;
  let stopping = false;
  const s = await connect(ip, port).catch((e) => { console.error(`stream could not connect: ${e.message}`); process.exit(1); });
  s.on('error', (e) => { console.error(`stream broke after ${sent} bytes: ${e.message}`); process.exit(1); });
  s.setTimeout(10_000, () => { console.error(`stream stalled after ${sent} bytes`); process.exit(1); });
  const stop = () => { stopping = true; };
  process.on('SIGTERM', stop);
  setTimeout(stop, seconds * 1000).unref();

  let answer = '';
  s.on('data', (d) => {
    answer += d.toString();
    if (answer.startsWith('flowing\n') && !s.flowingSeen) { s.flowingSeen = true; writePidfile(); }
  });
  s.on('end', () => {
    const lines = answer.split('\n').filter((l) => l && l !== 'flowing');
    if (lines.length !== 1) { console.error(`stream: no report from the server (got ${JSON.stringify(answer)})`); process.exit(1); }
    const report = JSON.parse(lines[0]);
    console.log(JSON.stringify({
      sent: { bytes: sent, sha256: hash.digest('hex') },
      received: { bytes: report.bytes, sha256: report.sha256 },
      afterMark: report.afterMark,
    }));
    process.exit(0);
  });

  s.write(SINK);
  // A socket whose kernel buffer takes every write never says "wait for drain": without a
  // yield every 64 chunks (1 MiB) the loop would starve the stop timer and the signals (seen in
  // CI: a 1 s stream ran until its server's 20 s life ended).
  const pump = () => {
    for (let n = 0; !stopping; n++) {
      if (n === 64) return void setImmediate(pump);
      const chunk = Buffer.allocUnsafe(base.length);
      base.copy(chunk);
      chunk.writeBigUInt64BE(seq++); // every chunk differs: a lost or repeated one changes the hash
      hash.update(chunk);
      sent += chunk.length;
      if (!s.write(chunk)) return void s.once('drain', pump);
    }
    s.end(); // the server answers the half-close with its report
  };
  pump();
}

if (cmd === 'serve') serve(proto, Number(a), Number(b ?? 30), c);
else if (cmd === 'ask') ask(proto, a, Number(b), c).then((r) => console.log(r), (e) => { console.error(e.message); process.exit(1); });
else if (cmd === 'stream') stream(proto, Number(a), Number(b));
else if (cmd === 'converse') converse(proto, Number(a), Number(b));
else { console.error('usage: probe.mjs serve|ask|stream ...'); process.exit(2); }
