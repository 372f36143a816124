#!/usr/bin/env node
// The `xvpc` command line: a table of commands, one file each under src/cli/.
// Exit codes: 0 done, 1 failed, 2 bad command line (one line on stderr).
import { XvpcError } from '../errors.js';
import { checkPrerequisites } from '../util/prereq.js';
import { packageVersion } from '../version.js';
import { type Command, UsageError } from './args.js';
import { captureCommand } from './capture.js';
import { certsCommand } from './certs.js';
import { cleanupCommand } from './cleanup.js';
import { runDemo } from './demo.js';
import { downCommand } from './down.js';
import { epCommand } from './ep.js';
import { execCommand } from './exec.js';
import { flowsCommand } from './flows.js';
import { netCommand } from './net.js';
import { pingallCommand } from './pingall.js';
import { recordsCommand } from './records.js';
import { statsCommand } from './stats.js';
import { upCommand } from './up.js';
import { statusCommand } from './status.js';
import { transitdCommand } from './transitd.js';
import { sgCommand } from './sg.js';
import { vpcCommand } from './vpc.js';

const COMMANDS: Record<string, Command> = {
  demo: {
    summary: 'three droplets, a VPC, two endpoints pinging through the data plane, a security group; then teardown',
    usage: 'xvpc demo [--docker] [--xdp] [--prefix P]   (--xdp: the XDP build instead of the droplets\' default, TC; --prefix: 1-6 of [a-z0-9], default demoNN)',
    example: 'xvpc demo --xdp',
    run: runDemo,
  },
  up: upCommand,
  down: downCommand,
  pingall: pingallCommand,
  exec: execCommand,
  cleanup: cleanupCommand,
  capture: captureCommand,
  flows: flowsCommand,
  certs: certsCommand,
  stats: statsCommand,
  status: statusCommand,
  transitd: transitdCommand,
  vpc: vpcCommand,
  net: netCommand,
  sg: sgCommand,
  ep: epCommand,
  records: recordsCommand,
};

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return `usage: xvpc <command> [options]   (xvpc <command> --help for more; xvpc --version)\n\ncommands:\n${lines.join('\n')}\n\nexample:\n  xvpc demo`;
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(help());
    return 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    console.log(packageVersion());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    // The benchmark left the package (bench/ in the repository): say where it went.
    if (name === 'bench') console.error("xvpc: 'bench' is not part of the package; in a checkout of the repository run: npm run bench -- --help");
    else console.error(`xvpc: unknown command '${name}' (try: xvpc --help)`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: ${command.usage}\n\n${command.summary}\n\nexample:\n  ${command.example}`);
    return 0;
  }
  try {
    // Every command needs root, bpffs and the addon: say so up front, in one line.
    checkPrerequisites();
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof XvpcError && err.code === 'INVALID_ARGUMENT')) {
      console.error(`xvpc ${name}: ${firstLine(err)} (see: xvpc ${name} --help)`);
      return 2;
    }
    console.error(`xvpc ${name}: ${firstLine(err)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`xvpc: ${firstLine(err)}`);
    process.exitCode = 1;
  },
);
