// setKeepAlive / getKeepAlive: find the kernel socket behind a Node object,
// or wait until there is one, and make exactly one native call on it.
import net = require('node:net');
import { kernel } from '../kernel';
import { socketClosed } from './errors';
import {
  closed,
  isServer,
  isSocket,
  listensInPrimary,
  noHandle,
  notATarget,
  openHandle,
  serverHandle,
  socketHandle,
  tcpSocketOf,
  type Handle,
  type KeepAliveTarget,
} from './handles';
import { DISABLE_CONFIG as DISABLE, extraArgument, toNativeConfig, type KeepAliveOptions, type KeepAliveState, type NativeConfig } from './options';

export type { KeepAliveTarget };

/** Which options can be set here (this build, this runtime, this Node version); on Linux all of them. */
export const supported = kernel.supported;

// True on a socket's handle while its kernel socket holds the socket's
// enabling configuration and the socket is sticky (below); false or absent
// otherwise. A socket connected again has a new handle, which holds nothing
// of ours. It lives on the handle rather than the socket for speed: net.Socket's
// prototype chain is in V8's dictionary mode, so looking up a property a
// socket may lack cannot be inlined, while the handle's chain is fast.
const kHolds = Symbol('tcp-keepalive.holds');

/** One call through the seam on `handle`, the target's `_handle`. */
function apply(target: KeepAliveTarget, handle: Handle | null | undefined, config: Readonly<NativeConfig>): void {
  kernel.apply(target, handle ?? {}, config);
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
const nodeSetKeepAlive = net.Socket.prototype.setKeepAlive as NodeSetKeepAlive;

// Node 20: (enable, initialDelay); Node 24.21+ and 26 also (enable,
// initialDelay, interval, count) and ({ enable, initialDelay, interval, count }).
function keepOurs(this: net.Socket & Sticky, enable?: unknown): net.Socket {
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

// An accepted socket inherits the listening socket's options from the kernel,
// no syscall needed, unless Node's own server `keepAlive` option just called
// setKeepAlive on it (before 'connection': set to true again after we
// configured the server), or the kernel passes on only some
// of them (macOS: not the idle time or the user timeout; the addon says so),
// or there is no listening socket of ours to inherit from (a round-robin
// cluster worker): then ours is applied to it. Either way the socket is sticky
// from here on. Prepended, so the server's own 'connection' listeners see it
// configured.
const acceptedInherit = kernel.acceptedSocketsInherit;
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
  if (!listensInPrimary(server)) apply(server, serverHandle(server), config);
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
  if (serverHandle(server) != null && server.listening) applyToServer(server, config);
  keepOnServer(server, config);
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
  if (socket) configureSocket(target as net.Socket, config);
  else configureServer(target as net.Server, config);
  return target;
}

/** Reads the five options the kernel holds for the socket or listening server, in ms. */
export function getKeepAlive(target: KeepAliveTarget): KeepAliveState {
  const socket = isSocket(target);
  if (!socket && !isServer(target)) throw notATarget(target);
  if (!kernel.readsBack) throw kernel.cannotRead();
  return kernel.read(openHandle(target, socket));
}
