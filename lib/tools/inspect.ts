// `tcp-keepalive inspect <pid>` and inspectProcess(pid): every TCP socket a
// running process holds, with the five keepalive options the kernel holds for
// it, what they mean, and its live state, read from outside the process. It
// sets no option and sends nothing; what copying an fd does to a socket is
// stated once, in docs/live-state.md#what-it-touches.
//
// One native call does it all (src/keepalive_linux.cc): it opens the process
// (pidfd_open), reads its name and owner, lists its fds, copies each fd that
// is a socket (pidfd_getfd, Linux 5.6+), asks the copy whether it is TCP and
// reads it with getsockname and getsockopt only, and closes the copy before
// the next; then it checks that the process is still the one it opened.
import { readFileSync, readlinkSync } from 'node:fs';
import os = require('node:os');
import path = require('node:path');
import { parseArgs } from 'node:util';
import { kernel } from '../kernel';
import { formatAddress } from '../kernel/addresses';
import type { KeepAliveState, PeekError, PeekedProcess, TcpInfo, TcpState } from '../kernel/seam';
import { coded, unsupported, type KeepAliveError } from '../engine/errors';
import { idleDeadPeerMs, unacknowledgedDataMs } from '../engine/detection';
import { formatDuration, plural } from '../engine/durations';
import { integer } from '../engine/options';
import { systemDefaults, type SystemDefaults } from '../engine/plan';

/** One TCP socket of the inspected process. */
export interface InspectedSocket {
  /** Its file descriptor in that process. */
  fd: number;
  /** TCP, or Multipath TCP (a socket made with IPPROTO_MPTCP). */
  protocol: 'TCP' | 'MPTCP';
  family: 'IPv4' | 'IPv6';
  /** As Node writes them (`socket.localAddress`): `127.0.0.1`, `::1`, `::ffff:127.0.0.1` for IPv4 on a dual-stack socket. */
  localAddress: string;
  localPort: number;
  /** `0.0.0.0` or `::` and port 0 when it has no peer: a listening socket, one not connected. */
  remoteAddress: string;
  remotePort: number;
  state: TcpState;
  /** The five options as the kernel holds them for this socket, in ms (as getKeepAlive returns them). */
  keepAlive: KeepAliveState;
  /**
   * Whether idle, interval and count are this host's defaults (the socket set
   * none of its own, or set the same values: the kernel cannot tell which);
   * null when the process is in another network namespace, whose defaults
   * cannot be read from here.
   */
  systemDefaults: boolean | null;
  /** How long a dead idle peer goes unnoticed, ms; null: never, keepalive is off. A listening socket: what its accepted connections start with. */
  idleDeadPeerMs: number | null;
  /**
   * How long unacknowledged data is retransmitted before the socket fails, ms:
   * the user timeout, or else at least what tcp_retries2 gives; null when
   * that depends on the sysctl of another network namespace.
   */
  unacknowledgedDataMs: number | null;
  /** The two above in plain words. */
  meaning: string;
  /** The live state, as getTcpInfo returns it. */
  tcpInfo: TcpInfo;
  /** Only an unreadable socket has one. */
  error?: undefined;
}

/**
 * Why a socket could not be read: a Node-style system error as plain data
 * (it prints as it is in JSON): `message` (`getsockopt ENOTSUP`), `code`,
 * negative `errno`, `syscall`, and for a getsockopt the `option`.
 */
export type InspectSocketError = PeekError;

/**
 * A socket of the inspected process that could not be read, and why. When it
 * failed once it was known to be TCP (reading its options or live state), its
 * protocol and addresses are given too. The other keys of InspectedSocket are
 * absent, so `socket.error === undefined` tells the two apart.
 */
export interface UnreadableSocket
  extends Partial<Pick<InspectedSocket, 'protocol' | 'family' | 'localAddress' | 'localPort' | 'remoteAddress' | 'remotePort'>>,
    Partial<Record<'state' | 'keepAlive' | 'systemDefaults' | 'idleDeadPeerMs' | 'unacknowledgedDataMs' | 'meaning' | 'tcpInfo', undefined>> {
  fd: number;
  error: InspectSocketError;
}

