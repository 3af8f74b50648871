// `tcp-keepalive doctor`: where this host stands without tcp-keepalive, and
// (with --within) the options that meet a deadline.
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration, plural } from '../engine/durations';
import { idleDeadPeerMs, unacknowledgedDataMs } from '../engine/detection';
import { planKeepAlive, systemDefaults, type SystemDefaults } from '../engine/plan';
import type { KeepAliveOptions } from '../engine/options';
import { internalsInUse, type InternalsInUse } from '../engine/lifecycle';
import { choice, kernel, supportedInWords, type KernelChoice } from '../kernel';
import type { Supported } from '../kernel/seam';

export const DOCTOR_HELP = `Usage: tcp-keepalive doctor [--within <duration>] [--idle-below <duration>] [--json]

Prints this host's TCP keepalive defaults (net.ipv4.tcp_keepalive_time,
tcp_keepalive_intvl, tcp_keepalive_probes, tcp_retries2) and what they mean:
how long a vanished idle peer goes unnoticed, and how long unacknowledged data
can hang before the socket fails. Then how tcp-keepalive reaches the kernel
here: its native addon (which file), or the runtime's own setKeepAlive, what
that can set, and why; and which of Node's internals it found (kHandle,
owner_symbol, kSetKeepAlive), and the slower path it takes where one is missing.

Options:
  --within <duration>      plan options that notice a dead peer, idle or with
                           data in flight, within this deadline (at least 2s),
                           and print the line of code that applies them
  --idle-below <duration>  with --within: the idle timeout of a NAT or load
                           balancer on the path; no probe gap will reach it
  --json                   print one JSON object instead of text
  -h, --help               show this help

Durations: 30s, 5m, 1h, 1500ms, or a plain number of milliseconds.

Examples:
  tcp-keepalive doctor
  tcp-keepalive doctor --within 30s --idle-below 240s
`;

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last]!.length + 1 + word.length <= width) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '_');

export function codeLine(plan: Required<KeepAliveOptions>): string {
  return (
    `setKeepAlive(socket, { idle: ${grouped(plan.idle)}, interval: ${grouped(plan.interval)}, ` +
    `count: ${plan.count}, userTimeout: ${grouped(plan.userTimeout)} });`
  );
}

export interface DoctorReport {
  system: SystemDefaults;
  /** How long a vanished idle peer goes unnoticed on a socket with SO_KEEPALIVE on, ms. */
  idleDeadPeerMs: number;
  /** The shortest time unacknowledged data is retransmitted before the socket fails, ms. */
  unacknowledgedDataMs: number;
  /** With --within: the options that meet the deadline and the line of code that applies them; otherwise null. */
  plan: { detectWithin: number; idleBelow?: number; options: Required<KeepAliveOptions>; code: string } | null;
  /** How tcp-keepalive reaches the kernel in this process, what it can set, and why (the addon, or the fallback). */
  kernel: KernelChoice & { supported: Supported };
  /** Which of Node's internals tcp-keepalive found in this process, and what it does instead where one is missing. */
  internals: InternalsInUse;
}

export function doctorReport(detectWithin?: number, idleBelow?: number): DoctorReport {
  const system = systemDefaults();
  // A socket with SO_KEEPALIVE on and no options of its own: the host's, and no user timeout.
  const plain = { enable: true, idle: system.idle, interval: system.interval, count: system.count, userTimeout: 0 };
  const report: DoctorReport = {
    system,
    idleDeadPeerMs: idleDeadPeerMs(plain)!,
    unacknowledgedDataMs: unacknowledgedDataMs(plain, system.retries2),
    plan: null,
    kernel: { ...choice, supported: kernel.supported },
    internals: internalsInUse(),
  };
  if (detectWithin !== undefined) {
    const options = planKeepAlive(idleBelow === undefined ? { detectWithin } : { detectWithin, idleBelow });
    report.plan = { detectWithin, ...(idleBelow === undefined ? {} : { idleBelow }), options, code: codeLine(options) };
  }
  return report;
}

