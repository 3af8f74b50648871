// How a configuration follows a socket or a server through its life, and
// leaves nothing behind that the code around it can see.
//
// The configuration belongs to the object, as Node's own keepalive setting
// does: a socket gets it when it connects (and again when the same object
// connects again), a server when it listens (and again on every listen), each
// connection a server accepts as it arrives. And it is sticky: clients call
// Node's socket.setKeepAlive(true, ms) at times the application does not
// control (in their own 'connect' listener, on every return to an http Agent's
// pool), and each such call would set TCP_KEEPIDLE and reset TCP_KEEPINTVL to
// 1 s and TCP_KEEPCNT to 10. Anyone's `false` is an explicit choice and is
// honoured. The rules are the contract in docs/process-wide.md.
//
// What it touches, and why nothing else can see it:
// - The configurations live in a WeakMap, not on the objects.
// - A kernel socket that holds ours is noted on its libuv handle (`kHolds`),
//   an internal object that a new connection replaces. The handle class's
//   own setKeepAlive (TCP.prototype's, or Bun's) answers Node's calls on such
//   a handle with nothing: every JavaScript wrapper above it (the socket's own
//   override, a subclass, an APM agent's patch of net.Socket.prototype) runs
//   as before; only the call into libuv, which would undo ours, is not made.
// - Node's own record of the socket's keepalive (net.js `kSetKeepAlive`) says
//   "on" once ours holds. That is what it then is, and it is what makes Node
//   pass on anyone's later `false` (Node skips the call when its record says
//   "off" already) and apply the setting again when the same object connects
//   again (afterConnect), where the handle hook puts ours in its place.
// - Where Node's internals this relies on cannot be found (a later Node may
//   rename them), the `connect` and `setKeepAlive` hooks (./hooks.ts)
//   do the same for explicitly configured sockets,
//   a little later and at a little more cost ("Node's internals", below).
// - A socket waiting to connect carries a 'connect' listener and a 'close'
//   listener of ours, both removed when either fires: none remains once it
//   has connected, or failed to.
// - A server carries a 'connection' listener while it listens configured,
//   taken off when its listening handle closes; a server made to listen
//   before it was known here gets a one-time 'listening' listener.
// - The functions of net's prototypes it replaces are the hooks in
//   ./hooks.ts, each named there, and given back when nothing needs them.
import net = require('node:net');
import { kernel } from '../kernel';
import type * as DeadPeerModule from './dead-peer';
import { deadPeer } from './diagnostics';
import { attach, hook, nodeOwn, replace, restore, unhook, type Fn, type Replacement } from './hooks';
import {
  handleSymbolFound,
  inClusterWorker,
  isSocket,
  listensInPrimary,
  serverHandle,
  socketHandle,
  tcpSocketOf,
  type Handle,
  type KeepAliveTarget,
} from './handles';
import { DISABLE_CONFIG as DISABLE, GIVEN_USER_TIMEOUT, type NativeConfig } from './options';

type Config = Readonly<NativeConfig>;

/** The configurations this library keeps, explicit ones: setKeepAlive and the client helpers. */
const configs = new WeakMap<KeepAliveTarget, Config>();

/** The process-wide mode's default, for what carries no configuration of its own. */
let processDefault: Config | undefined;

// On a handle whose kernel socket holds a configuration of ours: that
// configuration (enabling or not); absent otherwise. A connection made again has a new handle, which
// holds nothing of ours. On the handle rather than in a map: it is read on
// every Node call that reaches a hooked handle, and a handle's prototype
// chain is one V8 keeps fast.
const kHolds = Symbol('tcp-keepalive.holds');
// On a configured server's listening handle: the configuration its accepted
// connections get. The handle is gone when the server closes.
const kServes = Symbol('tcp-keepalive.serves');
// On a listening handle whose close and onconnection are wrapped.
const kWatched = Symbol('tcp-keepalive.watched');

/**
 * The configuration of ours the kernel socket under `socket` holds now:
 * explicit, a client helper's, the process-wide default, or inherited from a
 * listening socket of this process that holds one; undefined when none does
 * (never configured, given to Node by its own setKeepAlive(false), closed).
 */
