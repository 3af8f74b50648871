// The addon's way to the kernel: the native binding (src/), loaded here and
// nowhere else, and the Kernel it makes, which applies and reads a whole
// configuration on a socket's file descriptor in one native call each.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path = require('node:path');
import { getSystemErrorName } from 'node:util';
import { formatAddress, wordBytes } from './addresses';
import { coded, notTcp, unsupported, type KeepAliveError, type KeepAliveSystemError } from '../engine/errors';
import type { Endpoints, Handle, KeepAliveState, Kernel, NativeConfig, PeekError, PeekedProcess, TcpInfo, TcpState } from './seam';

/** What a native call reports when a syscall failed (success is `undefined`). */
export interface NativeFailure {
  /**
   * Negative errno, captured right after the failing syscall; 0 when no
   * syscall failed and the kernel's answer showed the socket is not TCP.
   */
  readonly errno: number;
  /** Index into the binding's optionNames. */
  readonly option: number;
  readonly syscall: 'setsockopt' | 'getsockopt';
  /** The kernel confirmed (SO_PROTOCOL / ENOTSOCK) that the fd is not a TCP socket. */
  readonly notTcp: boolean;
}

/** What the native peekProcess returns (src/binding.cc): one object per inspection. */
export interface NativePeek {
  /** 0, or the negative errno of what stopped the reading of the process as a whole. */
  readonly errno: number;
  /** The syscall that failed for the process as a whole; '' when none did. */
  readonly syscall: '' | 'pidfd_open' | 'open' | 'fdopendir' | 'readdir' | 'readlinkat' | 'pidfd_getfd';
  /** The pidfd said the process exited, after everything else was read. */
  readonly exited: boolean;
  readonly cmdline: string;
  readonly comm: string;
  /** -1 when unreadable. */
  readonly uid: number;
  /** The link /proc/<pid>/ns/net; '' when unreadable. */
  readonly netns: string;
  /** peekStride numbers per socket (see Binding.peekProcess). */
  readonly rows: Float64Array;
  /** One per row that could not be read. */
  readonly failures: ReadonlyArray<{
    readonly index: number;
    readonly errno: number;
    readonly syscall: PeekError['syscall'];
    readonly option: string | null;
  }>;
}

