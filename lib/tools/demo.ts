// `tcp-keepalive demo`: makes a peer vanish on the real kernel and shows how
// long Node's built-in keepalive and tcp-keepalive take to notice, and, read
// with getTcpInfo as it happens, what the kernel is doing meanwhile.
import net = require('node:net');
import { deadPeerLine } from '../engine/dead-peer';
import { CHANNEL_NAMES } from '../engine/diagnostics';
import { plural } from '../engine/durations';
import { runtimeName } from '../kernel/node';
import type { TcpInfo } from '../kernel/seam';
import { isUnavailable, outageTools, returnCutUnavailable, runOutage, type OutageResult, type OutageSample, type OutageScenario } from './outage';

type Row = 'idle peer' | 'data in flight';
type Column = 'node' | 'tcp-keepalive';

interface Case {
  row: Row;
  column: Column;
  /** What sets this case apart from the others in its column. */
  detail?: string;
  scenario: OutageScenario;
  /** What must happen for the demo to be telling the truth. */
  expect: 'ETIMEDOUT' | 'open';
  /** Show the socket's getTcpInfo readings as they are taken. */
  watch?: boolean;
}

const CONTROL_WAIT_MS = 8_000;
// Node's own call at its best: where it takes an interval and a count
// (Node 24.21+ and 26; read from the method itself, not guessed from the
// version), they are set to ours, so the comparison is with the best a user
// can do without this library.
const NODE_FOUR_ARGUMENTS = net.Socket.prototype.setKeepAlive.length >= 4;
const NODE = NODE_FOUR_ARGUMENTS
  ? ({ with: 'node', initialDelay: 1000, interval: 1000, count: 2 } as const)
  : ({ with: 'node', initialDelay: 1000 } as const);
const ours = (userTimeout: number) =>
  ({ with: 'tcp-keepalive', options: { idle: 1000, interval: 1000, count: 2, userTimeout } }) as const;
const COUNT = 2;
const USER_TIMEOUT_MS = 2000;

// The idle case is read half-way between probes (they go out at 1 s and 2 s);
// the data in flight twice a second.
const WATCH_IDLE = { firstMs: 500, everyMs: 1000 };
const WATCH_IN_FLIGHT = { firstMs: 500, everyMs: 500 };

// Data in flight: cut only the way back (nftables drops what the peer sends),
// so the request leaves and waits for an ACK that never comes. Without nft,
// a blackhole route as for the idle peer: then the request cannot even leave.
// (Decided when the demo runs: finding out starts processes.)
const demoCases = (inFlightCut: 'return' | 'blackhole'): readonly Case[] => [
  {
    row: 'idle peer',
    column: 'node',
    scenario: { keepalive: NODE, side: 'client', inFlight: false, waitMs: 20_000 },
    expect: 'ETIMEDOUT',
  },
  {
    row: 'idle peer',
    column: 'tcp-keepalive',
    detail: 'userTimeout: 0',
    scenario: { keepalive: ours(0), side: 'client', inFlight: false, waitMs: 20_000, sample: WATCH_IDLE, deadPeerEvents: true },
    expect: 'ETIMEDOUT',
    watch: true,
  },
  {
    row: 'data in flight',
    column: 'node',
    scenario: { keepalive: NODE, side: 'client', inFlight: true, cut: inFlightCut, waitMs: CONTROL_WAIT_MS },
    expect: 'open',
  },
  {
    row: 'data in flight',
    column: 'tcp-keepalive',
    detail: `userTimeout: ${USER_TIMEOUT_MS}`,
    scenario: {
      keepalive: ours(USER_TIMEOUT_MS),
      side: 'client',
      inFlight: true,
      cut: inFlightCut,
      waitMs: 20_000,
      sample: WATCH_IN_FLIGHT,
      deadPeerEvents: true,
    },
    expect: 'ETIMEDOUT',
    watch: true,
  },
];

const DEAD_PEER_CHANNEL = CHANNEL_NAMES.deadPeer;

const at = (ms: number) => `${(ms / 1000).toFixed(1).padStart(4)} s`;