export function configurationInForce(socket: net.Socket): Config | undefined {
  let handle = socketHandle(socket);
  const tcp = tcpSocketOf(socket, handle);
  if (tcp !== socket) handle = socketHandle(tcp);
  return handle == null ? undefined : (handle[kHolds] as Config | undefined);
}

const holding = (handle: Handle): boolean => (handle[kHolds] as Config | undefined)?.enable === true;

// --- Node's own record of a socket's keepalive -------------------------------
//
// lib/net.js keeps it under symbols of its own (Bun 1.4 and Deno 2.9 too):
// kSetKeepAlive, on or off, beside the delay (and, on Node 24.21+, interval
// and count) it last passed to libuv. Only on/off is written here, and only to
// say what the kernel then holds: Node forwards a `false` to the handle only
// when its record says "on", and applies its setting at every connect of the
// object only then. Its delay is left as it was: Node compares the next call's
// against it (test-net-server-keepalive counts the calls that reach the handle).
// Found on the first socket written to; null: looked for, not there.
let kSetKeepAlive: symbol | null | undefined;

const symbolNamed = (object: object, name: string): symbol | null =>
  Object.getOwnPropertySymbols(object).find((s) => s.description === name) ?? null;

function writeRecord(socket: net.Socket, on: boolean): void {
  kSetKeepAlive ??= symbolNamed(socket, 'kSetKeepAlive');
  if (kSetKeepAlive !== null) (socket as unknown as Record<symbol, unknown>)[kSetKeepAlive] = on;
}

// --- The handle hook: sticky --------------------------------------------------

// The handle's owner, the socket it belongs to: net.js `owner_symbol`, an own
// property of TCP and TLS handles alike (and of Bun's), found by name on the
// first handle seen; null: looked for, not there (the hook then leaves a
// reconnect to the connect hook, and a `false` to the setKeepAlive hook).
let ownerSymbol: symbol | null | undefined;
function ownerOf(handle: Handle): unknown {
  ownerSymbol ??= symbolNamed(handle, 'owner_symbol');
  return ownerSymbol === null ? undefined : handle[ownerSymbol];
}

// --- Node's internals, and the slower path where one is missing ------------------
//
// A reconnect of the same object rides on Node's own call at connect only
// where both symbols above are found: kSetKeepAlive to make Node call, and
// owner_symbol to tell the hook whose call it is. Where either is missing,
// the process-wide mode's two socket hooks (connect, setKeepAlive) serve
// explicitly configured sockets as well, for the process's life: each connect
// of such a socket waits for 'connect' again (applyAtConnect), where onConnect
// applies its configuration before the application's own 'connect'
// listeners; Node's `false` is passed on and
// noted there. Decided at the first explicit configuration of a socket; one
// with no handle yet leaves owner_symbol open, so the hooks go in until the
// first connect shows it (they then pass every call straight on).
let reconnectsByConnect = false;
const nodeCarriesReconnects = (): boolean => kSetKeepAlive != null && ownerSymbol != null;

/** Looks for kSetKeepAlive on `socket` and owner_symbol on its handle, where not looked for yet. */
function findInternals(socket: net.Socket, handle: Handle | null | undefined): void {
  kSetKeepAlive ??= symbolNamed(socket, 'kSetKeepAlive');
  if (handle != null) ownerSymbol ??= symbolNamed(handle, 'owner_symbol');
}

function followReconnects(socket: net.Socket, handle: Handle | null | undefined): void {
  findInternals(socket, handle);
  if (reconnectsByConnect || nodeCarriesReconnects()) return;
  reconnectsByConnect = true;
  hook('connect', 'setKeepAlive');
}

/** Whether one of Node's internals was found, and, where not, what is done instead. */
export interface Internal {
  found: boolean;
  /** null where it was found. */
  instead: string | null;
}
export interface InternalsInUse {
  kHandle: Internal;
  owner_symbol: Internal;
  kSetKeepAlive: Internal;
}