export interface InspectionSummary {
  /** TCP sockets found: connections, listening sockets, sockets not connected and unreadable ones. */
  sockets: number;
  /** Sockets neither listening nor CLOSED. */
  connections: number;
  listening: number;
  /** Sockets in state CLOSED: never connected (unbound, or bound only), or whose connection ended while the process still holds them. */
  notConnected: number;
  /** Sockets that could not be read (each row says why). */
  unreadable: number;
  /** Connections with keepalive off: a dead idle peer is never noticed on those. */
  withoutKeepAlive: number;
  /** The connection that takes longest to notice a dead idle peer (idleDeadPeerMs null: never); null when there are no connections. */
  slowest: { fd: number; idleDeadPeerMs: number | null } | null;
  /** The summary line the command prints. */
  text: string;
}

export interface Inspection {
  pid: number;
  /** The program's name (from argv[0], /proc/<pid>/cmdline). */
  command: string;
  /** TCP sockets in fd order; one that could not be read has `error`. */
  sockets: Array<InspectedSocket | UnreadableSocket>;
  summary: InspectionSummary;
}

/** The process does not exist (any more), or exited during the inspection. */
export const NO_SUCH_PROCESS = 'ERR_INSPECT_NO_SUCH_PROCESS';
/** The kernel refused to let this process read the other's sockets, or /proc hides it. */
export const NOT_PERMITTED = 'ERR_INSPECT_NOT_PERMITTED';

// ---- addresses ----------------------------------------------------------------

// ---- errors -------------------------------------------------------------------

/**
 * The program's name: the last part of argv[0] (/proc/<pid>/cmdline,
 * readable by anyone), as the native call read it before it found the
 * process still running, so that it cannot be a later process's with the
 * same pid. Not /proc/<pid>/comm, the main thread's name, which Node 24 and
 * later set to "MainThread". A program that rewrote its title
 * (redis-server: "redis-server 127.0.0.1:6379") gives its first word.
 */
function processName({ cmdline, comm }: Pick<PeekedProcess, 'cmdline' | 'comm'>): string | undefined {
  const args = cmdline.replace(/\0+$/, '').split('\0');
  const first = args.length === 1 ? args[0]!.split(' ')[0]! : args[0]!;
  if (first !== '') return path.basename(first);
  return comm.trim() || undefined; // a kernel thread, a zombie
}

const CAP_SYS_PTRACE = 19;
function hasPtraceCapability(): boolean {
  try {
    const m = /^CapEff:\s+([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_SYS_PTRACE))) !== 0n;
  } catch {
    return false;
  }
}

function yamaScope(): number | undefined {
  try {
    return Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch {
    return undefined;
  }
}

function noSuchProcess(pid: number, cause?: Error): KeepAliveError {
  return coded(new Error(`There is no process ${pid} (it may have exited)`, cause && { cause }), NO_SUCH_PROCESS);
}

/** Its pidfd says it exited: whatever /proc/<pid> gave since may be a new process's with the same pid. */
function exited(pid: number, cause?: Error): KeepAliveError {
  return coded(
    new Error(`Process ${pid} exited before the inspection was done: nothing read is shown, since its pid may already be another process's`, cause && { cause }),
    NO_SUCH_PROCESS,
  );
}

function describeProcess(pid: number, peeked: PeekedProcess): string {
  const name = processName(peeked);
  const uid = peeked.uid;
  return `process ${pid}${name === undefined ? '' : ` (${name}${uid === undefined ? '' : `, uid ${uid}`})`}`;
}

/** Says exactly why the kernel refused, and what to run instead. */
function notPermitted(pid: number, cause: Error, peeked: PeekedProcess): KeepAliveError {
  const me = process.getuid?.();
  const owner = peeked.uid;
  const root = me === 0;
  const scope = yamaScope();
  const rule =
    'Reading another process\'s sockets (pidfd_getfd) needs the right to ptrace it: the same user ' +
    (scope === undefined ? '' : scope === 0 ? '(kernel.yama.ptrace_scope is 0 here) ' : `(and kernel.yama.ptrace_scope 0; it is ${scope} here, which refuses that) `) +
    'or root / CAP_SYS_PTRACE.';
  let why: string;
  let todo = `Run: sudo tcp-keepalive inspect ${pid}`;
  if (root && !hasPtraceCapability()) {
    why = 'This process runs as root without CAP_SYS_PTRACE (a container drops it by default; a seccomp profile can refuse pidfd_getfd too).';
    todo = 'Run it where CAP_SYS_PTRACE is held: on the host, or in a container started with --cap-add SYS_PTRACE.';
  } else if (root) {
    why =
      'This process runs as root with CAP_SYS_PTRACE, and the kernel still refused: the process is in a user namespace ' +
      "this one does not own (a container's root reaches only its own), or a security module (AppArmor, SELinux, Yama's ptrace_scope 3) forbids it.";
    todo = "Run it as root in the process's own user namespace, or on the host.";
  } else if (me !== undefined && owner !== undefined && me !== owner) {
    why = `It belongs to uid ${owner}, and this process runs as uid ${me}.`;
  } else {
    why =
      'It belongs to this user, but the kernel still refused: kernel.yama.ptrace_scope, a process that changed its user or ' +
      'made itself non-dumpable, or a security module.';
  }
  return coded(new Error(`Not permitted to read the sockets of ${describeProcess(pid, peeked)}. ${why} ${rule} ${todo}`, { cause }), NOT_PERMITTED);
}

/** The options /proc is mounted with (/proc/self/mountinfo), such as `rw,hidepid=invisible`; undefined when unknown. */
function procOptions(): string | undefined {
  try {
    const line = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4] === '/proc')
      .pop(); // the last mounted is the one seen
    return line?.split(' - ')[1]?.split(' ')[2];
  } catch {
    return undefined;
  }
}

