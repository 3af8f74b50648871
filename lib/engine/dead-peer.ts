// The moment keepalive exists for: the kernel gives up on a silent peer and
// fails the connection with ETIMEDOUT. For a connection this library
// configured, the `tcp-keepalive:dead-peer` channel (./diagnostics.ts) is
// told which peer it was, which of the kernel's timers ended it, how long the
// peer had been silent, and what the configuration promised, from the
// kernel's own account (TCP_INFO), read before the socket is closed.
//
// Nothing here runs unless the channel has subscribers; the hook that calls
// it (lifecycle.ts, a wrapper of net.Socket.prototype._destroy) adds nothing
// to the socket.
import type net = require('node:net');
import { kernel } from '../kernel';
import type { Endpoints, Handle, KeepAliveState, NativeConfig, TcpInfo } from '../kernel/seam';
import { idleDeadPeerMs, unacknowledgedDataMs } from './detection';
import { deadPeer } from './diagnostics';
import { formatDuration, plural } from './durations';
import { systemDefaults } from './plan';

/**
 * Which timer of the kernel ended the connection:
 * - `keepalive`: the connection was idle and its keepalive probes went unanswered;
 * - `userTimeout`: sent data stayed unacknowledged for `userTimeout`;
 * - `retransmissions`: sent data stayed unacknowledged through every
 *   retransmission the system allows (net.ipv4.tcp_retries2), with no user timeout.
 */
export type DeadPeerCause = 'keepalive' | 'userTimeout' | 'retransmissions';

/** The message published on `tcp-keepalive:dead-peer`. Times in milliseconds. */
export interface DeadPeer {
  /** The socket, destroyed with `error` right after this message. */
  readonly socket: net.Socket;
  /** The error it is destroyed with (`code: 'ETIMEDOUT'`). */
  readonly error: Error;
  /** 'IPv4' or 'IPv6'. */
  readonly family: 'IPv4' | 'IPv6';
  readonly localAddress: string;
  readonly localPort: number;
  /** The peer that went silent (read from the kernel, which still has it: `getpeername` no longer answers). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The configuration in force, as set (the kernel's own defaults where it left one to them). */
  readonly configuration: KeepAliveState;
  readonly cause: DeadPeerCause;
  /** Probes sent and left unanswered (`tcpi_probes`): keepalive probes, or, while data waited unsent, the probes for it. */
  readonly probesSent: number;
  /** How long the peer had sent nothing, not even an ACK, when the kernel gave up (the time the keepalive timer measures). */
  readonly silentFor: number;
  /**
   * How long data had waited unacknowledged: the time since the peer last
   * acknowledged anything (`tcpi_last_ack_recv`; the kernel reports no
   * earlier moment), while it retransmitted; 0 when nothing was in flight.
   */
  readonly unackedFor: number;
  /**
   * What the configuration promised for this cause: for `keepalive`, the
   * time after the peer was last heard by which an idle dead peer is noticed
   * (`idle + interval × count`, or as the user timeout shortens it); else how
   * long unacknowledged data is retransmitted (`userTimeout`, or the
   * system's retransmissions: null where net.ipv4.tcp_retries2 cannot be read).
   */
  readonly budget: number | null;
  /** The kernel's own figures, read before the socket was closed (its state is then `CLOSED`). */
  readonly tcpInfo: TcpInfo;
}

const inMs = (config: Readonly<NativeConfig>): KeepAliveState => ({
  enable: config.enable,
  idle: config.idleSeconds * 1000,
  interval: config.intervalSeconds * 1000,
  count: config.count,
  userTimeout: config.userTimeoutMs,
});

let warned = false;
/**
 * The socket is being destroyed with its error whatever happens here: what
 * kept it from being told on the channel is said once, in a warning, and
 * never thrown into Node's destroy (which would put it in the error's place).
 */
export function deadPeerUnread(error: Error): void {
  if (warned) return;
  warned = true;
  process.emitWarning(`tcp-keepalive could not read a dead connection for its dead-peer event (${error.message}); further such failures are not reported`, {
    code: 'TCP_KEEPALIVE_DEAD_PEER_UNREAD',
  });
}

/** net.ipv4.tcp_retries2, or NaN where it cannot be read. */
function retries2(): number {
  try {
    return systemDefaults().retries2;
  } catch {
    return Number.NaN;
  }
}

/**
 * The kernel keeps these times in jiffies (a jiffy is 10 ms at most, HZ=100).
 * The handshake stamps the last ACK received and then the last data sent in
 * one pass, which can straddle a tick: a connection that never sent data may
 * read one jiffy of data sent after the last ACK (seen in CI, under load).
 */
