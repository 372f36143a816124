// The Controller's Prometheus metrics (prom-client): how many reconciles ran,
// how they ended, and how long they took. `controller.metrics.registry` is
// for the embedding program to expose (e.g. registry.metrics() on /metrics).
import { Counter, Histogram, Registry } from 'prom-client';

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly reconciles = new Counter({
    name: 'xvpc_controller_reconciles_total', help: 'Reconciles of the hosts with the desired state, by outcome (ok, error)',
    labelNames: ['outcome'], registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'xvpc_controller_reconcile_duration_seconds', help: 'How long a reconcile of every host took',
    labelNames: ['outcome'], registers: [this.registry], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
  });

  /** Runs and records one reconcile. */
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const start = process.hrtime.bigint();
    let outcome = 'error';
    try {
      const r = await fn();
      outcome = 'ok';
      return r;
    } finally {
      this.reconciles.inc({ outcome });
      this.duration.observe({ outcome }, Number(process.hrtime.bigint() - start) / 1e9);
    }
  }
}
