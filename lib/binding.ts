// The one place the native addon is loaded. Everything else imports the typed
// `binding` from here, so no untyped value leaks out of the addon.
import { existsSync } from 'node:fs';
import path = require('node:path');
import { markAsUntransferable } from 'node:worker_threads';
import { coded } from './coded';
import type { NativeConfig } from './options';

/** What a native call reports when a syscall failed (success is `undefined`). */
export interface NativeFailure {
  /**
   * Negative errno, captured right after the failing syscall; 0 when no
   * syscall failed and the kernel's answer showed the socket is not TCP.
   */
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
  /**
   * This platform's names for the settings, in the native numbering
   * (src/keepalive.h `Option`): Linux's TCP_KEEPIDLE is macOS's TCP_KEEPALIVE.
   */
  readonly optionNames: readonly string[];
  /** Milliseconds per unit of the kernel's user timeout: 1 on Linux, 1000 (seconds) on macOS. */
  readonly userTimeoutUnitMs: number;
  /**
   * Whether a connection accepted by a listening socket starts with all the
   * listener's options: on Linux yes; on macOS not its idle time or user timeout.
   */
  readonly acceptedSocketsInherit: boolean;
}

// node-gyp-build ships no types: it loads the addon found in a folder's
// build/Release or prebuilds/<platform>-<arch>, and resolve says which file
// that would be (or throws).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as ((dir: string) => unknown) & { resolve(dir: string): string };

/** No addon where the package keeps it, nor beside a bundle: the error says what to do. */
export const ADDON_NOT_FOUND = 'ERR_KEEPALIVE_ADDON_NOT_FOUND';

// Installed, lib/ and dist/ sit one level below the package root, where
// build/ and prebuilds/ are. A bundler (esbuild, webpack, ncc) moves this
// code into the bundle's folder, which is then `__dirname`; an ES module
// bundle has no `__dirname`, and there the folder of the script node runs
// stands in. A prebuilds/ copied into that folder is found there.
function loadAddon(): unknown {
  const here = typeof __dirname === 'string' ? __dirname : path.dirname(path.resolve(process.argv[1] ?? ''));
  const root = path.join(here, '..');
  let notFound: unknown;
  for (const dir of [root, here]) {
    try {
      load.resolve(dir);
    } catch (error) {
      notFound ??= error;
      continue;
    }
    return load(dir); // found: a failure to load it is its own error
  }
  const platform = `${process.platform}-${process.arch}`;
  const missing = `tcp-keepalive: no native addon for ${platform} (Node ${process.versions.node})`;
  // The package ships binding.gyp beside build/ and prebuilds/; a bundle's parent folder has none.
  const installed = existsSync(path.join(root, 'binding.gyp'));
  const message = installed
    ? `${missing} in ${path.join(root, 'build', 'Release')} or ${path.join(root, 'prebuilds', platform)}.\n` +
      'Where no prebuild fits, npm install builds it from source, which needs python3, make and a C++ compiler; ' +
      'install those, then run npm rebuild tcp-keepalive (it shows the compiler output). ' +
      'An install with --ignore-scripts skips that build, and npm 12 skips it until it is approved: ' +
      'npm install-scripts approve tcp-keepalive.'
    : `${missing} beside this bundle, in ${path.join(here, 'prebuilds', platform)}.\n` +
      'A bundler (esbuild, webpack, @vercel/ncc, a serverless packager) does not copy the addon. Do one of:\n' +
      '  - leave tcp-keepalive out of the bundle and deploy node_modules/tcp-keepalive with it ' +
      '(esbuild: --external:tcp-keepalive; webpack: externals);\n' +
      `  - copy node_modules/tcp-keepalive/prebuilds/ to ${path.join(here, 'prebuilds')}/ (beside the bundle).`;
  throw coded(new Error(message, { cause: notFound }), ADDON_NOT_FOUND);
}

/**
 * Set (to the runtime's name, for messages) where the runtime never shows a
 * socket's file descriptor: on Windows libuv holds a SOCKET and Node's
 * `_handle.fd` is always -1; Deno's node:net sockets have no `fd` at all.
 */
export const RUNTIME_WITHOUT_FDS: string | undefined =
  process.platform === 'win32' ? 'Node on Windows' : process.versions.deno !== undefined ? `Deno ${process.versions.deno}` : undefined;

// There the addon could reach no socket, so it is not loaded at all (npm
// install needs no compiler on Windows, Deno needs no --allow-ffi). In its
// place stands a binding that can set nothing, as src/keepalive_unsupported.cc
// can set nothing (and with its names and units), so the library takes the
// one path every platform without a port takes: lib/fallback.ts. Its
// functions are never called from lib/.
function reachesNoSocket(runtime: string): Binding {
  const refuse = (): never => {
    throw coded(new Error(`tcp-keepalive's addon is not loaded on ${runtime}: it could reach no socket`), 'ERR_KEEPALIVE_UNSUPPORTED');
  };
  return {
    enable: refuse,
    disable: refuse,
    read: refuse,
    slots: new Int32Array(5),
    supportedOptions: 0,
    optionNames: ['SO_KEEPALIVE', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_USER_TIMEOUT', 'SO_PROTOCOL'],
    userTimeoutUnitMs: 1,
    acceptedSocketsInherit: false,
  };
}

export const binding: Binding =
  RUNTIME_WITHOUT_FDS === undefined ? (loadAddon() as Binding) : reachesNoSocket(RUNTIME_WITHOUT_FDS);

/** The settings' names on this platform, from the addon's own table (the numbering of `NativeFailure.option`). */
export const OPTION_NAMES: readonly string[] = binding.optionNames;

// The addon reads and writes this memory directly. Detaching it (by
// transferring it in a postMessage or structuredClone) would pull it from
// under the addon; marked untransferable, such calls copy it instead (Node
// 20) or throw DataCloneError (Node 22 and later).
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