const ONE_JIFFY_MS = 10;

/**
 * Whether data was waiting when the kernel gave up. Retransmitted data, or
 * data probed for with a timer that backs off (keepalive probes never back
 * off), says so; and data sent after the peer was last heard from was never
 * acknowledged: on a connection that died idle, whatever was sent last was
 * acknowledged after it, so the time since data was sent is the longer one.
 * (Data that could not leave at all, as behind a local route that fails,
 * shows only that: it is probed for at a fixed interval, without backoff.
 * Sent within a jiffy of the last ACK, it reads as idle.)
 */
const dataWaited = (info: TcpInfo): boolean =>
  info.retransmits > 0 || info.backoff > 0 || info.sinceLastAckReceived - info.sinceLastDataSent > ONE_JIFFY_MS;

/** Why the kernel gave up, by its own account: keepalive probes on an idle connection, or data that waited. */
function causeOf(info: TcpInfo, state: KeepAliveState, waited: boolean): DeadPeerCause {
  if (!waited && info.unansweredProbes > 0) return 'keepalive';
  return state.userTimeout > 0 ? 'userTimeout' : 'retransmissions';
}

/**
 * Publishes a DeadPeer for `socket`, about to be destroyed with `error`,
 * when the error is the kernel's ETIMEDOUT, the socket holds `config` (one
 * of ours) and someone subscribes. Never throws: a socket that cannot be
 * read any more is passed over, with one warning (deadPeerUnread).
 */
export function publishDeadPeer(socket: net.Socket, handle: Handle, config: Readonly<NativeConfig>, error: Error): void {
  const channel = deadPeer();
  // Linux's TCP_INFO tells keepalive probes from retransmissions; macOS's
  // TCP_CONNECTION_INFO and the fallback do not.
  if (!channel.hasSubscribers || !kernel.readsBack || process.platform !== 'linux') return;
  let info: TcpInfo;
  let ends: Endpoints;
  try {
    info = kernel.tcpInfo(handle);
    // Only the kernel's own verdict: it closed the connection. An ETIMEDOUT
    // that code made up and destroyed a live socket with is not a dead peer
    // (and its ends are not read).
    if (info.state !== 'CLOSED') return;
    ends = kernel.endpoints(handle);
  } catch (readError) {
    deadPeerUnread(readError as Error);
    return;
  }
  const configuration = inMs(config);
  const inFlight = dataWaited(info);
  const cause = causeOf(info, configuration, inFlight);
  const budget = cause === 'keepalive' ? idleDeadPeerMs(configuration) : unacknowledgedDataMs(configuration, cause === 'retransmissions' ? retries2() : 0);
  const message: DeadPeer = {
    socket,
    error,
    ...ends,
    configuration,
    cause,
    probesSent: info.unansweredProbes,
    silentFor: Math.min(info.sinceLastDataReceived, info.sinceLastAckReceived),
    unackedFor: inFlight ? info.sinceLastAckReceived : 0,
    budget: budget === null || Number.isNaN(budget) ? null : budget,
    tcpInfo: info,
  };
  channel.publish(message);
}

const endpoint = (address: string, port: number, family: 'IPv4' | 'IPv6') => (family === 'IPv6' ? `[${address}]:${port}` : `${address}:${port}`);

/**
 * A DeadPeer in one line, for a log (register's TCP_KEEPALIVE=...,log=dead-peer)
 * and the demo: "dead peer 10.0.0.7:6379 (from 10.0.0.2:51234): keepalive,
 * 3 probes unanswered, silent for 50.1 s; the configuration promised 50 s".
 */
export function deadPeerLine(event: Omit<DeadPeer, 'socket' | 'error'>): string {
  const what =
    event.cause === 'keepalive'
      ? `keepalive, ${plural(event.probesSent, 'probe')} unanswered, silent for ${formatDuration(event.silentFor)}`
      : `${event.cause === 'userTimeout' ? 'user timeout' : 'retransmissions'}, data unacknowledged for ${formatDuration(event.unackedFor)}`;
  const promised =
    event.budget === null
      ? 'the system does not say how long it retransmits'
      : `${event.cause === 'retransmissions' ? 'the system allows' : 'the configuration promised'} ${formatDuration(event.budget)}`;
  return (
    `dead peer ${endpoint(event.remoteAddress, event.remotePort, event.family)} ` +
    `(from ${endpoint(event.localAddress, event.localPort, event.family)}): ${what}; ${promised}`
  );
}
