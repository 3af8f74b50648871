// The process-wide mode: every TCP connection the process opens, and every
// TCP server it starts, gets one keepalive configuration. Behind
// `tcp-keepalive/register` (configured by the TCP_KEEPALIVE environment
// variable) and `register(options)`.
//
// Two prototype methods cover everything. net.Socket.prototype.connect is
// where every outgoing connection starts: net.connect, new net.Socket().connect(),
// tls.connect, http(s) agents, undici and fetch, and every client built on
// them. (diagnostics_channel's `net.client.socket` misses tls.connect and
// Socket#connect on Node 20 and fires before there is an fd.) And
// net.Server.prototype.listen is where every net, tls, http, https and http2
// server starts: its listening socket is configured once and the kernel
// copies the options to every connection it accepts, so accepting costs
// nothing. Accepted sockets never go through connect.
import net = require('node:net');
import { keepByDefault, keptConfiguration, setValidatedKeepAlive } from '../engine/keepalive';
import type { KeepAliveError } from '../engine/errors';
import { listensInPrimary } from '../engine/handles';
import { toNativeConfig, type KeepAliveOptions, type NativeConfig } from '../engine/options';

/** Ends a registration; sockets and servers configured under it keep their options. */
export type Unregister = () => void;

// The configuration a server took when it started to listen: it follows that
// object through re-listens, as Node's own keepalive setting does. (A socket
// carries its configuration as after setKeepAlive: lib/engine/keepalive.ts.)
const kConfig = Symbol('tcp-keepalive.processWide');
interface Watched {
  [kConfig]?: Readonly<NativeConfig>;
  _pipeName?: string;
}

// Live registrations, newest last; the newest one configures new sockets.
const registrations: Array<{ config: Readonly<NativeConfig> }> = [];
let current: Readonly<NativeConfig> | undefined;

const socketProto = net.Socket.prototype as unknown as { connect: (...args: unknown[]) => net.Socket };
const serverProto = net.Server.prototype as unknown as { listen: (...args: unknown[]) => net.Server };
let nodeConnect: ((...args: unknown[]) => net.Socket) | undefined;
let nodeListen: ((...args: unknown[]) => net.Server) | undefined;

// Node decides the same way (`const pipe = !!options.path`) after
// normalizing its arguments: an options object, the [options, callback]
// array net.connect hands over, or a leading string that is not a number.
// Deciding here costs no syscall; a Unix-domain socket is never touched.
function isPipe(first: unknown): boolean {
  const options = Array.isArray(first) ? first[0] : first;
  if (options !== null && typeof options === 'object') return Boolean((options as { path?: unknown }).path);
  return typeof options === 'string' && !(Number(options) >= 0);
}

// One path for every configuration a socket takes when it connects, ours or
// the application's (lib/engine/keepalive.ts): the socket carries this one from here
// unless it carries one already, and an explicit setKeepAlive(socket, ...)
// made at any time before the connect completes replaces it, `false`
// included. Once connected, a client's own socket.setKeepAlive(true, ms)
// changes nothing (sticky), and an explicit setKeepAlive replaces ours.
function connect(this: net.Socket): net.Socket {
  // `arguments` passed on untouched: no array of our own per connection.
  // eslint-disable-next-line prefer-rest-params
  const args = arguments as unknown as unknown[];
  if (current !== undefined && !isPipe(args[0])) keepByDefault(this, current);
  return nodeConnect!.apply(this, args);
}

function listen(this: net.Server & Watched): net.Server {
  // eslint-disable-next-line prefer-rest-params
  const args = arguments as unknown as unknown[];
  const config = current;
  if (config !== undefined && this[kConfig] === undefined) {
    this[kConfig] = config;
    this.prependListener('listening', onListening);
  }
  return nodeListen!.apply(this, args);
}

// A cluster worker with round-robin scheduling (Node's default) listens
// through the primary: its server has a stand-in handle with no fd, and the
// primary's own listening socket, configured by the primary's registration
// (cluster.fork passes on execArgv and the environment), hands over
// connections that already hold the options. Configuring each of them again
// in the worker would cost five syscalls per connection for nothing.

function onListening(this: net.Server & Watched): void {
  if (this._pipeName !== undefined) return; // a Unix-domain socket or pipe
  if (listensInPrimary(this)) return;
  // Kept across re-listens by the server itself; setKeepAlive(server, ...) by the application wins.
  if (keptConfiguration(this) !== undefined) return;
  try {
    setValidatedKeepAlive(this, this[kConfig]!);
  } catch (error) {
    // listen(handle) and listen({ fd }) can be anything; not TCP is skipped.
    if ((error as KeepAliveError).code === 'ERR_SOCKET_NOT_TCP') return;
    warnOnce('server', error as KeepAliveError);
  }
}

// A socket that cannot be configured is the application's to keep: never
// destroyed, never an 'error' event. Said once per kind, not per connection.
const warned = new Set<string>();
function warnOnce(kind: 'socket' | 'server', error: Error): void {
  const { code, option } = error as KeepAliveError & { option?: string };
  const key = `${kind} ${code}`;
  if (warned.has(key)) return;
  warned.add(key);
  const what = kind === 'socket' ? 'a connection' : "a server's listening socket";
  const where = option === undefined ? '' : ` setting ${option}`; // a kernel error names the option it refused
  process.emitWarning(`tcp-keepalive could not configure ${what} (${code}${where}): ${error.message}; ` +
    'further failures of this kind are not reported', { code: 'TCP_KEEPALIVE_NOT_APPLIED' });
}

function install(): void {
  if (nodeConnect !== undefined) return;
  nodeConnect = socketProto.connect;
  nodeListen = serverProto.listen;
  socketProto.connect = connect;
  serverProto.listen = listen;
}

function uninstall(): void {
  // Someone may have wrapped our wrappers since: then ours stay in place,
  // passing every call straight through while nothing is registered.
  if (socketProto.connect === connect) {
    socketProto.connect = nodeConnect!;
    nodeConnect = undefined;
  }
  if (serverProto.listen === listen) {
    serverProto.listen = nodeListen!;
    nodeListen = undefined;
  }
}

/**
 * Configures every TCP connection this process opens from now on (net,
 * tls, http(s) agents, undici and fetch, and the clients built on them), and
 * every TCP server that starts listening from now on, through its listening
 * socket. Unix-domain sockets and pipes are skipped. Options as in
 * setKeepAlive, validated here. Returns a function that ends it; sockets
 * already configured keep their options. With several registrations the
 * newest one applies.
 */
export function register(options?: KeepAliveOptions | boolean): Unregister {
  // A failure to apply it is a warning, never the application's socket's
  // end or an 'error' event; lib/engine/keepalive.ts reports through notApplied.
  const registration = { config: { ...toNativeConfig(options), notApplied: warnOnce } };
  registrations.push(registration);
  current = registration.config;
  install();
  return () => {
    const i = registrations.indexOf(registration);
    if (i === -1) return;
    registrations.splice(i, 1);
    current = registrations.at(-1)?.config;
    if (current === undefined) uninstall();
  };
}
