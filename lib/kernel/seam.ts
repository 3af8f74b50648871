// The one seam between the engine and the kernel. How a configuration reaches
// a socket is chosen once, in ./index.ts: the native addon where it loads
// (./addon.ts), or the runtime's own socket.setKeepAlive where it does not
// (./node.ts: Windows, Deno, a platform without a port). The engine calls
// the interface below and never asks which one it got. Types only.
import type net = require('node:net');

/** The options a caller can give, in the order of the native numbering (src/keepalive.h). */
export type OptionKey = 'enable' | 'idle' | 'interval' | 'count' | 'userTimeout';

/** Which options a way to the kernel can set. */
export type Supported = Readonly<Record<OptionKey, boolean>>;

/** What `getKeepAlive` returns: the kernel's values, converted to milliseconds. */
export interface KeepAliveState {
  enable: boolean;
  idle: number;
  interval: number;
  count: number;
  userTimeout: number;
}

/** A TCP state, named as in RFC 793, whatever number the platform's kernel gives it. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN_SENT'
  | 'SYN_RECEIVED'
  | 'ESTABLISHED'
  | 'FIN_WAIT_1'
  | 'FIN_WAIT_2'
  | 'CLOSE_WAIT'
  | 'CLOSING'
  | 'LAST_ACK'
  | 'TIME_WAIT';

/**
 * What `getTcpInfo` returns: the kernel's live view of one connection, in
 * milliseconds and plain counts. Every object has these keys in this order.
 *
 * On Linux every field is the kernel's (`TCP_INFO`, struct tcp_info). On
 * macOS (`TCP_CONNECTION_INFO`) the kernel reports only `state`,
 * `smoothedRtt`, `rttVariance`, `retransmitTimeout` and `totalRetransmits`;
 * the other keys are there and `undefined`. A listening socket (Linux)
 * reports its state and, in `unackedSegments`, the connections waiting to be
 * accepted; its other fields are 0.
 */
export interface TcpInfo {
  /** The connection's state. Linux, macOS. */
  state: TcpState;
  /** Smoothed round-trip time, ms (Linux: microsecond resolution; macOS: whole ms). Linux, macOS. */
  smoothedRtt: number;
  /** Variance of the round-trip time, ms. Linux, macOS. */
  rttVariance: number;
  /**
   * Retransmission timeout, ms: how long the kernel waits for an ACK before it
   * sends a segment again (doubling with each `backoff`). Linux, macOS (there
   * only while a retransmission is pending, else 0).
   */
  retransmitTimeout: number;
  /**
   * Probes sent since the peer last answered (`tcpi_probes`): keepalive probes
   * on an idle connection; zero-window probes while data waits to be sent.
   * Back to 0 when the peer answers. Linux.
   */
  unansweredProbes: number;
  /** How often the retransmission (or probe) timer has doubled since the last ACK (`tcpi_backoff`). Linux. */
  backoff: number;
  /** Retransmissions of the oldest unacknowledged segment (`tcpi_retransmits`). Linux. */
  retransmits: number;
  /** Retransmitted segments over the connection's life. Linux (`tcpi_total_retrans`), macOS (packets). */
  totalRetransmits: number;
  /** Segments sent and not yet acknowledged (`tcpi_unacked`); on a listening socket, connections waiting to be accepted. Linux. */
  unackedSegments: number;
  /** Milliseconds since data was last sent. Linux. */
  sinceLastDataSent: number;
  /** Milliseconds since data was last received. Linux. */
  sinceLastDataReceived: number;
  /** Milliseconds since an ACK was last received. Linux. */
  sinceLastAckReceived: number;
}

/** One TCP socket of another process, read through a copy of its file descriptor. */
export interface PeekedSocket {
  /** Its file descriptor number in that process. */
  fd: number;
  /** The socket's inode number (as in /proc/<pid>/fd). */
  inode: number;
  /** TCP, or Multipath TCP (IPPROTO_MPTCP). */
  protocol: 'TCP' | 'MPTCP';
  family: 'IPv4' | 'IPv6';
  /** The addresses' bytes in network order: 4 for IPv4, 16 for IPv6; zeros for no peer. */
  localBytes: number[];
  localPort: number;
  remoteBytes: number[];
  remotePort: number;
  keepAlive: KeepAliveState;
  tcpInfo: TcpInfo;
  error?: undefined;
}

/** Why one socket of another process could not be read: a Node-style system error, as plain data. */
export interface PeekError {
  /** As Node writes a system error's: `getsockopt ENOTSUP`. */
  message: string;
  /** `ENOTSUP`, `EMFILE`, ... (util.getSystemErrorName). */
  code: string;
  /** Negative, as in Node's own system errors. */
  errno: number;
  syscall: 'pidfd_getfd' | 'readlink' | 'getsockname' | 'getsockopt';
  /** For a getsockopt: the option (`TCP_USER_TIMEOUT`, `SO_PROTOCOL`, ...). */
  option?: string;
}

/**
 * A socket of another process that could not be read: its fd and why, and,
 * when it failed after it was found to be TCP, its protocol and addresses.
 */