const BY_CONNECT =
  "a socket configured with setKeepAlive is configured again at each connect of the same object by a wrapper of net.Socket.prototype.connect, at 'connect' rather than inside Node's own connect; Node's socket.setKeepAlive(false) is passed on by a wrapper of net.Socket.prototype.setKeepAlive";

/**
 * Which of Node's internals this process uses, and the slower path taken
 * where one is missing. Found as the library finds them, at first use; what
 * is not decided yet is looked for on a throwaway socket (no syscall: its
 * connect waits for the next tick, and it is destroyed first). For doctor:
 * nothing calls this at load.
 */
export function internalsInUse(): InternalsInUse {
  if (handleSymbolFound() === undefined || kSetKeepAlive === undefined || ownerSymbol === undefined) {
    const probe = new net.Socket();
    probe.on('error', () => {});
    nodeOwn('connect').call(probe, 9, '127.0.0.1'); // makes its handle, at once; Node's own, past the hooks
    findInternals(probe, socketHandle(probe)); // socketHandle looks for kHandle
    probe.destroy();
  }
  const internal = (found: boolean, instead: string): Internal => ({ found, instead: found ? null : instead });
  return {
    kHandle: internal(handleSymbolFound() === true, "a socket's handle is read through Node's socket._handle getter"),
    owner_symbol: internal(ownerSymbol != null, BY_CONNECT),
    kSetKeepAlive: internal(kSetKeepAlive != null, BY_CONNECT),
  };
}

/**
 * The socket whose life a configuration follows: the owner of its handle
 * (an http2 session's socket is a Proxy over it), or else itself.
 */
export function ownSocket(socket: net.Socket, handle: Handle): net.Socket {
  const owner = ownerOf(handle);
  return owner !== socket && isSocket(owner) ? owner : socket;
}

// Set while a configuration is applied through the runtime's own
// socket.setKeepAlive (the fallback, lib/kernel/node.ts): that call comes
// back through the hook and must reach libuv.
let applying = false;

type HandleSetKeepAlive = (this: Handle, enable: unknown, ...rest: unknown[]) => unknown;
const hooked = new WeakSet<object>();
// Each hooked class's setKeepAlive hook (its owner is the class's prototype): for undoing them.
const handleHooks: Replacement[] = [];
// Set by the first explicit configuration (setKeepAlive, a client helper):
// its objects stay configured and sticky for their lives, so the hooks they
// need stay too. Until then, every hook is the process-wide mode's alone and
// goes when its last registration ends.
let explicitUse = false;

let lastHooked: object | null = null; // the common case, one class (TCP): no WeakSet lookup per connection

/** Hooks the setKeepAlive of `handle`'s class, once per class (TCP, TLS and Bun's each have one). */
function hookHandleClass(handle: Handle): void {
  const proto = Object.getPrototypeOf(handle) as { setKeepAlive?: HandleSetKeepAlive } | null;
  if (proto === lastHooked || proto === null) return;
  lastHooked = proto;
  if (hooked.has(proto)) return;
  hooked.add(proto);
  const original = proto.setKeepAlive;
  if (typeof original !== 'function') return;
  const setKeepAlive = function setKeepAlive(this: Handle, enable: unknown): unknown {
    if (!applying) {
      if (enable) {
        if (holding(this)) return 0; // Node's values would only undo ours, which the kernel holds
        // The same object connecting again: Node applies its record
        // (afterConnect, before any 'connect' listener). Ours instead.
        const owner = ownerOf(this);
        // A process-wide socket waiting for its connect (applyAtConnect) takes the default here.
        const config = isSocket(owner) ? configs.get(owner) ?? (waitsForConnect(owner) ? processDefault : undefined) : undefined;
        if (config?.enable === true && socketHandle(owner as net.Socket) === this && !(owner as net.Socket).connecting) {
          try {
            applyNow(owner as net.Socket, this, config);
            markHeld(owner as net.Socket, this, config, configs.has(owner as net.Socket));
            return 0;
          } catch {
            // Not ours to report here: Node's own call goes on, and the
            // socket is Node's (a failed apply marks nothing).
          }
        }
      } else if (holding(this)) {
        // Anyone's `false` is an explicit choice: it is honoured, and the
        // socket is Node's from here on (its own later calls work as in plain Node).
        this[kHolds] = undefined;
        const owner = ownerOf(this);
        if (isSocket(owner)) configs.set(owner, DISABLE);
      }
    }
    // eslint-disable-next-line prefer-rest-params
    return Reflect.apply(original, this, arguments);
  };
  const classHook: Replacement = { owner: proto as Record<string, unknown>, key: 'setKeepAlive', ours: setKeepAlive, original, installed: false };
  replace(classHook);
  handleHooks.push(classHook);
}

