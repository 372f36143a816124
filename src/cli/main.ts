#!/usr/bin/env node
// The `xvpc` command line.
import { runDemo } from './demo.js';

const USAGE = `usage: xvpc <command> [options]

commands:
  demo      run the demo: droplets, a VPC, endpoints that ping through XDP
  help      this text

example:
  xvpc demo`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'demo':
      return runDemo(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`xvpc: unknown command '${command}' (try: xvpc --help)`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`xvpc: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
