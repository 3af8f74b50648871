// setKeepAlive / getKeepAlive: find the kernel socket behind a Node object,
// or wait until there is one, and make exactly one native call on it.
import net = require('node:net');
import { binding, enable, OPTION_NAMES } from './binding';
import {
  fromFailure,
  invalidArgType,
  notTcp,
  serverNotListening,
  socketClosed,
  socketNotConnected,
  unsupported,
} from './errors';
import { useInstead } from './clients/targets';
import { applyViaNode, cannotRead, configureServerViaNode, fallbackSupported, VIA_NODE as viaNode } from './fallback';
import { DISABLE_CONFIG as DISABLE, extraArgument, toNativeConfig, type KeepAliveOptions, type KeepAliveState, type NativeConfig } from './options';

/** Anything setKeepAlive and getKeepAlive accept: tls.TLSSocket is a net.Socket, tls/http(s) servers are net.Servers. */
export type KeepAliveTarget = net.Socket | net.Server;

// Bit `1 << i` of supportedOptions: OPTION_NAMES[i] works on this build.
const has = (option: number) => (binding.supportedOptions & (1 << option)) !== 0;

/** Which options can be set here (this build, this runtime, this Node version); on Linux all of them. */
export const supported: Readonly<Record<'enable' | 'idle' | 'interval' | 'count' | 'userTimeout', boolean>> = viaNode
  ? fallbackSupported
  : Object.freeze({ enable: has(0), idle: has(1), interval: has(2), count: has(3), userTimeout: has(4) });

// The native option names of what this build lacks, for the error text.
const missing = OPTION_NAMES.slice(0, 5).filter((_, i) => !has(i));
const notHere = () => unsupported(`${missing.join(', ')} cannot be set or read on this platform`);

// Node keeps the libuv handle (TCP, Pipe or TLSWrap) on `_handle`; its `fd`
// is the kernel socket on Unix. Not public API, but stable since Node 0.x and
// the only way to reach the fd. `fd` is a C++ accessor, and a handle's fd
// never changes while the handle is open (a closed handle is no longer any
// socket's `_handle`), so it is read once and kept on the handle itself:
// tied to that handle object, never to an fd number that could be reused.
const kFd = Symbol('tcp-keepalive.fd');
// Set on a handle once a socket's configuration is in its kernel socket: a
// socket connected again has a new handle, which holds nothing of ours.
const kHolds = Symbol('tcp-keepalive.holds');
interface Handle {
  readonly fd?: number;
  [kFd]?: number;
  [kHolds]?: true;
}
interface WithHandle {
  _handle?: Handle | null;
}

// The configuration waiting for a socket to connect or a server to listen.
const kPending = Symbol('tcp-keepalive.pending');
interface Deferrable {
  [kPending]?: Readonly<NativeConfig>;
}

// `instanceof net.Socket` runs stream.Writable's Symbol.hasInstance, a JS
// function every `instanceof` on a stream class in the process shares; in a
// busy process its feedback goes megamorphic and it measured 150 ns per call
// here. The prototype check is the same test (for net.Socket that function
// only asks the prototype chain) at a fixed cost.
const socketPrototype = net.Socket.prototype;
const serverPrototype = net.Server.prototype;
const isSocket = (target: unknown): target is net.Socket => socketPrototype.isPrototypeOf(target as object);
const isServer = (target: unknown): target is net.Server => serverPrototype.isPrototypeOf(target as object);

function notATarget(target: unknown): Error {
  // A client (setKeepAlive(redis)) is a common first try: name its helper.
  return invalidArgType('target', ['net.Socket', 'tls.TLSSocket', 'net.Server'], target, useInstead(target));
}

function fdOf(handle: Handle): number {
  let fd = handle[kFd];
  if (fd === undefined) {
    fd = handle.fd;
    // On Linux a connected TCP handle always has an fd; a TLS socket over a
    // JS stream, say, has none and so has no kernel TCP socket of its own.
    if (typeof fd !== 'number' || fd < 0) throw notTcp('it has no file descriptor of its own');
    handle[kFd] = fd;
  }
  return fd;
}

function apply(target: KeepAliveTarget, config: Readonly<NativeConfig>): void {
  if (viaNode) return applyViaNode(target as net.Socket, config); // a server takes configureServerViaNode
  const fd = fdOf((target as WithHandle)._handle ?? {});
  const failure = config.enable ? enable(fd, config) : binding.disable(fd);
  if (failure !== undefined) throw fromFailure(failure);
}