// --- Sockets -----------------------------------------------------------------

/** Applies `config` to a connected socket whose handle is `handle`, through the seam. */
function applyNow(target: KeepAliveTarget, handle: Handle, config: Config): void {
  applying = true;
  try {
    kernel.apply(target, handle, config.enable ? config : turningOff(handle, config));
  } finally {
    applying = false;
  }
}

// Keepalive off leaves the socket or server as if keepalive had never been
// configured: a user timeout ours derived from keepalive goes with it (0), one
// given explicitly stays, and one we never set is left to whoever set it.
const LEAVE_USER_TIMEOUT = -1;
function turningOff(handle: Handle, config: Config): Config {
  if ((config.given & GIVEN_USER_TIMEOUT) !== 0) return config;
  const replaced = (handle[kHolds] ?? handle[kServes]) as Config | undefined;
  const derived = replaced?.enable === true && (replaced.given & GIVEN_USER_TIMEOUT) === 0;
  return derived ? config : { ...config, userTimeoutMs: LEAVE_USER_TIMEOUT };
}

/**
 * The kernel socket behind `handle` holds an enabling configuration: note it,
 * and, for a configuration of the object's own (`explicit`), tell Node. Node's
 * record is left alone for the process-wide default: written, it would outlive
 * the registration (Node applies it at the object's next connect), and
 * whatever turns keepalive off reaches the handle through the mode's own hook
 * of socket.setKeepAlive (the setKeepAlive hook) instead.
 */
function markHeld(socket: net.Socket, handle: Handle, config: Config, explicit: boolean): void {
  handle[kHolds] = config;
  hookHandleClass(handle);
  if (explicit) writeRecord(socket, true);
}

/** The socket's keepalive is off, by its configuration (ours, not sticky). */
function markOff(socket: net.Socket, handle: Handle | null | undefined, config: Config): void {
  if (handle != null) handle[kHolds] = config;
  writeRecord(socket, false);
}

/** Configures a connected socket now and keeps the configuration for its next connect. */
export function configureConnected(socket: net.Socket, handle: Handle, config: Config): void {
  explicitUse = true;
  hook('_destroy');
  followReconnects(socket, handle);
  applyNow(socket, handle, config);
  configs.set(socket, config);
  if (config.enable) markHeld(socket, handle, config, true);
  else markOff(socket, handle, config);
}

/**
 * Keeps `config` for a socket that has not connected yet: applied when it
 * connects, before the application's own 'connect' listeners. Node's record
 * says what it will be, so a runtime that applies its record at connect
 * (afterConnect) brings the hook in first.
 */
export function configurePending(socket: net.Socket, config: Config): void {
  explicitUse = true;
  hook('_destroy');
  const handle = socketHandle(socket);
  followReconnects(socket, handle);
  configs.set(socket, config);
  writeRecord(socket, config.enable);
  if (handle != null) hookHandleClass(handle);
  applyAtConnect(socket);
}

// A socket waiting to connect: one listener for the connect, one for the
// close that comes instead when it fails or is destroyed first. Each removes
// both, so neither outlives the wait. Prepended: ours runs before the
// application's own listeners.
const waitsForConnect = (socket: net.Socket): boolean => socket.listenerCount('close', onCloseBeforeConnect) > 0;
function applyAtConnect(socket: net.Socket): void {
  if (waitsForConnect(socket)) return;
  socket.prependListener('connect', onConnect);
  socket.prependListener('close', onCloseBeforeConnect);
}