/** One reading of a watched socket, in words. */
function reading(row: Row, info: TcpInfo): string {
  if (row === 'idle peer') {
    return `${info.state}, ${info.unansweredProbes} of ${COUNT} keepalive probes unanswered, nothing received for ${(info.sinceLastDataReceived / 1000).toFixed(1)} s`;
  }
  return (
    `${info.state}, ${plural(info.unackedSegments, 'segment')} unacknowledged, ${plural(info.retransmits, 'retransmission')}, ` +
    `backoff ${info.backoff} (retransmission timeout ${(info.retransmitTimeout / 1000).toFixed(1)} s), ${plural(info.unansweredProbes, 'probe')}`
  );
}

/** Why a watched socket gave up when it did. */
function ending(c: Case, r: OutageResult): string {
  if (r.outcome !== 'error') return describeResult(r);
  if (c.row === 'idle peer') return `${r.code}: ${COUNT} keepalive probes went unanswered, so the kernel gave up`;
  return `${r.code}: the user timeout (${USER_TIMEOUT_MS / 1000} s) ran out with the data still unacknowledged`;
}

const HEADINGS: Record<Column, string> = {
  node: NODE_FOUR_ARGUMENTS ? "Node's socket.setKeepAlive(true, 1000, 1000, 2)" : "Node's socket.setKeepAlive(true, 1000)",
  'tcp-keepalive': 'tcp-keepalive { idle: 1000, interval: 1000, count: 2 }',
};

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function describeResult(r: OutageResult): string {
  if (r.outcome === 'open') return `still open after ${seconds(r.afterMs)}`;
  if (r.outcome === 'error') return `${r.code ?? 'error'} after ${seconds(r.afterMs)}`;
  return `closed after ${seconds(r.afterMs)}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => cell.padEnd(widths[i]!)).join('   ')}`.trimEnd()).join('\n');
}

const name = (c: Case) => `${c.row}, ${HEADINGS[c.column]}${c.detail === undefined ? '' : ` (${c.detail})`}`;
const shortName = (c: Case) => `${c.row} / ${c.column === 'node' ? 'Node' : c.column}`;

export interface DemoIO {
  out: NodeJS.WritableStream & { isTTY?: boolean };
  err: NodeJS.WritableStream;
}

