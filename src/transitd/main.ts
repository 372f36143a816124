#!/usr/bin/env node
// transitd: one process per host (serve.ts does the work). For many emulated
// hosts in one process, see host.ts.
import { serveTransitd } from './serve.js';

async function main(): Promise<void> {
  // Whatever this process creates is root-only; the modes are also set explicitly in serve.ts.
  process.umask(0o077);
  const running = await serveTransitd(process.argv.slice(2));
  if (!running) return;
  const stop = () => {
    setTimeout(() => process.exit(0), 3000).unref();
    running.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`transitd: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