function onCloseBeforeConnect(this: net.Socket): void {
  // The 'close' of a connection destroyed just before connect() was called
  // again on the same object comes after that call: the wait goes on.
  if (this.connecting) return;
  stopWaitingForConnect(this);
}

function stopWaitingForConnect(socket: net.Socket): void {
  socket.removeListener('connect', onConnect);
  socket.removeListener('close', onCloseBeforeConnect);
}

function onConnect(this: net.Socket): void {
  stopWaitingForConnect(this);
  const config = configs.get(this) ?? processDefault;
  if (config === undefined) return;
  const handle = socketHandle(this);
  if (handle == null) return; // an earlier 'connect' listener destroyed it
  if (config.enable && holding(handle)) return; // the hook applied it in afterConnect
  try {
    applyNow(this, handle, config);
  } catch (error) {
    configs.delete(this); // the configuration is dropped: the socket is Node's
    notApplied(this, config, error as Error);
    return;
  }
  if (config.enable) markHeld(this, handle, config, configs.has(this));
  else markOff(this, handle, config);
}

// A configuration applied after its caller returned (on a connect, a listen or
// an accept) can only be reported where the target reports its own failures,
// as Node reports any other: a socket is destroyed with the error, a server
// emits 'error'. The process-wide mode's configuration says how else.
function notApplied(target: KeepAliveTarget, config: Config, error: Error): void {
  const socket = isSocket(target);
  if (config.notApplied !== undefined) config.notApplied(socket ? 'socket' : 'server', error);
  else if (socket) target.destroy(error);
  // As Node emits a server's own listen errors: on the next tick (this runs
  // inside listen() when the listening socket was made at once).
  else process.nextTick(() => target.emit('error', error));
}

// --- Servers -----------------------------------------------------------------

interface NodeServer extends net.Server {
  /** From createServer({ keepAlive }): Node calls setKeepAlive on each accepted socket before 'connection'. */
  keepAlive?: boolean;
  _pipeName?: string;
}

/**
 * Keeps `config` for a server: applied to its listening socket now if it
 * listens, and on every later listen; an enabling one also reaches each
 * connection it accepts. `false` is kept too (a new listening socket starts
 * with keepalive off), so the process-wide mode leaves the server off.
 */
export function configureServer(server: net.Server, config: Config): void {
  explicitUse = true;
  hook('_destroy', 'listen');
  configs.set(server, config);
  const handle = serverHandle(server);
  if (handle != null && server.listening) configureListening(server, handle, config, true);
  else awaitListening(server);
}

// A server whose listening socket does not exist yet (listen() not called,
// or a host name being looked up, or a cluster worker asking its primary):
// configured at 'listening', by a listener that goes when it fires.
function awaitListening(server: net.Server): void {
  if (server.listenerCount('listening', onListening) === 0) server.prependOnceListener('listening', onListening);
}