// Sticky: clients call Node's socket.setKeepAlive(true, ms) at times the
// user does not control (in their own 'connect' listener, on every return to
// an http Agent's pool), and each such call sets TCP_KEEPIDLE and resets
// TCP_KEEPINTVL to 1 s and TCP_KEEPCNT to 10. A socket this library
// configured (enable: true) carries an own `setKeepAlive` that answers such a
// call with nothing at all: the kernel already holds ours, so no syscall, and
// nothing on the path where nobody calls it. A call that turns keepalive off
// is the caller's explicit choice: it is honoured and ends the stickiness.
const kOurs = Symbol('tcp-keepalive.ours');
interface Sticky {
  [kOurs]?: Readonly<NativeConfig>;
}
type NodeSetKeepAlive = (this: net.Socket, ...args: unknown[]) => net.Socket;
const nodeSetKeepAlive = socketPrototype.setKeepAlive as NodeSetKeepAlive;

// Node 20: (enable, initialDelay); Node 24.21+ and 26 also (enable,
// initialDelay, interval, count) and ({ enable, initialDelay, interval, count }).
function keepOurs(this: net.Socket & Sticky & WithHandle, enable?: unknown): net.Socket {
  const on = enable !== null && typeof enable === 'object' ? (enable as { enable?: unknown }).enable : enable;
  if (on) {
    if (this._handle?.[kHolds] === true) return this; // Node's values would only undo ours, which the kernel holds
    // eslint-disable-next-line prefer-rest-params
    return nodeSetKeepAlive.apply(this, arguments as unknown as unknown[]);
  }
  release(this);
  // eslint-disable-next-line prefer-rest-params
  nodeSetKeepAlive.apply(this, arguments as unknown as unknown[]);
  // Node skips the kernel when its own record says keepalive is already off
  // (it never saw ours): turn it off here, so off is what the kernel holds.
  if (this._handle != null && !this.connecting) apply(this, DISABLE);
  return this;
}

/** Gives a socket back to Node's own setKeepAlive. */
function release(target: KeepAliveTarget & Sticky): void {
  if (target[kOurs] === undefined) return;
  delete target[kOurs];
  if (isSocket(target)) delete (target as Partial<net.Socket>).setKeepAlive;
  else target.removeListener('connection', adopt);
}

function stick(target: KeepAliveTarget & Sticky, config: Readonly<NativeConfig>): void {
  if (!config.enable) return release(target);
  const wasSticky = target[kOurs] !== undefined;
  target[kOurs] = config;
  if (wasSticky) return;
  if (isSocket(target)) (target as net.Socket).setKeepAlive = keepOurs as net.Socket['setKeepAlive'];
  else target.prependListener('connection', adopt);
}

// An accepted socket inherits the listening socket's options from the kernel,
// no syscall needed, unless Node's own server `keepAlive` option just called
// setKeepAlive on it (before 'connection'), or the kernel passes on only some
// of them (macOS: not the idle time or the user timeout; the addon says so):
// then ours is applied to it. Either way the socket is sticky from here on.
// Prepended, so the server's own 'connection' listeners see it configured.
const acceptedInherit = binding.acceptedSocketsInherit;
function adopt(this: net.Server & Sticky & { keepAlive?: boolean }, socket: net.Socket): void {
  const config = this[kOurs];
  if (config === undefined || socket.destroyed) return;
  try {
    if (this.keepAlive === true || !acceptedInherit) apply(socket, config);
    const handle = (socket as WithHandle)._handle;
    if (handle != null) handle[kHolds] = true;
    stick(socket, config);
  } catch (error) {
    socket.destroy(error as Error);
  }
}

function applyTo(target: KeepAliveTarget, config: Readonly<NativeConfig>): void {
  apply(target, config);
  const handle = (target as WithHandle)._handle!; // apply found one
  if (config.enable) handle[kHolds] = true;
  else delete handle[kHolds];
  stick(target, config);
}

