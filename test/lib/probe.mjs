// A tiny traffic tool run inside endpoints' namespaces (node is on every
// droplet): echo servers and clients for TCP, UDP and HTTP.
//   node probe.mjs serve tcp|udp|http PORT [SECONDS] [NAME]   answers "pong:<msg>" ("pong:<msg>@NAME") until SECONDS pass
//   node probe.mjs ask tcp|udp|http IP PORT MSG         prints the answer; exit 1 if none in 5 s
//   node probe.mjs stream IP PORT SECONDS               sends TCP data for SECONDS, prints bytes acked by the echo
//   node probe.mjs converse IP PORT COUNT               one TCP connection, COUNT messages one after another, prints each answer
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';

const [cmd, proto, a, b, c] = process.argv.slice(2);

function serve(proto, port, seconds, name) {
  const pong = (msg) => `pong:${msg}${name ? `@${name}` : ''}`;
  setTimeout(() => process.exit(0), seconds * 1000).unref();
  if (proto === 'tcp') {
    net.createServer((s) => {
      let sink = false; // a stream() client: swallow everything, answer nothing
      s.on('data', (d) => {
        sink ||= d.subarray(0, 4).toString() === 'sink';
        if (!sink) s.write(pong(d));
      });
      s.on('error', () => {});
    }).listen(port);
  } else if (proto === 'udp') {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => s.send(pong(m), r.port, r.address));
    s.bind(port);
  } else {
    http.createServer((req, res) => res.end(pong(decodeURIComponent(req.url.slice(1))))).listen(port);
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

/** A TCP transfer that must not break: writes for SECONDS, fails on any socket error. */
function stream(ip, port, seconds) {
  const s = net.connect(port, ip);
  const chunk = Buffer.alloc(16384, 0x61);
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  s.on('error', (e) => { console.error(`stream broke after ${sent} bytes: ${e.message}`); process.exit(1); });
  s.on('connect', () => {
    s.write('sink');
    const pump = () => {
      while (Date.now() < end) {
        sent += chunk.length;
        if (!s.write(chunk)) return s.once('drain', pump);
      }
      s.end(() => { console.log(String(sent)); process.exit(0); });
    };
    pump();
  });
  s.setTimeout(5000, () => { console.error(`stream stalled after ${sent} bytes`); process.exit(1); });
}

if (cmd === 'serve') serve(proto, Number(a), Number(b ?? 30), c);
else if (cmd === 'ask') ask(proto, a, Number(b), c).then((r) => console.log(r), (e) => { console.error(e.message); process.exit(1); });
else if (cmd === 'stream') stream(proto, Number(a), Number(b));
else if (cmd === 'converse') converse(proto, Number(a), Number(b));
else { console.error('usage: probe.mjs serve|ask|stream ...'); process.exit(2); }
