#!/usr/bin/env node
// The `tcp-keepalive` command.
import { readFileSync } from 'node:fs';
import path = require('node:path');
import { demo } from './demo';
import { doctor } from './doctor';
import { inspectCommand } from './inspect';

const HELP = `Usage: tcp-keepalive <command>

Commands:
  demo     make a peer vanish on the real kernel (in a private network
           namespace, no root needed) and show how long Node's built-in
           keepalive and tcp-keepalive take to notice
  doctor   this host's keepalive defaults and what they mean; with
           --within 30s, the options that notice a dead peer in time
           (tcp-keepalive doctor --help for more)
  inspect  every TCP connection of a running process: its keepalive
           options, how long a dead peer would go unnoticed, and its
           live state (tcp-keepalive inspect <pid>; --help for more)
  help     show this help

Options:
  -h, --help       show this help
  -v, --version    print the version of tcp-keepalive
`;

const DEMO_HELP = `Usage: tcp-keepalive demo

Makes a peer vanish on the real Linux TCP stack and times how long a socket
takes to find out: Node's socket.setKeepAlive(true, 1000) (on Node 24.21+
and 26: (true, 1000, 1000, 2)) against tcp-keepalive
{ idle: 1000, interval: 1000, count: 2 }, with the connection idle and with
data in flight. Each case runs in its own private network namespace
(unshare --user --net: no root needed, nothing on this host is touched). For
the idle peer a blackhole route drops everything sent to it; for data in
flight nftables drops everything it sends back, so the request leaves and is
never acknowledged (without nft, a blackhole route again, and the request
cannot even leave). While it runs, the tcp-keepalive sockets are read with
getTcpInfo: the unanswered keepalive probes of the idle one, the
retransmissions and backoff of the other. Takes about 12 s on Node 20 and 22
(Node's own idle case needs 11 s there) and about 8.5 s on Node 24.21+ and
26 (the control case waits 8 s).

Needs Linux, unshare (util-linux), ip (iproute2) and unprivileged user
namespaces; nft (nftables) for data really in flight. Exit status: 0 when
every case came out as expected, 1 when one did not, 2 when the demo cannot
run here (the message says why).
`;

// dist/tools/ (or lib/tools/) sits two levels below the package root.
const version = (): string =>
  (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (command === 'demo') {
    if (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h')) {
      process.stdout.write(DEMO_HELP);
      return 0;
    }
    if (rest.length > 0) {
      process.stderr.write(`tcp-keepalive demo: unexpected argument '${rest[0]}' (see tcp-keepalive demo --help)\n`);
      return 2;
    }
    return demo();
  }
  if (command === 'doctor') return doctor(rest, process.stdout, process.stderr);
  if (command === 'inspect') return inspectCommand(rest, process.stdout, process.stderr);
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
