// The one place the native addon is loaded. Everything else imports the typed
// `binding` from here, so no untyped value leaks out of the addon.
import path = require('node:path');
import { markAsUntransferable } from 'node:worker_threads';
import type { NativeConfig } from './options';

/** What a native call reports when a syscall failed (success is `undefined`). */
export interface NativeFailure {
  /** Negative errno, captured right after the failing syscall. */
  readonly errno: number;
  /** Index into OPTION_NAMES. */
  readonly option: number;
  readonly syscall: 'setsockopt' | 'getsockopt';
  /** The kernel confirmed (SO_PROTOCOL / ENOTSOCK) that the fd is not a TCP socket. */
  readonly notTcp: boolean;
}

export interface Binding {
  /**
   * SO_KEEPALIVE=1 with all four TCP-level options, in kernel units, taken
   * from slots: [idleSeconds, intervalSeconds, count, userTimeoutMs].
   */
  enable(fd: number): NativeFailure | undefined;
  /** SO_KEEPALIVE=0 on a TCP socket; nothing else changes. */
  disable(fd: number): NativeFailure | undefined;
  /** On success fills slots with [enable, idleSeconds, intervalSeconds, count, userTimeoutMs]. */
  read(fd: number): NativeFailure | undefined;
  /** The addon's own five int32s that carry option values both ways (src/binding.cc). */
  readonly slots: Int32Array<ArrayBuffer>;
  /** Bit `1 << i` is set when OPTION_NAMES[i] can be set and read on this build. */
  readonly supportedOptions: number;
}

/** The native option numbering (src/keepalive.h `Option`). */
export const OPTION_NAMES = [
  'SO_KEEPALIVE',
  'TCP_KEEPIDLE',
  'TCP_KEEPINTVL',
  'TCP_KEEPCNT',
  'TCP_USER_TIMEOUT',
  'SO_PROTOCOL',
] as const;

// node-gyp-build ships no types; its whole API is this one function.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

// lib/ and dist/ both sit one level below the package root, where binding.gyp
// and prebuilds/ are.
export const binding = load(path.join(__dirname, '..')) as Binding;

// The addon reads and writes this memory directly. Detaching it (by
// transferring it in a postMessage or structuredClone) would pull it from
// under the addon; marked untransferable, such calls copy it instead.
const slots = binding.slots;
markAsUntransferable(slots.buffer);

/** Applies an enabling configuration: one native call. */
export function enable(fd: number, config: Readonly<NativeConfig>): NativeFailure | undefined {
  slots[0] = config.idleSeconds;
  slots[1] = config.intervalSeconds;
  slots[2] = config.count;
  slots[3] = config.userTimeoutMs;
  return binding.enable(fd);
}

