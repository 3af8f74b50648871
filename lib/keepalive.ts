// setKeepAlive / getKeepAlive: find the kernel socket behind a Node object,
// or wait until there is one, and make exactly one native call on it.
import net = require('node:net');
import { binding, enable, OPTION_NAMES } from './binding';
import {
  fromFailure,
  invalidArgType,
  notTcp,
  listensElsewhere,
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
// True on a socket's handle while its kernel socket holds the socket's
// enabling configuration and the socket is sticky (below); false or absent
// otherwise. A socket connected again has a new handle, which holds nothing
// of ours. It lives on the handle rather than the socket for speed: net.Socket's
// prototype chain is in V8's dictionary mode, so looking up a property a
// socket may lack cannot be inlined, while the handle's chain is fast.
const kHolds = Symbol('tcp-keepalive.holds');
interface Handle {
  readonly fd?: number;
  [kFd]?: number;
  [kHolds]?: boolean;
}
interface WithHandle {
  _handle?: Handle | null;
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

// Node 20 to 26 define a socket's `_handle` as an accessor on that same
// dictionary-mode prototype, `get() { return this[kHandle]; }`, with one
// getter for every kind of stream in the process: V8 cannot inline it, and
// its own lookup is megamorphic (the last of the set path's reads, taken
// out alone, was about 15 ns of JavaScript per call; there were four).
// The property it reads is an own property of every socket, under Node's
// internal symbol `kHandle`, which V8 inlines when read here: it is found
// once, and used only if Node's getter (non-configurable: nothing can swap it
// later) is shown to return exactly that property; anywhere else `_handle` is
// read (Bun 1.4, whose `_handle` is a plain property; a later Node). Deno 2.9
// runs Node's net.js and takes the fast path. Every path reads a socket's
// handle once and passes it on. (A server's `_handle` is a plain property.)
const kHandle = ((): symbol | undefined => {
  const getter = Object.getOwnPropertyDescriptor(socketPrototype, '_handle')?.get;
  if (getter === undefined) return undefined;
  const symbol = Object.getOwnPropertySymbols(new net.Socket()).find((s) => s.description === 'kHandle');
  if (symbol === undefined) return undefined;
  const marker = {};
  return getter.call({ [symbol]: marker }) === marker ? symbol : undefined;
})();
function socketHandle(socket: net.Socket): Handle | null | undefined {
  return kHandle === undefined
    ? (socket as WithHandle)._handle
    : (socket as unknown as Record<symbol, Handle | null | undefined>)[kHandle];
}

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

/** One native call on `handle`, the target's `_handle`. */
function apply(target: KeepAliveTarget, handle: Handle | null | undefined, config: Readonly<NativeConfig>): void {
  if (viaNode) return applyViaNode(target as net.Socket, config); // a server takes configureServerViaNode
  const fd = fdOf(handle ?? {});
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
//
// The configuration belongs to the object, as Node's own keepalive setting
// does: kOurs holds it, a socket gets it on every connect (the same net.Socket
// connected again after destroy() or a failed connect), a server on every
// listen (close() and listen() again). A socket's `false` waiting for the
// connect is held there too, applied once, then the socket is Node's.
const kOurs = Symbol('tcp-keepalive.ours');
// A configured server's own `keepAlive` option, held while ours applies.
const kNodeKeepAlive = Symbol('tcp-keepalive.nodeKeepAlive');
interface Sticky {
  [kOurs]?: Readonly<NativeConfig>;
  [kNodeKeepAlive]?: true;
}
interface NodeServer extends net.Server {
  /** Set from createServer({ keepAlive }): Node calls setKeepAlive on each accepted socket while it is true. */
  keepAlive?: boolean;
}
type NodeSetKeepAlive = (this: net.Socket, ...args: unknown[]) => net.Socket;
const nodeSetKeepAlive = socketPrototype.setKeepAlive as NodeSetKeepAlive;

// Node 20: (enable, initialDelay); Node 24.21+ and 26 also (enable,
// initialDelay, interval, count) and ({ enable, initialDelay, interval, count }).
function keepOurs(this: net.Socket & Sticky & WithHandle, enable?: unknown): net.Socket {
  const on = enable !== null && typeof enable === 'object' ? (enable as { enable?: unknown }).enable : enable;
  const handle = socketHandle(this);
  if (on) {
    if (handle?.[kHolds] === true) return this; // Node's values would only undo ours, which the kernel holds
    // eslint-disable-next-line prefer-rest-params
    return nodeSetKeepAlive.apply(this, arguments as unknown as unknown[]);
  }
  release(this);
  // eslint-disable-next-line prefer-rest-params
  nodeSetKeepAlive.apply(this, arguments as unknown as unknown[]);
  // Node skips the kernel when its own record says keepalive is already off
  // (it never saw ours): turn it off here, so off is what the kernel holds.
  if (handle != null && !this.connecting) apply(this, handle, DISABLE);
  return this;
}

/** Gives a socket or server back to Node: nothing of ours is applied or kept any more. */
function release(target: KeepAliveTarget & Sticky): void {
  const kept = target[kOurs];
  if (kept === undefined) return;
  delete target[kOurs];
  if (isSocket(target)) {
    const handle = socketHandle(target);
    if (handle != null) handle[kHolds] = false;
    if (kept.enable) delete (target as Partial<net.Socket>).setKeepAlive;
    target.removeListener('connect', onConnect);
  } else if (kept.enable) {
    detach(target);
  }
}

/** Takes a server's listeners off, and gives Node its own `keepAlive` option back. */
function detach(server: net.Server & Sticky): void {
  server.removeListener('listening', onListening);
  server.removeListener('connection', adopt);
  if (server[kNodeKeepAlive] === true) {
    delete server[kNodeKeepAlive];
    (server as NodeServer).keepAlive = true;
  }
}

/**
 * Keeps `config` on a socket from now on: sticky while it enables keepalive,
 * and, with `follow`, applied again on every later connect of the object (an
 * accepted socket never connects, so it is only made sticky).
 */
function keepOnSocket(
  socket: net.Socket & Sticky,
  kept: Readonly<NativeConfig> | undefined, // what it carries now, read by the caller
  config: Readonly<NativeConfig>,
  follow: boolean,
): void {
  socket[kOurs] = config;
  if (config.enable) {
    if (kept?.enable !== true) socket.setKeepAlive = keepOurs as net.Socket['setKeepAlive'];
  } else if (kept?.enable === true) {
    delete (socket as Partial<net.Socket>).setKeepAlive;
  }
  // Prepended, so the user's own 'connect' listeners already see it applied.
  if (follow && kept === undefined) socket.prependListener('connect', onConnect);
}

/**
 * Keeps `config` on a server: an enabling one is applied on every listen and
 * makes its accepted sockets sticky; `false` needs nothing applied later (a
 * new listening socket starts with keepalive off) and is kept so that the
 * process-wide mode, which leaves a configured server alone, leaves it off.
 */
function keepOnServer(server: net.Server & Sticky, config: Readonly<NativeConfig>): void {
  const attached = server[kOurs]?.enable === true;
  server[kOurs] = config;
  if (config.enable === attached) return;
  if (!config.enable) return detach(server);
  server.prependListener('listening', onListening);
  server.prependListener('connection', adopt);
  // Node's server `keepAlive` option makes Node call setKeepAlive(true,
  // delay) on every accepted socket, which would only undo what the socket
  // inherited from ours: switched off while ours applies, so an accepted
  // socket costs no keepalive syscall at all; detach() switches it back.
  if ((server as NodeServer).keepAlive === true) {
    server[kNodeKeepAlive] = true;
    (server as NodeServer).keepAlive = false;
  }
}

// A configuration applied after its caller returned (on a connect, a listen or
// an accept) can only be reported where the target reports its own failures,
// as Node reports any other: a socket is destroyed with the error, a server
// emits 'error'. The process-wide mode's configuration says how else.
function notApplied(target: KeepAliveTarget, config: Readonly<NativeConfig>, error: Error): void {
  const socket = isSocket(target);
  if (config.notApplied !== undefined) config.notApplied(socket ? 'socket' : 'server', error);
  else if (socket) target.destroy(error);
  else target.emit('error', error);
}

function onConnect(this: net.Socket & Sticky): void {
  const config = this[kOurs];
  if (config === undefined) return;
  const handle = socketHandle(this);
  if (handle == null) return; // a 'connect' listener before this one destroyed it
  try {
    applyTo(this, handle, config);
  } catch (error) {
    release(this);
    notApplied(this, config, error as Error);
    return;
  }
  if (!config.enable) release(this);
}

function onListening(this: net.Server & Sticky): void {
  const config = this[kOurs];
  if (config === undefined) return;
  try {
    applyToServer(this, config);
  } catch (error) {
    release(this);
    notApplied(this, config, error as Error);
  }
}

// In a cluster worker with round-robin scheduling (Node's default, and pm2's
// cluster mode) the listening socket is in the primary process: the worker's
// server has a stand-in handle with no fd, and each connection arrives over
// IPC. Nothing can be inherited there.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const inClusterWorker = (require('node:cluster') as { isWorker: boolean }).isWorker;
/** Whether `server` is a round-robin cluster worker's stand-in, whose listening socket is the primary's. */
export function listensInPrimary(server: net.Server): boolean {
  return inClusterWorker && (server as WithHandle)._handle?.fd === undefined;
}

// An accepted socket inherits the listening socket's options from the kernel,
// no syscall needed, unless Node's own server `keepAlive` option just called
// setKeepAlive on it (before 'connection': set to true again after we
// configured the server), or the kernel passes on only some
// of them (macOS: not the idle time or the user timeout; the addon says so),
// or there is no listening socket of ours to inherit from (a round-robin
// cluster worker): then ours is applied to it. Either way the socket is sticky
// from here on. Prepended, so the server's own 'connection' listeners see it
// configured.
const acceptedInherit = binding.acceptedSocketsInherit;
function adopt(this: NodeServer & Sticky, socket: net.Socket): void {
  const config = this[kOurs];
  const handle = socketHandle(socket);
  // No handle: an earlier 'connection' listener destroyed it (destroy() drops the handle at once).
  if (config === undefined || handle == null) return;
  try {
    if (this.keepAlive === true || !acceptedInherit || listensInPrimary(this)) apply(socket, handle, config);
    handle[kHolds] = true;
    keepOnSocket(socket, (socket as Sticky)[kOurs], config, false);
  } catch (error) {
    notApplied(socket, config, error as Error);
  }
}

function applyTo(target: net.Socket, handle: Handle | null | undefined, config: Readonly<NativeConfig>): void {
  apply(target, handle, config);
  handle![kHolds] = config.enable; // apply found a handle
}

function applyToServer(server: net.Server, config: Readonly<NativeConfig>): void {
  if (!listensInPrimary(server)) apply(server, (server as WithHandle)._handle, config);
}

// tls.connect({ socket }) over a socket that has no handle yet (not connected,
// not connecting) cannot wrap its TCP handle: Node puts a JSStream under the
// TLS handle instead (`_handle._parent`). Such a TLS socket has no fd of its
// own, and its own setKeepAlive never reaches the kernel; the TCP connection
// is the wrapped socket's (`_parent`): it is configured and read there. Over
// a socket that has its handle, the TLS handle wraps that TCP handle directly
// and the TLS socket is configured itself, as any other.
interface TlsInternals {
  _parent?: unknown;
}
interface OverJSStream {
  _parent?: { constructor?: { name?: string } };
}
/** The socket whose TCP connection `socket` (with `handle`, its `_handle`) runs over: itself, or the one it wraps. */
function tcpSocketOf(socket: net.Socket, handle: Handle | null | undefined): net.Socket {
  const parent = (socket as TlsInternals)._parent;
  if (parent == null || !isSocket(parent)) return socket; // not a TLS socket over another socket
  return (handle as OverJSStream | null | undefined)?._parent?.constructor?.name === 'JSStream' ? parent : socket;
}

// child.send('socket', s) without keepOpen takes the handle away and leaves a
// socket that looks like one never connected: no handle, not connecting, not
// destroyed. Node's async id (-1 until a handle is attached) tells them apart.
let asyncIdSymbol: symbol | undefined;
function closed(socket: net.Socket): boolean {
  if (socket.destroyed) return true;
  if (socketHandle(socket) != null || socket.connecting) return false;
  asyncIdSymbol ??= Object.getOwnPropertySymbols(socket).find((s) => s.description === 'async_id_symbol');
  const id = asyncIdSymbol === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[asyncIdSymbol];
  return typeof id === 'number' && id !== -1;
}

// Node's `pending` is `!_handle || connecting`, so on Node a socket without a
// handle is always pending. A runtime can hand out an open socket that has no
// handle at all (Bun 1.4's node:http server is Bun's own server, and its
// req.socket is such a stand-in): waiting for a 'connect' would wait forever.
function noHandle(): Error {
  const runtime = process.versions.bun !== undefined ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
  return unsupported(
    `this socket is open but ${runtime} gives it no handle, so there is no kernel socket to reach ` +
      "(Bun's node:http and https servers are Bun's own; a net or tls server's sockets have one)",
  );
}

function configureSocket(target: net.Socket, config: Readonly<NativeConfig>): void {
  let handle = socketHandle(target);
  const socket = tcpSocketOf(target, handle);
  if (socket !== target) handle = socketHandle(socket);
  // A socket with a handle that is not connecting is connected: destroy()
  // drops the handle at once. Only the other cases need a closer look.
  if (handle != null && !socket.connecting) {
    const sticky = handle[kHolds] === true;
    applyTo(socket, handle, config);
    if (!config.enable) return release(socket);
    // Configured by us before and still ours: only the configuration it
    // carries to its next connect changes (the path a repeated call takes).
    if (sticky) {
      (socket as Sticky)[kOurs] = config;
      return;
    }
  } else if (closed(socket)) {
    throw socketClosed();
  } else if (socket.pending === false) {
    throw noHandle();
  }
  keepOnSocket(socket, (socket as Sticky)[kOurs], config, true);
}

function configureServer(server: net.Server, config: Readonly<NativeConfig>): void {
  if ((server as WithHandle)._handle != null && server.listening) applyToServer(server, config);
  keepOnServer(server, config);
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
 * The configuration this library keeps on a socket or server, if any: for
 * the process-wide mode, which leaves alone what was configured explicitly.
 */
export function keptConfiguration(target: KeepAliveTarget): Readonly<NativeConfig> | undefined {
  return (target as KeepAliveTarget & Sticky)[kOurs];
}

/**
 * The process-wide mode's part of Socket#connect: the socket takes `config`
 * when it connects, exactly as after setKeepAlive on a socket not connected
 * yet, unless it already carries a configuration. An explicit setKeepAlive
 * wins either way: one made before replaces nothing here, one made after
 * replaces this. Reconnects of the same object keep what it carries.
 */
export function keepByDefault(socket: net.Socket, config: Readonly<NativeConfig>): void {
  if ((socket as Sticky)[kOurs] === undefined) keepOnSocket(socket, undefined, config, true);
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
  if (socket) configureSocket(target as net.Socket, config);
  else configureServer(target as net.Server, config);
  return target;
}

/** Reads the five options the kernel holds for the socket or listening server, in ms. */
export function getKeepAlive(target: KeepAliveTarget): KeepAliveState {
  const socket = isSocket(target);
  if (!socket && !isServer(target)) throw notATarget(target);
  if (viaNode) throw cannotRead();
  if (missing.length > 0) throw notHere();
  let handle: Handle | null | undefined;
  if (socket) {
    handle = socketHandle(target as net.Socket);
    const tcp = tcpSocketOf(target as net.Socket, handle);
    if (tcp !== target) handle = socketHandle(tcp);
    if (handle == null || tcp.connecting) {
      if (closed(tcp)) throw socketClosed();
      throw tcp.pending === false ? noHandle() : socketNotConnected();
    }
  } else {
    handle = (target as WithHandle)._handle;
    if (handle == null || !(target as net.Server).listening) throw serverNotListening();
    if (listensInPrimary(target as net.Server)) throw listensElsewhere();
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