function applyPending(this: KeepAliveTarget & Deferrable): void {
  const config = this[kPending];
  delete this[kPending];
  this.removeListener('close', discardPending);
  if (config === undefined) return;
  try {
    applyTo(this, config);
  } catch (error) {
    // The caller returned long ago: the only place left to report this is the
    // target itself, as Node reports any other socket failure.
    if (isSocket(this)) this.destroy(error as Error);
    else this.emit('error', error);
  }
}

function discardPending(this: net.Socket & Deferrable): void {
  delete this[kPending];
  this.removeListener('connect', applyPending);
}

function defer(target: KeepAliveTarget & Deferrable, config: Readonly<NativeConfig>): void {
  const waiting = target[kPending] !== undefined;
  target[kPending] = config; // the last call before connect wins
  if (waiting) return;
  if (isSocket(target)) {
    // Prepended, so the user's own 'connect' listeners already see it applied.
    target.prependOnceListener('connect', applyPending);
    target.once('close', discardPending); // a failed connect leaves nothing behind
  } else {
    target.prependOnceListener('listening', applyPending);
  }
}

function checkSupported(config: Readonly<NativeConfig>): void {
  // On the fallback, toNativeConfig has refused what Node's call cannot do
  // (lib/fallback.ts), and every configuration goes through that call.
  if (viaNode || missing.length === 0) return;
  if (config.enable || !supported.enable) throw notHere();
}

/**
 * Sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
 * TCP_USER_TIMEOUT on a socket or a listening server in one native call.
 * A socket that is still connecting (or a server not yet listening) gets the
 * configuration when it connects (listens). Returns the target.
 */
export function setKeepAlive<T extends KeepAliveTarget>(target: T, options?: KeepAliveOptions | boolean): T;
// The third parameter exists only to refuse Node's own calling habit in plain
// JavaScript, setKeepAlive(socket, true, 30000); TypeScript never sees it.
export function setKeepAlive<T extends KeepAliveTarget>(
  target: T,
  options?: KeepAliveOptions | boolean,
  initialDelay?: unknown,
): T {
  if (initialDelay !== undefined) throw extraArgument(options, initialDelay);
  const socket = isSocket(target);
  if (!socket && !isServer(target)) throw notATarget(target);
  return configure(target, socket, toNativeConfig(options));
}

/**
 * setKeepAlive with options toNativeConfig has already validated: for the
 * client helpers, which validate once when attached rather than on every
 * connection.
 */
export function setValidatedKeepAlive<T extends KeepAliveTarget>(target: T, config: Readonly<NativeConfig>): T {
  const socket = isSocket(target);
  if (!socket && !isServer(target)) throw notATarget(target);
  return configure(target, socket, config);
}

function configure<T extends KeepAliveTarget>(target: T, socket: boolean, config: Readonly<NativeConfig>): T {
  checkSupported(config);
  if (viaNode && !socket) {
    configureServerViaNode(target as net.Server, config);
    return target;
  }
  const handle = (target as WithHandle)._handle;
  if (socket) {
    // A socket with a handle that is not connecting is connected: destroy()
    // drops the handle at once. Only the other cases need a closer look.
    if (handle != null && !(target as net.Socket).connecting) applyTo(target, config);
    else if ((target as net.Socket).destroyed) throw socketClosed();
    else defer(target, config);
  } else if (handle != null && (target as net.Server).listening) {
    applyTo(target, config);
  } else {
    defer(target, config);
  }
  return target;
}

/** Reads the five options the kernel holds for the socket or listening server, in ms. */
export function getKeepAlive(target: KeepAliveTarget): KeepAliveState {
  const socket = isSocket(target);
  if (!socket && !isServer(target)) throw notATarget(target);
  if (viaNode) throw cannotRead();
  if (missing.length > 0) throw notHere();
  const handle = (target as WithHandle)._handle;
  if (socket) {
    if (handle == null || (target as net.Socket).connecting) {
      throw (target as net.Socket).destroyed ? socketClosed() : socketNotConnected();
    }
  } else if (handle == null || !(target as net.Server).listening) {
    throw serverNotListening();
  }
  const failure = binding.read(fdOf(handle));
  if (failure !== undefined) throw fromFailure(failure);
  // What the kernel returned, until the next native call overwrites it.
  const state = binding.slots;
  return {
    enable: state[0] !== 0,
    idle: state[1]! * 1000,
    interval: state[2]! * 1000,
    count: state[3]!,
    userTimeout: state[4]!,
  };
}