export interface UnreadablePeekedSocket {
  fd: number;
  inode: number;
  identified?: Pick<PeekedSocket, 'protocol' | 'family' | 'localBytes' | 'localPort' | 'remoteBytes' | 'remotePort'>;
  error: PeekError;
}

/** What reading another process found: its name and owner, as read with its sockets, and the sockets. */
export interface PeekedProcess {
  /** The start of /proc/<pid>/cmdline (its arguments, NUL-separated); '' when unreadable. */
  cmdline: string;
  /** /proc/<pid>/comm; '' when unreadable. */
  comm: string;
  /** The real uid that owns it; undefined when unreadable. */
  uid: number | undefined;
  /** Its network namespace, the link /proc/<pid>/ns/net (`net:[4026531840]`); undefined when unreadable. */
  netns: string | undefined;
  /**
   * The process exited during the inspection (its pidfd said so, after
   * everything else was read); `sockets` is then empty, and the name and
   * owner may be another process's.
   */
  exited: boolean;
  /**
   * What stopped the reading of the process as a whole (`pidfd_open ESRCH`,
   * `open EACCES`, ...), with `errno`, `code` and `syscall`; `sockets` is then empty.
   */
  error: (Error & { code: string; errno: number; syscall: string }) | undefined;
  /** In fd order. */
  sockets: Array<PeekedSocket | UnreadablePeekedSocket>;
}

/** A connection's two ends, as the kernel has them. */
export interface Endpoints {
  family: 'IPv4' | 'IPv6';
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
}

/** A validated configuration in the kernel's units, ready for the seam. */
export interface NativeConfig {
  enable: boolean;
  idleSeconds: number;
  intervalSeconds: number;
  count: number;
  /** On a disabling configuration, -1 leaves the kernel's user timeout as it is. */
  userTimeoutMs: number;
  /**
   * Which options the caller gave rather than left to their defaults: bit
   * `1 << i` for the i-th OptionKey. A default the kernel way cannot apply is
   * left to the system; an explicit value it cannot apply is refused.
   */
  given: number;
  /**
   * Set only on the process-wide mode's configuration: how a socket or server
   * that cannot take it is reported, once the call that attached it has
   * returned. The target is the application's, so it is not destroyed and gets
   * no 'error' event for it (lib/integrations/process-wide.ts reports a warning).
   */
  notApplied?: (kind: 'socket' | 'server', error: Error) => void;
}

/**
 * A socket's or server's libuv handle (`_handle`): a TCP, Pipe or TLSWrap.
 * The engine and the addon keep small notes on it under symbols of their own;
 * a new connection gets a new handle, so nothing outlives the connection.
 */
export interface Handle {
  readonly fd?: number;
  setKeepAlive?: unknown;
  close?: unknown;
  onconnection?: unknown;
  [note: symbol]: unknown;
}

/** A way to the kernel: apply, read, and what it can do. */
export interface Kernel {
  /** For diagnostics (`tcp-keepalive doctor`): 'addon', or 'node' for the runtime's own setKeepAlive. */
  readonly name: 'addon' | 'node';
  /** Which options it can set on this build, runtime and Node version. */
  readonly supported: Supported;
  /** Whether it can read the options back. */
  readonly readsBack: boolean;
  /**
   * Whether a listening socket takes the options and every connection it
   * accepts starts with all of them (Linux: yes; macOS: not all; Node's own
   * call: a listening socket cannot be configured at all). Where not, the
   * engine configures each accepted socket itself.
   */
  readonly acceptedSocketsInherit: boolean;
  /** This platform's names for the five options and the protocol check, in the native numbering (for errors). */
  readonly optionNames: readonly string[];
  /** Milliseconds per unit of the kernel's user timeout: 1 on Linux, 1000 (seconds) on macOS. */
  readonly userTimeoutUnitMs: number;
  /** ERR_KEEPALIVE_UNSUPPORTED for explicit options it cannot set (named 'options.x'), saying why. */
  cannotSet(refused: readonly string[]): Error;
  /** ERR_KEEPALIVE_UNSUPPORTED for a read, saying why. */
  cannotRead(): Error;
  /** ERR_KEEPALIVE_UNSUPPORTED for a read of the live state, saying why (where `readsBack` is false). */
  cannotReadTcpInfo(): Error;
  /**
   * Applies `config` to a connected socket or a listening server whose
   * `_handle` is `handle`, in one call; throws the error a caller sees.
   */
  apply(target: net.Socket | net.Server, handle: Handle, config: Readonly<NativeConfig>): void;
  /** Reads the five options of the socket or listening server whose `_handle` is `handle`. */
  read(handle: Handle): KeepAliveState;
  /** Reads the live state of the socket or listening server whose `_handle` is `handle`, in one call. */
  tcpInfo(handle: Handle): TcpInfo;
  /**
   * Reads both ends of the connection whose `_handle` is `handle`, also once
   * the kernel has ended it (Linux), in one call.
   */
  endpoints(handle: Handle): Endpoints;
  /**
   * Reads every TCP socket process `pid` holds, in one call (what that
   * touches: docs/live-state.md#what-it-touches). What it could not read,
   * it says in the result; it throws only where there is no way to read
   * another process (no addon, no port).
   */
  peekProcess(pid: number): PeekedProcess;
}