/**
 * The process runs (pidfd_open found it) and /proc/<pid> does not exist for
 * this user: /proc is mounted with hidepid (invisible, 2, or ptraceable),
 * which hides other users' processes from those who may not ptrace them, or
 * it is the /proc of another PID namespace.
 */
function hidden(pid: number, cause: Error): KeepAliveError {
  const hidepid = /(?:^|,)hidepid=([^,]+)/.exec(procOptions() ?? '')?.[1];
  const why =
    hidepid === undefined
      ? `/proc/${pid} does not exist here: /proc belongs to another PID namespace, or hides it.`
      : `/proc is mounted with hidepid=${hidepid}, which hides from a user the processes it may not ptrace.`;
  return coded(
    new Error(
      `Not permitted to read the sockets of process ${pid}: it is running, but ${why} ` +
        "Reading another process's sockets (pidfd_getfd) needs the right to ptrace it: the same user or root / CAP_SYS_PTRACE. " +
        `Run: sudo tcp-keepalive inspect ${pid}`,
      { cause },
    ),
    NOT_PERMITTED,
  );
}

function tooOld(cause: Error): KeepAliveError {
  const error = unsupported(
    `reading another process's sockets needs pidfd_open and pidfd_getfd (Linux 5.6 or later), and this kernel (Linux ${os.release()}) ` +
      'does not offer them (too old, or a seccomp filter hides them)',
  );
  error.cause = cause;
  return error;
}

