#!/usr/bin/env node
// The `xvpc` command line.
import { cleanupAll } from '../droplet/index.js';
import { runDemo } from './demo.js';

interface Command { summary: string; usage: string; example: string; run(args: string[]): Promise<number> }

const COMMANDS: Record<string, Command> = {
  demo: {
    summary: 'three droplets, a VPC, two endpoints pinging through XDP; then teardown',
    usage: 'xvpc demo [--docker]',
    example: 'xvpc demo',
    run: runDemo,
  },
  cleanup: {
    summary: 'remove what crashed runs left behind (namespaces, containers, pins, transitds)',
    usage: 'xvpc cleanup [--prefix P]',
    example: 'xvpc cleanup --prefix xt1',
    async run(args) {
      const i = args.indexOf('--prefix');
      if (i >= 0 && !args[i + 1]) throw new UsageError('--prefix needs a value');
      const extra = args.filter((a, j) => j !== i && j !== i + 1);
      if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
      const summary = await cleanupAll(i >= 0 ? args[i + 1] : undefined);
      const parts = Object.entries(summary).filter(([k]) => k !== 'prefixes').map(([k, v]) => `${(v as unknown[]).length} ${k}`);
      console.log(`removed ${parts.join(', ')} (prefixes: ${summary.prefixes.join(', ') || 'none'})`);
      return 0;
    },
  },
};

class UsageError extends Error {}

function help(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`);
  return `usage: xvpc <command> [options]   (xvpc <command> --help for more)\n\ncommands:\n${lines.join('\n')}\n\nexample:\n  xvpc demo`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(help());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`xvpc: unknown command '${name}' (try: xvpc --help)`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: ${command.usage}\n\n${command.summary}\n\nexample:\n  ${command.example}`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`xvpc ${name}: ${err.message} (usage: ${command.usage})`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    console.error(`xvpc: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