/** Runs the demo; resolves to the process exit code. */
export async function demo(io: DemoIO = { out: process.stdout, err: process.stderr }): Promise<number> {
  const tools = outageTools();
  if (isUnavailable(tools)) {
    io.err.write(
      'tcp-keepalive demo makes a peer vanish inside a private network namespace, and cannot make one here.\n' +
        `  missing: ${tools.missing}\n` +
        `  fix:     ${tools.fix}\n`,
    );
    return 2;
  }
  const say = (line: string) => io.out.write(`${line}\n`);
  say('tcp-keepalive demo: a connection on the real Linux TCP stack loses its peer. How long until the socket knows?');
  say('Each case runs in its own private network namespace. At 0 s the peer vanishes:');
  say('  idle peer: a blackhole route drops every packet to the peer. Nothing is in flight, so only keepalive');
  say(`    probes can find out: each goes unanswered, and after count of them (${COUNT} here) the kernel gives up.`);
  const noReturnCut = returnCutUnavailable();
  const cases = demoCases(noReturnCut === undefined ? 'return' : 'blackhole');
  if (noReturnCut === undefined) {
    say('  data in flight: nftables drops every packet from the peer. A request has left and waits for its ACK, so');
    say('    the kernel sends no keepalive probe: it retransmits, doubling the wait (backoff) each time, for about');
    say('    15 minutes, unless a user timeout (TCP_USER_TIMEOUT) ends it sooner.');
  } else {
    say(`  data in flight: ${noReturnCut.missing} is missing (${noReturnCut.fix}), so a blackhole route again: the request`);
    say('    cannot even leave; it waits unsent while the kernel retries, doubling the wait (backoff) each time,');
    say('    and sends no keepalive probe; only a user timeout (TCP_USER_TIMEOUT) ends that.');
  }
  say('');
  say('The tcp-keepalive sockets, read with getTcpInfo(socket) while it happens, and what a subscriber to');
  say(`${DEAD_PEER_CHANNEL} is told when the kernel gives up:`);

  const start = Date.now();
  const results: Array<OutageResult | undefined> = cases.map(() => undefined);
  // Lines written while the progress line (a TTY) sits at the bottom go above it.
  let progressShown = false;
  const log = (line: string) => {
    if (io.out.isTTY && progressShown) io.out.write(`\r\x1b[K${line}\n${progress()}`);
    else say(line);
  };
  const width = Math.max(...cases.map((c) => c.row.length));
  const runs = cases.map((c, i) =>
    runOutage(c.scenario, c.watch ? (sample: OutageSample) => log(`  ${at(sample.atMs)}  ${c.row.padEnd(width)}  ${reading(c.row, sample.info)}`) : undefined).then((r) => {
      results[i] = r;
      if (c.watch) {
        // What a subscriber to tcp-keepalive:dead-peer was told, just before the socket's 'error'.
        for (const event of r.deadPeers ?? []) if (event.watched) log(`  ${at(r.afterMs)}  ${c.row.padEnd(width)}  ${DEAD_PEER_CHANNEL}: ${deadPeerLine(event)}`);
        log(`  ${at(r.afterMs)}  ${c.row.padEnd(width)}  ${ending(c, r)}`);
      }
      if (!io.out.isTTY) say(`  done: ${name(c)}: ${describeResult(r)}`);
    }),
  );

  // The control case waits on purpose: show that, and count down, rather than look hung.
  const progress = () => {
    const elapsed = (Date.now() - start) / 1000;
    const pending = cases.filter((_, i) => results[i] === undefined);
    const left = Math.max(0, Math.ceil(CONTROL_WAIT_MS / 1000 - elapsed));
    const control = pending.some((c) => c.expect === 'open') && left > 0;
    return (
      `  ${elapsed.toFixed(0).padStart(2)} s: ${cases.length - pending.length} of ${cases.length} cases done` +
      (control ? `; the control case waits ${CONTROL_WAIT_MS / 1000} s for an error that will not come: ${left} s left` : '') +
      (!control && pending.length > 0 ? `; waiting for: ${pending.map(shortName).join(', ')}` : '')
    );
  };
  const ticker = setInterval(() => {
    if (io.out.isTTY) {
      io.out.write(`\r${progress()}\x1b[K`);
      progressShown = true;
    } else say(progress());
  }, io.out.isTTY ? 250 : 2000);
  try {
    await Promise.all(runs);
  } finally {
    clearInterval(ticker);
    if (io.out.isTTY) io.out.write('\r\x1b[K');
  }

  say('');
  const cell = (row: Row, column: Column) => {
    const i = cases.findIndex((c) => c.row === row && c.column === column);
    const c = cases[i]!;
    const result = describeResult(results[i]!);
    if (c.expect === 'open') return `${result}, gave up waiting`;
    return c.detail === undefined ? result : `${result} (${c.detail})`;
  };
  const rows: Row[] = ['idle peer', 'data in flight'];
  say(table([['peer vanished', HEADINGS.node, HEADINGS['tcp-keepalive']], ...rows.map((row) => [row, cell(row, 'node'), cell(row, 'tcp-keepalive')])]));
  say('');
  say('Why: an idle peer is found by keepalive probes, after idle + interval x count (1 + 1 x 2 = 3 s here):');
  say("the readings above are the kernel's own count of unanswered probes, and the socket failed when it reached count.");
  if (NODE_FOUR_ARGUMENTS) say(`${runtimeName()}'s own call takes an interval and a count too, so it finds an idle peer as fast.`);
  else say("Node's own call (two arguments before Node 24.21) sets only the idle time and forces 10 probes 1 s apart (11 s).");
  say('While data waits to be acknowledged the kernel sends no probes (the count above stays 0) and retransmits,');
  say('backoff climbing, for about 15 minutes (tcp_retries2 = 15): only TCP_USER_TIMEOUT bounds that, and Node');
  say('cannot set it, nor read anything back.');

  // A tcp-keepalive socket that died must have told its subscriber, once.
  const wrong = cases.map((c, i) => ({ c, r: results[i]! })).filter(({ c, r }) =>
    c.expect === 'open'
      ? r.outcome !== 'open'
      : r.outcome !== 'error' || r.code !== c.expect || (c.watch === true && r.deadPeers?.filter((e) => e.watched).length !== 1),
  );
  for (const { c, r } of wrong) {
    io.err.write(`unexpected: ${name(c)}: ${describeResult(r)} (expected ${c.expect})\n`);
  }
  return wrong.length === 0 ? 0 : 1;
}