function text(r: DoctorReport): string {
  const s = r.system;
  const rows = [
    ['net.ipv4.tcp_keepalive_time', `${s.idle / 1000} s`, 'idle time before the first probe'],
    ['net.ipv4.tcp_keepalive_intvl', `${s.interval / 1000} s`, 'between unanswered probes'],
    ['net.ipv4.tcp_keepalive_probes', `${s.count}`, 'unanswered probes before the connection is dropped'],
    ['net.ipv4.tcp_retries2', `${s.retries2}`, 'retransmissions of unacknowledged data before giving up'],
  ];
  const w0 = Math.max(...rows.map((x) => x[0]!.length));
  const w1 = Math.max(...rows.map((x) => x[1]!.length));
  const lines = [
    "This host's TCP keepalive defaults (for this network namespace):",
    '',
    ...rows.map(([a, b, c]) => `  ${a!.padEnd(w0)}  ${b!.padStart(w1)}  ${c}`),
    '',
    'What that means for a socket that sets nothing itself:',
    `  - A peer that vanishes while the connection is idle goes unnoticed for ${formatDuration(r.idleDeadPeerMs)}`,
    `    (${s.idle / 1000} s + ${s.count} x ${s.interval / 1000} s), and only if the socket turned SO_KEEPALIVE on; otherwise forever.`,
    `  - Data the peer never acknowledges is retransmitted for at least ${formatDuration(r.unacknowledgedDataMs)}`,
    `    (about ${(r.unacknowledgedDataMs / 60_000).toFixed(1)} minutes: tcp_retries2 = ${s.retries2}, the retransmission timeout`,
    '    doubling from 200 ms up to 120 s) before the socket fails. Keepalive probes do not help here.',
    "  - Node's socket.setKeepAlive(true, ms) changes only the idle time, for one socket (and forces 10",
    '    probes 1 s apart); it cannot shorten the retransmissions. TCP_USER_TIMEOUT can.',
  ];
  if (r.plan) {
    const p = r.plan.options;
    lines.push(
      '',
      `To notice a dead peer within ${formatDuration(r.plan.detectWithin)}` +
        (r.plan.idleBelow === undefined ? '' : `, with no idle gap of ${formatDuration(r.plan.idleBelow)} or more`) +
        ':',
      `  idle ${formatDuration(p.idle)}, then ${plural(p.count, 'probe')} ${formatDuration(p.interval)} apart: ` +
        `an idle dead peer is dropped after ${formatDuration(p.idle + p.interval * p.count)};`,
      `  unacknowledged data is given up after ${formatDuration(p.userTimeout)} (userTimeout).`,
      '',
      `  ${r.plan.code}`,
    );
  } else {
    lines.push('', 'For options that meet a deadline: tcp-keepalive doctor --within 30s [--idle-below 240s]');
  }
  const k = r.kernel;
  lines.push('', `How tcp-keepalive reaches the kernel here (${k.platform}, ${k.runtime}):`);
  if (k.way === 'addon') {
    lines.push(`  its native addon, ${k.addon}: all five options, set and read back.`);
    if (k.reason !== null) lines.push('  Passed over:', ...wrap(k.reason, 96).map((line) => `    ${line}`));
  }
  else {
    lines.push(
      `  ${k.runtime}'s own socket.setKeepAlive (the fallback), which sets ${supportedInWords(kernel)},`,
      '  and reads nothing back, because:',
      ...wrap(k.reason ?? '', 96).map((line) => `    ${line}`),
    );
  }
  const internals = Object.entries(r.internals);
  const found = internals.filter(([, i]) => i.found).map(([name]) => name);
  const missing = internals.filter(([, i]) => !i.found);
  if (missing.length === 0) lines.push('', `Node internals: ${found.join(', ')} found (fast path).`);
  else {
    lines.push('', `Node internals: ${found.length === 0 ? 'none' : found.join(', ')} found; ${missing.map(([name]) => name).join(', ')} not found (slower path):`);
    // Two missing ones may share their way around.
    for (const instead of new Set(missing.map(([, i]) => i.instead!))) lines.push(...wrap(instead, 96).map((line) => `    ${line}`));
  }
  return `${lines.join('\n')}\n`;
}

const DURATION_OPTIONS = ['--within', '--idle-below'];

// parseArgs calls `--within -5s` "ambiguous", since the value looks like an
// option. A duration never starts with '--', so a value that does not is
// joined to its option (`--within=-5s`) and parseDuration says what is wrong;
// one that does means the duration is missing.
function joinDurations(argv: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (DURATION_OPTIONS.includes(arg)) {
      if (next === undefined || next.startsWith('--')) throw new Error(`${arg} needs a duration: 30s, 5m, 1h, 1500ms or whole milliseconds`);
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

// A bare number is milliseconds: `--within 30` is 30 ms, so say so.
const unitHint = (text: string | undefined): string =>
  text !== undefined && /^\d+$/.test(text.trim())
    ? `: a plain number is milliseconds; ${text.trim()} seconds is ${text.trim()}s`
    : '';

/** Runs the command; returns the exit code. */
export function doctor(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let values: { within?: string; 'idle-below'?: string; json?: boolean; help?: boolean };
  try {
    const parsed = parseArgs({
      args: joinDurations(argv),
      options: {
        within: { type: 'string' },
        'idle-below': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
      tokens: true,
    });
    // parseArgs keeps the last of a repeated option: which one was meant is a guess, so ask.
    const seen = new Set<string>();
    for (const token of parsed.tokens) {
      if (token.kind !== 'option') continue;
      if (seen.has(token.name)) throw new Error(`--${token.name} is given more than once; give it once`);
      seen.add(token.name);
    }
    values = parsed.values;
  } catch (error) {
    const first = (error as Error).message.split('\n')[0]!.replace(/\.$/, '');
    err.write(`tcp-keepalive doctor: ${first} (see --help)\n`);
    return 2;
  }
  if (values.help) {
    out.write(DOCTOR_HELP);
    return 0;
  }
  let within: number | undefined;
  let idleBelow: number | undefined;
  try {
    if (values['idle-below'] !== undefined && values.within === undefined) throw new Error('--idle-below needs --within');
    if (values.within !== undefined) within = parseDuration(values.within);
    if (values['idle-below'] !== undefined) idleBelow = parseDuration(values['idle-below']);
  } catch (error) {
    err.write(`tcp-keepalive doctor: ${(error as Error).message}\n`);
    return 2;
  }
  let report: DoctorReport;
  try {
    report = doctorReport(within, idleBelow);
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code === 'ERR_OUT_OF_RANGE' && e.message.includes('goal.detectWithin')) {
      err.write(`tcp-keepalive doctor: --within must be at least 2s (got ${values.within}${unitHint(values.within)})\n`);
      return 2;
    }
    if (e.code === 'ERR_OUT_OF_RANGE' && e.message.includes('goal.idleBelow')) {
      const got = values['idle-below'];
      err.write(`tcp-keepalive doctor: --idle-below must be more than 1s (got ${got}${unitHint(got)})\n`);
      return 2;
    }
    err.write(`tcp-keepalive doctor: ${e.message}\n`);
    return 1;
  }
  out.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : text(report));
  return 0;
}
