// A controller in a process of its own, for the control-plane tests: it opens
// the droplets of a prefix, makes a Controller over them and runs the steps
// given as JSON (argv[2]), printing one JSON line per step's result. With
// step {op: 'serve'} it stays up, reconciling every interval and printing
// {leading} whenever that changes (the etcd failover test). Imports the built
// package (dist/): run `npm run build` first.
import { Controller, createDroplets, openDroplets } from '../../dist/index.js';

const { prefix, store, steps, intervalMs, leaseTtlSeconds } = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function main() {
  if (steps[0]?.op === 'createDroplets') {
    try {
      await createDroplets(steps[0].names, { prefix });
      out({ op: 'createDroplets', ok: true });
    } catch (err) {
      out({ op: 'createDroplets', ok: false, code: err.code, message: err.message });
    }
    return;
  }
  const droplets = await openDroplets({ prefix });
  const c = new Controller(droplets, {
    ...(store ? { store } : {}), ...(intervalMs ? { reconcileIntervalMs: intervalMs } : {}), ...(leaseTtlSeconds ? { leaseTtlSeconds } : {}),
  });
  for (const step of steps) {
    if (step.op === 'serve') {
      out({ op: 'serving', pid: process.pid });
      let leading;
      let last;
      setInterval(() => {
        if (c.leading !== leading) out({ op: 'leading', leading: (leading = c.leading), pid: process.pid });
        if (c.lastReconcile && c.lastReconcile !== last) out({ op: 'reconciled', ...(last = c.lastReconcile), leading: c.leading, pid: process.pid });
      }, 50);
      return; // stays up: the reconcile loop's timer is unref'd, this one is not
    }
    if (step.op === 'parallel') {
      out({ op: 'started' });
      const r = await Promise.allSettled(step.calls.map((s) => c[s.op](s.args)));
      out({ op: 'parallel', ok: r.filter((x) => x.status === 'fulfilled').length });
      continue;
    }
    try {
      const r = await c[step.op](step.args);
      const plain = Array.isArray(r) ? r.map((x) => (x && typeof x === 'object' && 'ip' in x && 'netns' in x ? { vni: x.vni, netId: x.netId, ip: x.ip, netns: x.netns, host: x.host?.id } : x)) : r;
      out({ op: step.op, ok: true, result: plain ?? null });
    } catch (err) {
      out({ op: step.op, ok: false, code: err.code, message: err.message });
    }
  }
  await c.close();
}

main().catch((err) => {
  out({ op: 'fatal', message: String(err?.stack ?? err) });
  process.exit(1);
});
