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

/** A validated configuration in the kernel's units, ready for the seam. */
export interface NativeConfig {
  enable: boolean;
  idleSeconds: number;
  intervalSeconds: number;
  count: number;
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
  /**
   * Applies `config` to a connected socket or a listening server whose
   * `_handle` is `handle`, in one call; throws the error a caller sees.
   */
  apply(target: net.Socket | net.Server, handle: Handle, config: Readonly<NativeConfig>): void;
  /** Reads the five options of the socket or listening server whose `_handle` is `handle`. */
  read(handle: Handle): KeepAliveState;
}
