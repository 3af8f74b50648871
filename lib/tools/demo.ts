// `tcp-keepalive demo`: makes a peer vanish on the real kernel and shows how
// long Node's built-in keepalive and tcp-keepalive take to notice.
import net = require('node:net');
import { runtimeName } from '../kernel/node';
import { isUnavailable, outageTools, runOutage, type OutageResult, type OutageScenario } from './outage';

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

const DEMO_CASES: readonly Case[] = [
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
    scenario: { keepalive: ours(0), side: 'client', inFlight: false, waitMs: 20_000 },
    expect: 'ETIMEDOUT',
  },
  {
    row: 'data in flight',
    column: 'node',
    scenario: { keepalive: NODE, side: 'client', inFlight: true, waitMs: CONTROL_WAIT_MS },
    expect: 'open',
  },
  {
    row: 'data in flight',
    column: 'tcp-keepalive',
    detail: 'userTimeout: 2000',
    scenario: { keepalive: ours(2000), side: 'client', inFlight: true, waitMs: 20_000 },
    expect: 'ETIMEDOUT',
  },
];

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
  say('Each case runs in its own private network namespace; at 0 s a blackhole route makes the peer vanish.\n');

  const start = Date.now();
  const results: Array<OutageResult | undefined> = DEMO_CASES.map(() => undefined);
  const runs = DEMO_CASES.map((c, i) =>
    runOutage(c.scenario).then((r) => {
      results[i] = r;
      if (!io.out.isTTY) say(`  done: ${name(c)}: ${describeResult(r)}`);
    }),
  );

  // The control case waits on purpose: show that, and count down, rather than look hung.
  const progress = () => {
    const elapsed = (Date.now() - start) / 1000;
    const pending = DEMO_CASES.filter((_, i) => results[i] === undefined);
    const left = Math.max(0, Math.ceil(CONTROL_WAIT_MS / 1000 - elapsed));
    const control = pending.some((c) => c.expect === 'open') && left > 0;
    return (
      `  ${elapsed.toFixed(0).padStart(2)} s: ${DEMO_CASES.length - pending.length} of ${DEMO_CASES.length} cases done` +
      (control ? `; the control case waits ${CONTROL_WAIT_MS / 1000} s for an error that will not come: ${left} s left` : '') +
      (!control && pending.length > 0 ? `; waiting for: ${pending.map(shortName).join(', ')}` : '')
    );
  };
  const ticker = setInterval(() => {
    if (io.out.isTTY) io.out.write(`\r${progress()}\x1b[K`);
    else say(progress());
  }, io.out.isTTY ? 250 : 2000);
  try {
    await Promise.all(runs);
  } finally {
    clearInterval(ticker);
    if (io.out.isTTY) io.out.write('\r\x1b[K');
  }

  say('');
  const cell = (row: Row, column: Column) => {
    const i = DEMO_CASES.findIndex((c) => c.row === row && c.column === column);
    const c = DEMO_CASES[i]!;
    const result = describeResult(results[i]!);
    if (c.expect === 'open') return `${result}, gave up waiting`;
    return c.detail === undefined ? result : `${result} (${c.detail})`;
  };
  const rows: Row[] = ['idle peer', 'data in flight'];
  say(table([['peer vanished', HEADINGS.node, HEADINGS['tcp-keepalive']], ...rows.map((row) => [row, cell(row, 'node'), cell(row, 'tcp-keepalive')])]));
  say('');
  say('Why: an idle peer is found by keepalive probes, after idle + interval x count (1 + 1 x 2 = 3 s here);');
  if (NODE_FOUR_ARGUMENTS) say(`${runtimeName()}'s own call takes an interval and a count too, so it finds an idle peer as fast.`);
  else say("Node's own call (two arguments before Node 24.21) sets only the idle time and forces 10 probes 1 s apart (11 s).");
  say('While data waits to be acknowledged the kernel sends no probes and retransmits for about 15 minutes');
  say('(tcp_retries2 = 15): only TCP_USER_TIMEOUT bounds that, and Node cannot set it, nor read anything back.');

  const wrong = DEMO_CASES.map((c, i) => ({ c, r: results[i]! })).filter(({ c, r }) =>
    c.expect === 'open' ? r.outcome !== 'open' : r.outcome !== 'error' || r.code !== c.expect,
  );
  for (const { c, r } of wrong) {
    io.err.write(`unexpected: ${name(c)}: ${describeResult(r)} (expected ${c.expect})\n`);
  }
  return wrong.length === 0 ? 0 : 1;
}
