// From a Node object to its libuv handle: which objects are targets, which
// handle holds a socket's kernel socket (its own, or the one a TLS socket
// wraps), and whether a socket without one is closed, connecting or out of
// reach. Nothing here makes a syscall.
import net = require('node:net');
import {
  invalidArgType,
  listensElsewhere,
  serverNotListening,
  socketClosed,
  socketNotConnected,
  unsupported,
} from './errors';
import type * as Recognize from './recognize';
import { runtimeName } from '../kernel/node';
import type { Handle } from '../kernel/seam';

export type { Handle };

/** Anything setKeepAlive and getKeepAlive accept: tls.TLSSocket is a net.Socket, tls/http(s) servers are net.Servers. */
export type KeepAliveTarget = net.Socket | net.Server;

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
export const isSocket = (target: unknown): target is net.Socket => socketPrototype.isPrototypeOf(target as object);
export const isServer = (target: unknown): target is net.Server => serverPrototype.isPrototypeOf(target as object);

// Node keeps the libuv handle (TCP, Pipe or TLSWrap) on `_handle`; its `fd`
// is the kernel socket on Unix. Not public API, but stable since Node 0.x and
// the only way to reach the fd.
//
// Node 20 to 26 define a socket's `_handle` as an accessor on net.Socket's
// prototype, which V8 keeps in dictionary mode, `get() { return this[kHandle]; }`,
// with one getter for every kind of stream in the process: V8 cannot inline
// it, and its own lookup is megamorphic (the last of the set path's reads,
// taken out alone, was about 15 ns of JavaScript per call; there were four).
// The property it reads is an own property of every socket, under Node's
// internal symbol `kHandle`, which V8 inlines when read here: it is found
// once, and used only if Node's getter (non-configurable: nothing can swap it
// later) is shown to return exactly that property; anywhere else `_handle` is
// read (Bun 1.4, whose `_handle` is a plain property; a later Node). Deno 2.9
// runs Node's net.js and takes the fast path. Every path reads a socket's
// handle once and passes it on. (A server's `_handle` is a plain property.)
// Found on the first socket asked about (not at load: making a socket of our
// own to look costs start-up time): null where `_handle` is read instead. An
// object that shows no such symbol (an http2 session's socket Proxy shows the
// session's) leaves the question open for the next one.
let kHandle: symbol | null | undefined;
function findKHandle(socket: net.Socket): symbol | null | undefined {
  const getter = Object.getOwnPropertyDescriptor(socketPrototype, '_handle')?.get;
  if (getter === undefined) return null;
  const symbol = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kHandle');
  if (symbol === undefined) return undefined;
  const marker = {};
  return getter.call({ [symbol]: marker }) === marker ? symbol : null;
}

/** Whether Node's `kHandle` was found (undefined: no socket asked about yet); `_handle` is read where it was not. */
export const handleSymbolFound = (): boolean | undefined => (kHandle === undefined ? undefined : kHandle !== null);

/** A socket's `_handle`: null or undefined when it has none. */
export function socketHandle(socket: net.Socket): Handle | null | undefined {
  if (kHandle === undefined) kHandle = findKHandle(socket);
  return kHandle == null
    ? (socket as WithHandle)._handle
    : (socket as unknown as Record<symbol, Handle | null | undefined>)[kHandle];
}

/** A server's `_handle` (a plain property). */
export const serverHandle = (server: net.Server): Handle | null | undefined => (server as WithHandle)._handle;

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
export function tcpSocketOf(socket: net.Socket, handle: Handle | null | undefined): net.Socket {
  const parent = (socket as TlsInternals)._parent;
  if (parent == null || !isSocket(parent)) return socket; // not a TLS socket over another socket
  return (handle as OverJSStream | null | undefined)?._parent?.constructor?.name === 'JSStream' ? parent : socket;
}

// child.send('socket', s) without keepOpen takes the handle away and leaves a
// socket that looks like one never connected: no handle, not connecting, not
// destroyed. Node's async id (-1 until a handle is attached) tells them apart.
let asyncIdSymbol: symbol | undefined;
/** Whether a socket is closed for good: destroyed, or its handle handed to another process. */
export function closed(socket: net.Socket): boolean {
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
export function noHandle(): Error {
  return unsupported(
    `this socket is open but ${runtimeName()} gives it no handle, so there is no kernel socket to reach ` +
      "(Bun's node:http and https servers are Bun's own; a net or tls server's sockets have one)",
  );
}

// In a cluster worker with round-robin scheduling (Node's default, and pm2's
// cluster mode) the listening socket is in the primary process: the worker's
// server has a stand-in handle with no fd, and each connection arrives over
// IPC. Nothing can be inherited there. Node loads node:cluster itself in a
// worker, before any application code (lib/internal/process/pre_execution.js),
// and nowhere else unless asked: it is asked only where it is loaded already.
export const inClusterWorker =
  ((process as { moduleLoadList?: string[] }).moduleLoadList ?? []).includes('NativeModule cluster') &&
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:cluster') as { isWorker: boolean }).isWorker;
/** Whether `server` is a round-robin cluster worker's stand-in, whose listening socket is the primary's. */
export function listensInPrimary(server: net.Server): boolean {
  return inClusterWorker && serverHandle(server)?.fd === undefined;
}

/** ERR_INVALID_ARG_TYPE for what is neither a socket nor a server. */
export function notATarget(target: unknown): Error {
  // A client (setKeepAlive(redis)) is a common first try: name its helper.
  // (Loaded on this error's path only.)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { useInstead } = require('./recognize') as typeof Recognize;
  return invalidArgType('target', ['net.Socket', 'tls.TLSSocket', 'net.Server'], target, useInstead(target));
}

/**
 * The handle of the kernel socket a read reaches: a connected socket's own
 * (or the TCP socket a TLS socket over a JS stream wraps), or a listening
 * server's. Throws the error that says why there is none: closed, not
 * connected yet, no handle at all, not listening, listening in the primary.
 */
export function openHandle(target: KeepAliveTarget, socket: boolean): Handle {
  if (!socket) {
    const server = target as net.Server;
    const handle = serverHandle(server);
    if (handle == null || !server.listening) throw serverNotListening();
    if (listensInPrimary(server)) throw listensElsewhere();
    return handle;
  }
  let handle = socketHandle(target as net.Socket);
  const tcp = tcpSocketOf(target as net.Socket, handle);
  if (tcp !== target) handle = socketHandle(tcp);
  if (handle == null || tcp.connecting) {
    if (closed(tcp)) throw socketClosed();
    throw tcp.pending === false ? noHandle() : socketNotConnected();
  }
  return handle;
}