/** Applies `config` to a listening server's socket and takes care of its connections. Throws where `direct`. */
function configureListening(server: net.Server, handle: Handle, config: Config, direct: boolean): void {
  // A disabling configuration is applied when asked for directly; a new
  // listening socket starts with keepalive off anyway.
  if (!listensInPrimary(server) && (config.enable || direct)) {
    try {
      applyNow(server, handle, config);
    } catch (error) {
      if (direct) throw error;
      configs.delete(server);
      notApplied(server, config, error as Error);
      return;
    }
  }
  if (!config.enable) {
    stopConfiguringAccepted(server, handle);
    return;
  }
  const serving = handle[kServes] !== undefined;
  handle[kServes] = config;
  if (serving) return;
  server.prependListener('connection', configureAccepted);
  if (handle[kWatched] === true) return;
  handle[kWatched] = true;
  // Two of the listening handle's own functions, wrapped once for its life
  // (the handle is internal, and the next listen makes a new one).
  // - close(), called by server.close() and by nothing else while the
  //   server listens: that is where the 'connection' listener goes.
  // - onconnection(), Node's accept callback: a connection that inherited
  //   ours from the kernel is noted as holding it before Node makes its
  //   socket, so that Node's own server `keepAlive` option, which calls
  //   setKeepAlive on the new handle before 'connection', finds it held and
  //   costs no syscall (the hook answers it). Only where this process made
  //   the listening socket alone (listensShared).
  const close = handle.close as ((...args: unknown[]) => unknown) | undefined;
  const accept = handle.onconnection as ((...args: unknown[]) => unknown) | undefined;
  servingHandles.set(handle, { server, close, accept });
  if (typeof close === 'function') {
    handle.close = function (this: Handle) {
      stopConfiguringAccepted(server, this);
      giveBackHandleFunctions(this);
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(close, this, arguments);
    };
  }
  if (typeof accept === 'function' && kernel.acceptedSocketsInherit && !listensInPrimary(server) && !listensShared(server)) {
    hookHandleClass(handle); // the accepted handles share its class
    handle.onconnection = function (this: Handle, error: unknown, client?: Handle) {
      // kServes is set only while the server serves an enabling configuration.
      if (client != null && this[kServes] !== undefined) client[kHolds] = this[kServes];
      // eslint-disable-next-line prefer-rest-params
      return Reflect.apply(accept, this, arguments);
    };
  }
}

// The listening handles whose close and accept callback are wrapped, while
// they listen: the process-wide mode's end gives them back their own.
const servingHandles = new Map<Handle, { server: net.Server; close: unknown; accept: unknown }>();
function giveBackHandleFunctions(handle: Handle): void {
  const own = servingHandles.get(handle);
  if (own === undefined) return;
  servingHandles.delete(handle);
  handle.close = own.close;
  handle.onconnection = own.accept;
  delete handle[kWatched];
}

function stopConfiguringAccepted(server: net.Server, handle: Handle): void {
  if (handle[kServes] === undefined) return;
  delete handle[kServes];
  server.removeListener('connection', configureAccepted);
}

// An accepted socket inherits the listening socket's options from the kernel,
// no syscall needed, unless the kernel passes on only some of them (macOS: not
// the idle time or the user timeout; Node's own call: none at all), or there
// is no listening socket of ours to inherit from (a round-robin cluster
// worker), or one that other processes share and may have set otherwise since
// (listensShared): then ours is applied to it. Either way it is sticky from here on,
// and Node's record says "on", before the server's own 'connection' listeners
// (tls, http) and the application's run.
function configureAccepted(this: NodeServer, socket: net.Socket): void {
  const config = serverHandle(this)?.[kServes] as Config | undefined;
  const handle = socketHandle(socket);
  // No handle: an earlier 'connection' listener destroyed it (destroy() drops the handle at once).
  if (config === undefined || handle == null) return;
  try {
    // Held already: inherited, and noted so by the accept callback (above).
    if (!holding(handle)) applyNow(socket, handle, config);
  } catch (error) {
    notApplied(socket, config, error as Error);
    return;
  }
  markHeld(socket, handle, config, configs.has(this));
}

// A server that begins to listen is configured once its listening socket
// exists: at once when listen() made it (a port or an address), or at
// 'listening' when it comes later (a host name to look up first, a cluster
// worker asking its primary). A failed listen leaves that one-time listener
// in place until the server listens.
function onListening(this: NodeServer): void {
  // The default a server took follows it through re-listens while the mode lasts, no longer.
  const config = configs.get(this) ?? (processDefault !== undefined ? byDefault.get(this) : undefined);
  const handle = serverHandle(this);
  if (config === undefined || handle == null) return;
  // The process-wide mode leaves alone a Unix-domain socket or pipe, and a
  // round-robin cluster worker: its primary, configured the same way, hands
  // over connections that hold it.
  if (!configs.has(this) && (this._pipeName !== undefined || listensInPrimary(this))) return;
  configureListening(this, handle, config, false);
}