export interface Binding {
  /**
   * SO_KEEPALIVE=1 with all four TCP-level options, in kernel units, taken
   * from slots: [idleSeconds, intervalSeconds, count, userTimeoutMs].
   */
  enable(fd: number): NativeFailure | undefined;
  /** TCP_USER_TIMEOUT from slots[3] (-1: left as it is), then SO_KEEPALIVE=0, on a TCP socket; nothing else changes. */
  disable(fd: number): NativeFailure | undefined;
  /** On success fills slots with [enable, idleSeconds, intervalSeconds, count, userTimeoutMs]. */
  read(fd: number): NativeFailure | undefined;
  /** The addon's own five int32s that carry option values both ways (src/binding.cc). */
  readonly slots: Int32Array<ArrayBuffer>;
  /**
   * On success fills tcpInfoSlots with the live state (src/keepalive.h
   * TcpInfoField). `maxBytes` asks the kernel for at most that much of its
   * answer, as an older kernel gives (the tests use it).
   */
  tcpInfo(fd: number, maxBytes?: number): NativeFailure | undefined;
  /**
   * The addon's own doubles that carry the live state back: milliseconds and
   * counts, in TcpInfoField order; NaN for a field the kernel did not report.
   */
  readonly tcpInfoSlots: Float64Array<ArrayBuffer>;
  /** This platform's TCP state numbers' names (RFC 793's), indexed by number; null where none. */
  readonly tcpStateNames: readonly (string | null)[];
  /**
   * Reads every TCP socket process `pid` holds: in `rows`, peekStride numbers
   * per socket, [fd, inode, family (4 or 6; 0 unknown), protocol (IPPROTO_*),
   * localPort, remotePort, the local address as four 32-bit words in network
   * order, the remote one, enable, idleSeconds, intervalSeconds, count,
   * userTimeoutMs, ...the live state].
   */
  peekProcess(pid: number): NativePeek;
  readonly peekStride: number;
  /** Both ends of a TCP socket, also after the kernel ended the connection (Linux). */
  /**
   * Both ends of a TCP socket, also after the kernel ended the connection
   * (Linux): [family (4 or 6), localPort, remotePort, the local address as
   * four 32-bit words in network order, the remote one].
   */
  endpoints(fd: number): Float64Array | { errno: number; syscall: 'getsockname' | 'getsockopt' };
  /** Bit `1 << i` is set when optionNames[i] can be set and read on this build. */
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

// The addon's files in a folder, in the order they are tried: build/Release
// after a build from source, then the prebuild for this process's platform,
// architecture and C library, named as prebuildify names it. The install
// step (scripts/install.cjs) tries the same files in the same order, so the
// two agree on which addon a process gets. Neither reads what
// node-gyp-build would (npm_config_arch, npm_config_platform,
// TCP_KEEPALIVE_PREBUILD): the package carries every prebuild, and the
// machine that runs it loads its own.
function addonsIn(dir: string): string[] {
  const [os, arch, libc] = platformName().split('-');
  return [
    path.join(dir, 'build', 'Release', 'tcp_keepalive.node'),
    path.join(dir, 'prebuilds', `${os}-${arch}`, libc === undefined ? 'tcp-keepalive.node' : `tcp-keepalive.${libc}.node`),
  ].filter((file) => existsSync(file));
}


// A bundler that rewrites require (webpack) leaves Node's own under this name, as node-gyp-build knows.
declare const __webpack_require__: unknown;
declare const __non_webpack_require__: NodeJS.Require;
const nodeRequire: NodeJS.Require = typeof __webpack_require__ === 'function' ? __non_webpack_require__ : require;

/**
 * Where the install step (scripts/install.cjs) records its outcome, beside
 * package.json: the platform it ran on, and when the build from source
 * failed, the first error line of its output. The two files name it alike.
 */
export const INSTALL_RESULT = 'install-result.json';

/** This platform as node-gyp-build matches prebuilds: os-arch, and on Linux the C library (LIBC, else musl on Alpine). */
export function platformName(): string {
  const { platform, arch } = process;
  if (platform !== 'linux') return `${platform}-${arch}`;
  const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
  return `${platform}-${arch}-${libc}`;
}

/**
 * What loading the addon came to: the binding and its file (and, where an
 * earlier file did not load, which and why), or why there is none and what
 * to do.
 */
export type AddonLoad = { binding: Binding; file: string; passedOver: string | null } | { binding: undefined; why: string };

const writable = (dir: string): boolean => {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

const firstLine = (text: string): string => text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';

// Installed, this code runs from dist/tcp-keepalive.js (the package's own
// bundle, one level below the package root) or from dist/kernel/addon.js (two
// levels: the command-line tools): the root is the one that holds
// binding.gyp, beside build/ and prebuilds/. A bundler of the application
// (esbuild, webpack, ncc) moves this code into the bundle's folder, which is
// then `__dirname`; an ES module bundle has no `__dirname`, and there the
// folder of the script node runs stands in. A prebuilds/ copied into that
// folder is found there.
/**
 * Loads the native addon. Where there is none, or the one
 * found does not load, says why and what to do; it never throws, since the
 * library then takes the fallback (./index.ts).
 */
export function loadAddon(): AddonLoad {
  const here = typeof __dirname === 'string' ? __dirname : path.dirname(path.resolve(process.argv[1] ?? ''));
  const root = [path.join(here, '..'), path.join(here, '..', '..')].find((dir) => existsSync(path.join(dir, 'binding.gyp'))) ?? path.join(here, '..');
  // A build/Release that does not load (built for another Node, another
  // machine) does not hide a prebuild that does; doctor says which was passed over.
  const failed: string[] = [];
  for (const file of [root, here].flatMap(addonsIn)) {
    try {
      const binding = nodeRequire(file) as Binding;
      return { binding, file, passedOver: failed.length === 0 ? null : `${failed.join('; ')}; loaded ${file} instead` };
    } catch (error) {
      failed.push(`${file} does not load here: ${firstLine((error as Error).message)}`);
    }
  }
  if (failed.length > 0) {
    return {
      binding: undefined,
      why: `${failed.join('; ')}. To build one from source, run npm rebuild tcp-keepalive (it needs python3, make and a C++ compiler).`,
    };
  }
  const folder = `${process.platform}-${process.arch}`;
  // The package ships binding.gyp beside build/ and prebuilds/; a bundle's parent folder has none.
  if (!existsSync(path.join(root, 'binding.gyp'))) {
    return {
      binding: undefined,
      why:
        `none beside this bundle, in ${path.join(here, 'prebuilds', folder)}: a bundler (esbuild, webpack, @vercel/ncc, a serverless packager) does not copy it. ` +
        'Leave tcp-keepalive out of the bundle and deploy node_modules/tcp-keepalive with it (esbuild: --external:tcp-keepalive; webpack: externals), ' +
        `or copy node_modules/tcp-keepalive/prebuilds/ to ${path.join(here, 'prebuilds')}/ (beside the bundle).`,
    };
  }
  const looked = `none in ${path.join(root, 'build', 'Release')} or ${path.join(root, 'prebuilds', folder)}`;
  const rebuild = 'npm rebuild tcp-keepalive (it needs python3, make and a C++ compiler, and shows their output)';
  let installed: { platform?: unknown; result?: unknown; reason?: unknown; file?: unknown } | undefined;
  try {
    installed = JSON.parse(readFileSync(path.join(root, INSTALL_RESULT), 'utf8')) as typeof installed;
  } catch {
    installed = undefined; // never written: the install step did not run, or could not write
  }
  if (installed === undefined && !writable(root)) {
    return {
      binding: undefined,
      why:
        `${looked}, and no ${INSTALL_RESULT}: the package's folder is read-only, so the install step, which builds one where ` +
        `no prebuilt addon fits, could not have recorded what it did, if it ran. Install where it can write, or run ${rebuild} there.`,
    };
  }
  if (installed === undefined) {
    return {
      binding: undefined,
      why:
        `${looked}, and the install step, which builds one where no prebuilt addon fits, never ran here ` +
        '(npm install --ignore-scripts; npm 12, until you approve it: npm install-scripts approve tcp-keepalive; ' +
        'Bun, for a package not in trustedDependencies: bun pm trust tcp-keepalive). ' +
        `Then, or to build it now: ${rebuild}.`,
    };
  }
  if (installed.platform !== platformName()) {
    return {
      binding: undefined,
      why: `${looked}: it was installed on ${String(installed.platform)}, not here. Install it on this platform, or run ${rebuild}.`,
    };
  }
  if (installed.result === 'build failed') {
    return {
      binding: undefined,
      why: `no prebuilt addon fits, and the build from source failed when it was installed: ${String(installed.reason)}. To build it: ${rebuild}.`,
    };
  }
  return {
    binding: undefined,
    why: `${looked}; the install step found ${String(installed.file)}, which is gone. Run ${rebuild}.`,
  };
}

/** Turns a native failure into the error a caller sees; `names` is the binding's optionNames. */
export function fromFailure(failure: NativeFailure, names: readonly string[]): KeepAliveError {
  const option = names[failure.option] ?? `option ${failure.option}`;
  // The kernel answered, and the answer was "not TCP": there is no kernel error to attach.
  if (failure.errno === 0) return notTcp(`the kernel reports it is not TCP (${option})`);
  const code = getSystemErrorName(failure.errno);
  const error = coded(new Error(`${failure.syscall} ${code}`), code) as KeepAliveSystemError;
  error.errno = failure.errno;
  error.syscall = failure.syscall;
  error.option = option;
  if (failure.notTcp) return notTcp(`the kernel answered ${code} to ${option}`, error);
  return error;
}

// The addon reads and writes its slots' memory directly. Detaching it (by
// transferring it in a postMessage or structuredClone) would pull it from
// under the addon; marked untransferable, such calls copy it instead (Node
// 20) or throw DataCloneError (Node 22 and later). Marked before the first
// native call that uses them, not at load: node:worker_threads, the only
// module that can mark it, is loaded then and not before (a process that only
// loads tcp-keepalive, or preloads tcp-keepalive/register, does not load it).
// (One binding is loaded per thread: the last one marked is the one in use.)
let marked: Binding | undefined;
function markSlots(binding: Binding): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { markAsUntransferable } = require('node:worker_threads') as typeof import('node:worker_threads');
  markAsUntransferable(binding.slots.buffer);
  markAsUntransferable(binding.tcpInfoSlots.buffer);
  marked = binding;
}

/** The binding's slots, marked untransferable before their first use. */
export function slotsOf(binding: Binding): Int32Array<ArrayBuffer> {
  if (marked !== binding) markSlots(binding);
  return binding.slots;
}

/** Applies an enabling configuration through `binding`: one native call. */
export function enable(binding: Binding, fd: number, config: Readonly<NativeConfig>): NativeFailure | undefined {
  const slots = slotsOf(binding);
  slots[0] = config.idleSeconds;
  slots[1] = config.intervalSeconds;
  slots[2] = config.count;
  slots[3] = config.userTimeoutMs;
  return binding.enable(fd);
}

/** Keepalive off, with the user timeout the configuration holds (-1: the kernel's is left as it is). */
function disable(binding: Binding, fd: number, config: Readonly<NativeConfig>): NativeFailure | undefined {
  slotsOf(binding)[3] = config.userTimeoutMs;
  return binding.disable(fd);
}

// `fd` is a C++ accessor, and a handle's fd never changes while the handle is
// open (a closed handle is no longer any socket's `_handle`), so it is read
// once and kept on the handle itself: tied to that handle object, never to an
// fd number that could be reused.
const kFd = Symbol('tcp-keepalive.fd');
function fdOf(handle: Handle): number {
  let fd = handle[kFd] as number | undefined;
  if (fd === undefined) {
    fd = handle.fd;
    // On Linux a connected TCP handle always has an fd; a TLS socket over a
    // JS stream, say, has none and so has no kernel TCP socket of its own.
    if (typeof fd !== 'number' || fd < 0) throw notTcp('it has no file descriptor of its own');
    handle[kFd] = fd;
  }
  return fd;
}

// The live state's keys, in the native numbering (src/keepalive.h TcpInfoField).
const TCP_INFO_KEYS = [
  'state',
  'smoothedRtt',
  'rttVariance',
  'retransmitTimeout',
  'unansweredProbes',
  'backoff',
  'retransmits',
  'totalRetransmits',
  'unackedSegments',
  'sinceLastDataSent',
  'sinceLastDataReceived',
  'sinceLastAckReceived',
] as const satisfies ReadonlyArray<keyof TcpInfo>;

/**
 * Makes the function that turns the live state at `values[at]` into a
 * TcpInfo: one object literal, so every result has one shape; a field the
 * kernel did not report (NaN: one macOS never reports, or one beyond the end
 * of an older kernel's shorter answer) is there and undefined.
 */
export function tcpInfoReader(binding: Binding): (values: Float64Array, at: number) => TcpInfo {
  // A plain array of our own (the binding's is frozen), indexed by an int: a
  // double key into the binding's array took V8's generic keyed load (~2 %
  // of a call in a profile).
  const states = [...binding.tcpStateNames];
  return (v, at) => {
    const info: TcpInfo = {
      state: states[v[at]! | 0] as TcpState,
      smoothedRtt: v[at + 1]!,
      rttVariance: v[at + 2]!,
      retransmitTimeout: v[at + 3]!,
      unansweredProbes: v[at + 4]!,
      backoff: v[at + 5]!,
      retransmits: v[at + 6]!,
      totalRetransmits: v[at + 7]!,
      unackedSegments: v[at + 8]!,
      sinceLastDataSent: v[at + 9]!,
      sinceLastDataReceived: v[at + 10]!,
      sinceLastAckReceived: v[at + 11]!,
    };
    for (let i = 0; i < TCP_INFO_KEYS.length; i++) {
      if (Number.isNaN(v[at + i])) (info as unknown as Record<string, undefined>)[TCP_INFO_KEYS[i]!] = undefined;
    }
    return info;
  };
}

/** A system error as Node shapes one (`pidfd_open ESRCH`): message, code, negative errno, syscall. */
function systemError(errno: number, syscall: string): Error & { code: string; errno: number; syscall: string } {
  const code = getSystemErrorName(errno);
  const error = coded(new Error(`${syscall} ${code}`), code) as KeepAliveError & { errno: number; syscall: string };
  error.errno = errno;
  error.syscall = syscall;
  return error;
}

const ALL_OPTIONS = 0b11111;

/** The Kernel of a loaded binding that can set all five options (a port: Linux, macOS). */
export function addonKernel(binding: Binding): Kernel {
  const names = binding.optionNames;
  const all = (binding.supportedOptions & ALL_OPTIONS) === ALL_OPTIONS;
  if (!all) throw new Error('addonKernel: this build cannot set every option'); // ./index.ts chose wrongly
  const unreachable = (): Error => unsupported('the addon can set and read every option here');
  const readTcpInfo = tcpInfoReader(binding);
  const nativeTcpInfo = binding.tcpInfo; // a plain N-API function: no `this`
  const tcpInfoSlots = binding.tcpInfoSlots;
  const stride = binding.peekStride;
  // A peeked row: [fd, inode, family, protocol, localPort, remotePort, 4 + 4 address words, the five options, the live state].
  const addressAt = 6;
  const configAt = addressAt + 8;
  const infoAt = configAt + 5;
  // IPPROTO_TCP is 6 everywhere; anything else the addon reports is MPTCP.
  const identified = (out: Float64Array, row: number) => {
    const family = out[row + 2]!;
    return {
      protocol: out[row + 3] === 6 ? ('TCP' as const) : ('MPTCP' as const),
      family: family === 4 ? ('IPv4' as const) : ('IPv6' as const),
      localBytes: wordBytes(out, row + addressAt, family),
      localPort: out[row + 4]!,
      remoteBytes: wordBytes(out, row + addressAt + 4, family),
      remotePort: out[row + 5]!,
    };
  };
  return {
    name: 'addon',
    supported: Object.freeze({ enable: true, idle: true, interval: true, count: true, userTimeout: true }),
    readsBack: true,
    acceptedSocketsInherit: binding.acceptedSocketsInherit,
    optionNames: names,
    userTimeoutUnitMs: binding.userTimeoutUnitMs,
    cannotSet: unreachable,
    cannotRead: unreachable,
    cannotReadTcpInfo: unreachable,
    apply(_target, handle, config) {
      const fd = fdOf(handle);
      const failure = config.enable ? enable(binding, fd, config) : disable(binding, fd, config);
      if (failure !== undefined) throw fromFailure(failure, names);
    },
    read(handle): KeepAliveState {
      const state = slotsOf(binding);
      const failure = binding.read(fdOf(handle));
      if (failure !== undefined) throw fromFailure(failure, names);
      // What the kernel returned, until the next native call overwrites it.
      return {
        enable: state[0] !== 0,
        idle: state[1]! * 1000,
        interval: state[2]! * 1000,
        count: state[3]!,
        userTimeout: state[4]!,
      };
    },
    tcpInfo(handle): TcpInfo {
      if (marked !== binding) markSlots(binding);
      const failure = nativeTcpInfo(fdOf(handle));
      if (failure !== undefined) throw fromFailure(failure, names);
      return readTcpInfo(tcpInfoSlots, 0);
    },
    endpoints(handle): Endpoints {
      const out = binding.endpoints(fdOf(handle));
      if (!(out instanceof Float64Array)) throw systemError(out.errno, out.syscall);
      // [family, localPort, remotePort, the local address as four words, the remote one]
      const family = out[0]!;
      return {
        family: family === 4 ? 'IPv4' : 'IPv6',
        localAddress: formatAddress(family, wordBytes(out, 3, family)),
        localPort: out[1]!,
        remoteAddress: formatAddress(family, wordBytes(out, 7, family)),
        remotePort: out[2]!,
      };
    },
    peekProcess(pid): PeekedProcess {
      const peek = binding.peekProcess(pid);
      const { rows: out, failures } = peek;
      const unreadable = new Map(failures.map((f) => [f.index, f]));
      const sockets: PeekedProcess['sockets'] = [];
      for (let row = 0, index = 0; row < out.length; row += stride, index++) {
        const failure = unreadable.get(index);
        if (failure !== undefined) {
          const code = getSystemErrorName(failure.errno);
          sockets.push({
            fd: out[row]!,
            inode: out[row + 1]!,
            ...(out[row + 2] !== 0 && { identified: identified(out, row) }),
            error: {
              message: `${failure.syscall} ${code}`,
              code,
              errno: failure.errno,
              syscall: failure.syscall,
              ...(failure.option !== null && { option: failure.option }),
            },
          });
          continue;
        }
        const c = row + configAt;
        sockets.push({
          fd: out[row]!,
          inode: out[row + 1]!,
          ...identified(out, row),
          keepAlive: {
            enable: out[c] !== 0,
            idle: out[c + 1]! * 1000,
            interval: out[c + 2]! * 1000,
            count: out[c + 3]!,
            userTimeout: out[c + 4]!,
          },
          tcpInfo: readTcpInfo(out, row + infoAt),
        });
      }
      return {
        cmdline: peek.cmdline,
        comm: peek.comm,
        uid: peek.uid < 0 ? undefined : peek.uid,
        netns: peek.netns === '' ? undefined : peek.netns,
        exited: peek.exited,
        error: peek.errno === 0 ? undefined : systemError(peek.errno, peek.syscall),
        sockets,
      };
    },
  };
}