/** The process a thread id belongs to, when `pid` is a thread of another process. */
function threadOf(pid: number): number | undefined {
  try {
    const tgid = Number(/^Tgid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return tgid > 0 && tgid !== pid ? tgid : undefined;
  } catch {
    return undefined;
  }
}

// What a failure to read the process means for the caller.
function explain(pid: number, peeked: PeekedProcess): Error {
  const error = peeked.error;
  if (peeked.exited) return exited(pid, error);
  if (error === undefined) throw new Error('inspect: explain() called without a failure'); // never: the caller checks
  switch (error.code) {
    case 'ESRCH':
      return noSuchProcess(pid, error);
    case 'ENOENT':
    case 'EINVAL': {
      // Still running (else `exited`): /proc hides it from this user.
      if (error.code === 'ENOENT' && error.syscall === 'open') return hidden(pid, error);
      // pidfd_open refuses a thread that does not lead its process (ENOENT
      // on Linux 6.9+, EINVAL before).
      if (error.syscall !== 'pidfd_open') return error;
      const leader = threadOf(pid);
      if (leader !== undefined) {
        return coded(new Error(`${pid} is a thread of process ${leader}, not a process: inspect ${leader}`, { cause: error }), NO_SUCH_PROCESS);
      }
      return error.code === 'ENOENT' ? noSuchProcess(pid, error) : error;
    }
    case 'EACCES':
    case 'EPERM':
      return notPermitted(pid, error, peeked);
    case 'ENOSYS':
      return tooOld(error);
    default:
      return error;
  }
}

// ---- the inspection --------------------------------------------------------------

function ourNetworkNamespace(): string | undefined {
  try {
    return readlinkSync('/proc/self/ns/net');
  } catch {
    return undefined;
  }
}

/** When a dead idle peer is noticed: "never: keepalive is off", "within 50 s", "within 2 h 11 min 15 s: system defaults". */
function noticed(socket: Pick<InspectedSocket, 'idleDeadPeerMs' | 'systemDefaults'>): string {
  if (socket.idleDeadPeerMs === null) return 'never: keepalive is off';
  return `within ${formatDuration(socket.idleDeadPeerMs)}${socket.systemDefaults === true ? ': system defaults' : ''}`;
}

function meaningOf(socket: Pick<InspectedSocket, 'state' | 'keepAlive' | 'idleDeadPeerMs' | 'unacknowledgedDataMs' | 'systemDefaults'>): string {
  const idle = socket.idleDeadPeerMs === null ? noticed(socket) : `a dead idle peer is noticed ${noticed(socket)}`;
  const data =
    socket.unacknowledgedDataMs === null
      ? "unacknowledged data is retransmitted as long as its network namespace's tcp_retries2 allows (no user timeout)"
      : socket.keepAlive.userTimeout > 0
        ? `unacknowledged data is given up after ${formatDuration(socket.unacknowledgedDataMs)}`
        : `unacknowledged data is retransmitted for at least ${formatDuration(socket.unacknowledgedDataMs)} (no user timeout)`;
  const both = `${idle}; ${data}`;
  return socket.state === 'LISTEN' ? `connections it accepts start with this: ${both}` : both;
}

/**
 * Every TCP socket process `pid` holds (IPv4 and IPv6, TCP and MPTCP,
 * connections, listening sockets and sockets not connected, in whatever
 * network namespace each was made): addresses, state, the five keepalive
 * options the kernel holds, what they mean, and the live state (getTcpInfo's).
 * A socket that cannot be read is a row with its `error`. It sets no option
 * and sends nothing; each copied fd is closed as soon as it is read (what a
 * copy does to a socket: docs/live-state.md#what-it-touches). Linux 5.6+; the
 * same user with the right to ptrace the process, or root / CAP_SYS_PTRACE.
 * Synchronous; how long it takes: docs/performance.md#live-state-gettcpinfo-and-inspect.
 */
export function inspectProcess(pid: number): Inspection {
  integer(pid, 'pid', 1, 2_147_483_647);
  if (process.platform !== 'linux') {
    throw unsupported("inspect reads /proc and copies fds with pidfd_getfd, which only Linux has");
  }
  const peeked = kernel.peekProcess(pid);
  if (peeked.error !== undefined || peeked.exited) throw explain(pid, peeked);

  let defaults: SystemDefaults | null = null;
  if (peeked.netns !== undefined && peeked.netns === ourNetworkNamespace()) {
    try {
      defaults = systemDefaults();
    } catch {
      defaults = null;
    }
  }

  const addresses = ({ family, localBytes, localPort, remoteBytes, remotePort }: Identified) => {
    const address = (b: number[]) => formatAddress(family === 'IPv4' ? 4 : 6, b);
    return { family, localAddress: address(localBytes), localPort, remoteAddress: address(remoteBytes), remotePort };
  };
  const sockets = peeked.sockets.map((peek): InspectedSocket | UnreadableSocket => {
    if (peek.error !== undefined) {
      const known = peek.identified;
      return { fd: peek.fd, ...(known && { protocol: known.protocol, ...addresses(known) }), error: peek.error };
    }
    const { fd, protocol, keepAlive, tcpInfo } = peek;
    const socket = {
      fd,
      protocol,
      ...addresses(peek),
      state: tcpInfo.state,
      keepAlive,
      systemDefaults:
        defaults === null
          ? null
          : keepAlive.idle === defaults.idle && keepAlive.interval === defaults.interval && keepAlive.count === defaults.count,
      idleDeadPeerMs: idleDeadPeerMs(keepAlive),
      unacknowledgedDataMs:
        keepAlive.userTimeout === 0 && defaults === null ? null : unacknowledgedDataMs(keepAlive, defaults?.retries2 ?? 0),
      meaning: '',
      tcpInfo,
    };
    socket.meaning = meaningOf(socket);
    return socket;
  });
  return { pid, command: processName(peeked) ?? '', sockets, summary: summarize(sockets) };
}

type Identified = NonNullable<Extract<PeekedProcess['sockets'][number], { error: PeekError }>['identified']>;

const readable = (s: InspectedSocket | UnreadableSocket): s is InspectedSocket => s.error === undefined;

function summarize(all: ReadonlyArray<InspectedSocket | UnreadableSocket>): InspectionSummary {
  const sockets = all.filter(readable);
  const connections = sockets.filter((s) => s.state !== 'LISTEN' && s.state !== 'CLOSED');
  const listening = sockets.filter((s) => s.state === 'LISTEN').length;
  const notConnected = sockets.length - connections.length - listening;
  const unreadable = all.length - sockets.length;
  const off = connections.filter((s) => s.idleDeadPeerMs === null);
  let slowest: InspectedSocket | undefined = off[0];
  if (slowest === undefined) {
    for (const s of connections) if (slowest === undefined || s.idleDeadPeerMs! > slowest.idleDeadPeerMs!) slowest = s;
  }
  let text = `${plural(connections.length, 'connection')}, ${off.length} without keepalive`;
  if (slowest !== undefined) {
    text +=
      slowest.idleDeadPeerMs === null
        ? `; slowest detection of a dead idle peer: never (keepalive off on ${plural(off.length, 'connection')})`
        : `; slowest detection of a dead idle peer: ${formatDuration(slowest.idleDeadPeerMs)} (fd ${slowest.fd}${slowest.systemDefaults === true ? ', system defaults' : ''})`;
  }
  if (listening > 0) text += `; ${plural(listening, 'listening socket')}`;
  if (notConnected > 0) text += `; ${plural(notConnected, 'socket')} not connected (CLOSED)`;
  if (unreadable > 0) text += `; ${plural(unreadable, 'socket')} that could not be read`;
  return {
    sockets: all.length,
    connections: connections.length,
    listening,
    notConnected,
    unreadable,
    withoutKeepAlive: off.length,
    slowest: slowest === undefined ? null : { fd: slowest.fd, idleDeadPeerMs: slowest.idleDeadPeerMs },
    text,
  };
}

// ---- the command ----------------------------------------------------------------

export const INSPECT_HELP = `Usage: tcp-keepalive inspect <pid> [--json]

Shows every TCP socket (IPv4 and IPv6, TCP and MPTCP; connections,
listening sockets and sockets not connected) that process <pid> holds: local
and remote address, state, the keepalive options the kernel holds for it
(SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT),
how long a dead peer would go unnoticed, and the connection's live state
(TCP_INFO: round-trip time, unacknowledged segments, unanswered keepalive
probes, backoff, time since data was last received). A socket that cannot
be read is a row that says why. Then one summary line.

It copies each socket's file descriptor (pidfd_getfd), reads the copy with
getsockname and getsockopt and closes it at once: no option is set and
nothing is sent. What a copy does to a socket all the same:
https://github.com/tcp-keepalive/tcp-keepalive/blob/main/docs/live-state.md#what-it-touches

Needs Linux 5.6 or later, and the right to ptrace the process: the same user
(where kernel.yama.ptrace_scope is 0), or root / CAP_SYS_PTRACE.

Options:
  --json       print one JSON object instead of the table
  -h, --help   show this help

Exit status: 0 inspected; 2 bad arguments (a pid that is not a positive whole
number); 3 no such process (or it exited during the inspection); 4 not
permitted (or /proc hides the process; the message says what to run); 5 not
possible on this system (not Linux, or a kernel without pidfd_getfd).

Examples:
  tcp-keepalive inspect 4242
  sudo tcp-keepalive inspect "$(pidof redis-server)" --json
`;

export const EXIT = { ok: 0, usage: 2, noSuchProcess: 3, notPermitted: 4, unsupported: 5 } as const;

const ms = (v: number) => (v < 1 ? `${v.toFixed(3)} ms` : v < 10 ? `${v.toFixed(1)} ms` : formatDuration(Math.round(v)));
const ago = (v: number) => (v < 1000 ? `${v} ms ago` : `${(v / 1000).toFixed(1)} s ago`);
const hostPort = (address: string, port: number, family: string) => (family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`);

function keepaliveCell(k: KeepAliveState): string {
  if (!k.enable) return 'off';
  return `idle ${formatDuration(k.idle)}, ${k.count} x ${formatDuration(k.interval)}`;
}

function tableOf(inspection: Inspection): string {
  const head = ['FD', 'LOCAL', 'REMOTE', 'STATE', 'KEEPALIVE', 'USER TIMEOUT', 'DEAD IDLE PEER NOTICED', 'RTT', 'UNACKED', 'PROBES', 'BACKOFF', 'LAST RECEIVED'];
  const peer = (s: { remoteAddress?: string; remotePort?: number; family?: string }) =>
    s.remotePort === 0 || s.remotePort === undefined ? '*' : hostPort(s.remoteAddress!, s.remotePort, s.family!);
  const rows = inspection.sockets.map((s) => {
    if (s.error !== undefined) {
      // The fd, the addresses where known, then why, across the other columns.
      const { message, option } = s.error;
      const why = `${s.protocol === 'MPTCP' ? 'MPTCP, ' : ''}cannot be read: ${message}${option === undefined ? '' : ` (${option})`}`;
      return [String(s.fd), s.localPort === undefined ? '?' : hostPort(s.localAddress!, s.localPort, s.family!), s.localPort === undefined ? '?' : peer(s), why];
    }
    const listening = s.state === 'LISTEN';
    const connected = !listening && s.state !== 'CLOSED';
    // A connection still being made has heard nothing yet: no round trip, nothing received.
    const heard = connected && s.state !== 'SYN_SENT';
    const live = s.tcpInfo;
    return [
      String(s.fd),
      hostPort(s.localAddress, s.localPort, s.family),
      peer(s),
      s.protocol === 'MPTCP' ? `${s.state} (MPTCP)` : s.state,
      keepaliveCell(s.keepAlive),
      s.keepAlive.userTimeout === 0 ? 'none' : formatDuration(s.keepAlive.userTimeout),
      listening ? `accepted: ${noticed(s)}` : connected ? noticed(s) : `once connected: ${noticed(s)}`,
      heard ? ms(live.smoothedRtt) : '-',
      listening ? `${live.unackedSegments} queued` : connected ? String(live.unackedSegments) : '-',
      connected ? String(live.unansweredProbes) : '-',
      connected ? String(live.backoff) : '-',
      heard ? ago(live.sinceLastDataReceived) : '-',
    ];
  });
  const all = [head, ...rows];
  // An unreadable row's reason runs on from the STATE column unaligned.
  const widths = head.map((_, i) => Math.max(...all.filter((r) => r.length === head.length || i < r.length - 1).map((r) => r[i]!.length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

function exitFor(error: unknown): number {
  switch ((error as KeepAliveError).code) {
    case NO_SUCH_PROCESS:
      return EXIT.noSuchProcess;
    case NOT_PERMITTED:
      return EXIT.notPermitted;
    case 'ERR_KEEPALIVE_UNSUPPORTED':
      return EXIT.unsupported;
    default:
      return 1;
  }
}

/** The `inspect` command; resolves to the process exit code. */
export function inspectCommand(argv: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    err.write(`tcp-keepalive inspect: ${(error as Error).message} (see tcp-keepalive inspect --help)\n`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    out.write(INSPECT_HELP);
    return EXIT.ok;
  }
  const [given, ...extra] = parsed.positionals;
  if (given === undefined) {
    err.write('tcp-keepalive inspect: which process? Give its pid: tcp-keepalive inspect <pid> (see tcp-keepalive inspect --help)\n');
    return EXIT.usage;
  }
  if (extra.length > 0) {
    err.write(`tcp-keepalive inspect: unexpected argument '${extra[0]}' (one pid at a time; see tcp-keepalive inspect --help)\n`);
    return EXIT.usage;
  }
  if (!/^[1-9]\d{0,9}$/.test(given) || Number(given) > 2_147_483_647) {
    err.write(`tcp-keepalive inspect: '${given}' is not a process id: give a positive whole number, such as the one pidof or pgrep prints\n`);
    return EXIT.usage;
  }
  const pid = Number(given);
  let inspection: Inspection;
  try {
    inspection = inspectProcess(pid);
  } catch (error) {
    err.write(`tcp-keepalive inspect: ${(error as Error).message}\n`);
    return exitFor(error);
  }
  if (parsed.values.json) {
    out.write(`${JSON.stringify(inspection, null, 2)}\n`);
    return EXIT.ok;
  }
  const lines = [`process ${pid} (${inspection.command}): ${plural(inspection.sockets.length, 'TCP socket')}`];
  if (inspection.sockets.length > 0) lines.push('', tableOf(inspection));
  lines.push('', inspection.summary.text);
  out.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}