// Whether a server's listening socket may be set by another process as well,
// so that what an accepted socket inherits may not be ours:
// - in a cluster worker, one with an fd (SCHED_NONE) is the primary's, shared
//   with every worker listening on that address;
// - a server given its listening socket (listen(handle), listen(server),
//   listen({ fd }), and so a server another process sent with child.send)
//   shares it with whoever made it. The listen wrapper notes which way each
//   listen went; a listen made before the wrapper was in place is read from
//   Node's `_connectionKey` (set by every listen, since Node 0.x), which names
//   no address family there ('-1:null:-1' for a handle, 'null:null:null' for
//   an fd).
// No syscall; a listening socket this process made itself on an address is
// not shared (where it is, SO_REUSEPORT by two processes, each has its own).
const listensOnGiven = new WeakMap<net.Server, boolean>();
function givesListening(first: unknown): boolean {
  const options = Array.isArray(first) ? first[0] : first;
  if (options === null || typeof options !== 'object') return false;
  const o = options as { _handle?: unknown; handle?: unknown };
  const given = (o._handle ?? o.handle ?? o) as { fd?: unknown };
  return typeof given === 'object' && given !== null && typeof given.fd === 'number';
}
function listensShared(server: net.Server): boolean {
  if (inClusterWorker) return true;
  const given = listensOnGiven.get(server);
  if (given !== undefined) return given;
  const key = (server as { _connectionKey?: unknown })._connectionKey;
  return typeof key === 'string' && /^(-1|null):null:/.test(key);
}

// The process-wide default a server took when it first listened under it: it
// follows that object through re-listens, as Node's own keepalive setting does.
const byDefault = new WeakMap<net.Server, Config>();

/**
 * A server's listen (the `listen` hook), through Node's `listen`: a server
 * configured, or under the process-wide mode, is configured once its
 * listening socket exists.
 */
function listenThrough(server: net.Server, listen: Fn, args: unknown[]): unknown {
  if (processDefault !== undefined && !byDefault.has(server)) byDefault.set(server, processDefault);
  listensOnGiven.set(server, givesListening(args[0]));
  const result = listen.apply(server, args);
  if (configs.has(server) || (processDefault !== undefined && byDefault.has(server))) {
    if (serverHandle(server) != null && server.listening) {
      // Listening already: configured once, now, and not again at 'listening'.
      server.removeListener('listening', onListening);
      onListening.call(server);
    } else awaitListening(server);
  }
  return result;
}

// --- The dead-peer event ---------------------------------------------------------

/**
 * Node's socket._destroy (the `_destroy` hook), through Node's own: a socket
 * the kernel failed with ETIMEDOUT on a read or a write (a connect that timed
 * out never had a peer) still has its handle open here, so the kernel's
 * account can be read before Node closes it (./dead-peer.ts).
 */
function destroyThrough(socket: net.Socket, destroy: Fn, args: unknown[]): unknown {
  beforeDestroy(socket, args[0] as NodeJS.ErrnoException | null);
  return destroy.apply(socket, args);
}

function beforeDestroy(socket: net.Socket, e: NodeJS.ErrnoException | null): void {
  if (e === null || e.code !== 'ETIMEDOUT' || e.syscall === 'connect' || !deadPeer().hasSubscribers) return;
  // Loaded with the first dead peer that has a subscriber.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { deadPeerUnread, publishDeadPeer } = require('./dead-peer') as typeof DeadPeerModule;
  try {
    const config = configurationInForce(socket);
    const handle = socketHandle(socket);
    if (config !== undefined && handle != null) publishDeadPeer(socket, handle, config, e);
  } catch (failure) {
    deadPeerUnread(failure as Error);
  }
}

// --- The process-wide mode's part ---------------------------------------------

// Node decides the same way (`const pipe = !!options.path`) after
// normalizing its arguments: an options object, the [options, callback]
// array net.connect hands over, or a leading string that is not a number.
// Deciding here costs no syscall; a Unix-domain socket is never touched.
function isPipe(first: unknown): boolean {
  const options = Array.isArray(first) ? first[0] : first;
  if (options !== null && typeof options === 'object') return Boolean((options as { path?: unknown }).path);
  return typeof options === 'string' && !(Number(options) >= 0);
}

