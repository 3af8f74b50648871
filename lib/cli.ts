#!/usr/bin/env node
// The `tcp-keepalive` command.
import { demo } from './demo';
import { doctor } from './doctor';

const HELP = `Usage: tcp-keepalive <command>

Commands:
  demo     make a peer vanish on the real kernel (in a private network
           namespace, no root needed) and show how long Node's built-in
           keepalive and tcp-keepalive take to notice
  doctor   this host's keepalive defaults and what they mean; with
           --within 30s, the options that notice a dead peer in time
           (tcp-keepalive doctor --help for more)
  help     show this help
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === 'demo') {
    if (rest.length > 0) {
      process.stderr.write(`tcp-keepalive demo: unexpected argument '${rest[0]}' (see tcp-keepalive --help)\n`);
      return 2;
    }
    return demo();
  }
  if (command === 'doctor') return doctor(rest, process.stdout, process.stderr);
  process.stderr.write(`tcp-keepalive: unknown command '${command}' (see tcp-keepalive --help)\n`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`tcp-keepalive: ${error.message}\n`);
    process.exitCode = 1;
  },
);