/**
 * A socket's connect (the `connect` hook), through Node's `connect`. Every
 * outgoing connection starts there: net.connect, new net.Socket().connect(),
 * tls.connect, http(s) agents, undici and fetch, and the clients built on
 * them. A socket carrying a configuration of its own (explicit: setKeepAlive
 * before or after) keeps it; any other takes the process-wide default when
 * it connects.
 */
function connectThrough(socket: net.Socket, connect: Fn, args: unknown[]): unknown {
  if (processDefault !== undefined && !isPipe(args[0]) && !configs.has(socket)) applyAtConnect(socket);
  const result = connect.apply(socket, args);
  // The slower path: Node's own call at connect cannot carry an explicit
  // configuration here, so 'connect' does: ours, or our `false` over Node's
  // own "on" (Node applies its record at connect, and ours may not have been
  // written there). Set up after Node's connect, which made the handle (the
  // first one shows whether owner_symbol is there) and has not thrown;
  // 'connect' comes later.
  if (reconnectsByConnect && configs.has(socket) && !isPipe(args[0])) {
    if (ownerSymbol === undefined) followReconnects(socket, socketHandle(socket));
    if (!nodeCarriesReconnects()) applyAtConnect(socket);
  }
  return result;
}

// Node's socket.setKeepAlive(false) (or, where Node takes an options object,
// { enable: false }) turns keepalive off. Node passes it on to the handle only
// when its record says "on", and the mode does not write that record (markHeld),
// nor can anyone where kSetKeepAlive is missing: where Node kept the call to
// itself, it is passed on here, and the socket is Node's from then on, as
// with any `false` (noted here too: the hook cannot where owner_symbol is missing).
const TAKES_OPTIONS = net.Socket.prototype.setKeepAlive.length >= 4;
function asksOff(enable: unknown): boolean {
  if (TAKES_OPTIONS && enable !== null && typeof enable === 'object') return (enable as { enable?: unknown }).enable === false;
  return !enable;
}

/** Node's socket.setKeepAlive (the `setKeepAlive` hook), through Node's own. */
function setKeepAliveThrough(socket: net.Socket, setKeepAlive: Fn, args: unknown[]): unknown {
  const handle = asksOff(args[0]) ? socketHandle(socket) : undefined;
  const held = handle != null && holding(handle);
  const result = setKeepAlive.apply(socket, args);
  if (held) {
    if (holding(handle)) (handle.setKeepAlive as HandleSetKeepAlive).call(handle, false, 0);
    configs.set(socket, DISABLE);
  }
  return result;
}

/**
 * Makes `config` the default for every TCP connection the process opens and
 * every TCP server it starts from now on (undefined: none). The `connect`,
 * `listen`, `setKeepAlive` and `_destroy` hooks are in place while there is
 * one; with none, every function the mode replaced is given back (the
 * handle classes' setKeepAlive, `listen` and `_destroy` too, unless an
 * explicit configuration needs them) and the process behaves as plain Node.
 */
export function setProcessDefault(config: Config | undefined): void {
  processDefault = config;
  if (config !== undefined) {
    hook('connect', 'listen', 'setKeepAlive', '_destroy');
    return;
  }
  // Explicitly configured sockets need the socket hooks for their lives on the slower path.
  if (!reconnectsByConnect) unhook('connect', 'setKeepAlive');
  for (const [handle, { server }] of [...servingHandles]) {
    if (configs.has(server)) continue;
    stopConfiguringAccepted(server, handle);
    giveBackHandleFunctions(handle);
  }
  if (explicitUse) return;
  unhook('listen', '_destroy');
  for (const classHook of handleHooks.splice(0)) {
    if (restore(classHook)) hooked.delete(classHook.owner);
    else handleHooks.push(classHook);
  }
  lastHooked = null;
}

attach({ connect: connectThrough, listen: listenThrough, setKeepAlive: setKeepAliveThrough, _destroy: destroyThrough });
