// The platform fallback. Where the addon cannot reach the socket (Windows and
// Deno show no file descriptor; FreeBSD and other systems have no port, and
// build src/keepalive_unsupported.cc), the one way left to the socket is
// Node's own socket.setKeepAlive. It sets enable and idle on every Node, and
// interval and count where it takes four arguments (Node 24.21+ and 26); it
// has no user timeout and nothing can read the options back. A configuration
// it can apply in full is applied; what the caller asked for explicitly and it
// cannot do is refused before anything changes; a default it cannot apply
// (the derived userTimeout; interval and count on Node 20 and 22) is left to
// Node, and the README says what Node does with it.
import net = require('node:net');
import { binding, RUNTIME_WITHOUT_FDS } from './binding';
import { notTcp, unsupported } from './errors';
import type { NativeConfig } from './options';

/**
 * Whether this process takes the fallback: the addon can set nothing here (a
 * platform without a port, or a runtime that shows no fd and so never loads it).
 */
export const VIA_NODE = binding.supportedOptions === 0;

/**
 * Bits of NativeConfig.given (lib/options.ts sets them): the options the
 * caller gave rather than left to their defaults. A default the fallback
 * cannot apply is left to Node; a given one is refused.
 */
export const GIVEN_INTERVAL = 1 << 2;
export const GIVEN_COUNT = 1 << 3;
export const GIVEN_USER_TIMEOUT = 1 << 4;

type NodeSetKeepAlive = (this: net.Socket, enable: boolean, delay: number, interval?: number, count?: number) => net.Socket;

// Node's own method, taken once at load: whatever later wraps it on the
// prototype or on one socket, this is the call that reaches libuv.
const nodeSetKeepAlive = net.Socket.prototype.setKeepAlive as NodeSetKeepAlive;

/**
 * Whether Node's setKeepAlive takes (enable, delay, interval, count): its
 * declared length is 4 on Node 24.21+ and 26, 2 on Node 20, 22 and Deno 2.9.
 * Read from the method itself, never guessed from a version number.
 */
export const FOUR_ARGUMENTS = nodeSetKeepAlive.length >= 4;

/** What the fallback can set, on this runtime and this Node version. */
export const fallbackSupported: Readonly<Record<'enable' | 'idle' | 'interval' | 'count' | 'userTimeout', boolean>> =
  Object.freeze({ enable: true, idle: true, interval: FOUR_ARGUMENTS, count: FOUR_ARGUMENTS, userTimeout: false });

// Where this is and why the addon is not used, for the errors.
const where =
  RUNTIME_WITHOUT_FDS !== undefined
    ? `${RUNTIME_WITHOUT_FDS}, where no socket shows its file descriptor`
    : `this platform, which tcp-keepalive has no native port for`;
const runtime = process.versions.deno !== undefined ? `Deno ${process.versions.deno}` : `Node ${process.version}`;

/**
 * Refuses, before anything changes, what the caller asked for explicitly and
 * Node's setKeepAlive cannot do here; toNativeConfig calls it on the
 * fallback. `userTimeout: 0` (the system's behaviour) is what the socket has
 * without one, so it is accepted.
 */
export function checkViaNode(config: Readonly<NativeConfig>): void {
  if (!config.enable) return; // SO_KEEPALIVE off: Node can do that everywhere
  const refused: string[] = [];
  if (!FOUR_ARGUMENTS) {
    if ((config.given & GIVEN_INTERVAL) !== 0) refused.push('options.interval');
    if ((config.given & GIVEN_COUNT) !== 0) refused.push('options.count');
  }
  if ((config.given & GIVEN_USER_TIMEOUT) !== 0 && config.userTimeoutMs !== 0) refused.push('options.userTimeout');
  if (refused.length === 0) return;
  const reasons: string[] = [];
  if (refused.includes('options.userTimeout')) reasons.push('it has no user timeout (TCP_USER_TIMEOUT)');
  if (refused.length > 1 || refused[0] !== 'options.userTimeout') {
    reasons.push(`${runtime}'s takes only (enable, delay); interval and count need the four-argument form that Node 24.21 added`);
  }
  throw unsupported(
    `${refused.join(', ')} cannot be set on ${where}: the only way to the socket is the runtime's own ` +
      `socket.setKeepAlive, and ${reasons.join('; ')}`,
  );
}

/** Applies a configuration checkViaNode accepted to a connected socket, with Node's own call. */
export function applyViaNode(socket: net.Socket, config: Readonly<NativeConfig>): void {
  // Node's call does nothing, silently, on a handle without the method: a
  // Unix-domain socket or a Windows named pipe (libuv's Pipe). Say so.
  const handle = (socket as { _handle?: { setKeepAlive?: unknown } | null })._handle;
  if (typeof handle?.setKeepAlive !== 'function') throw notTcp("Node's setKeepAlive has no TCP handle to set");
  if (!config.enable) nodeSetKeepAlive.call(socket, false, 0);
  else if (FOUR_ARGUMENTS) {
    nodeSetKeepAlive.call(socket, true, config.idleSeconds * 1000, config.intervalSeconds * 1000, config.count);
  } else nodeSetKeepAlive.call(socket, true, config.idleSeconds * 1000);
}

// Node can configure no listening socket, so a server's configuration is
// applied to each connection it accepts, as Node's own
// createServer({ keepAlive }) does: one setKeepAlive per accepted socket.
const kServerConfig = Symbol('tcp-keepalive.fallback.server');
interface FallbackServer extends net.Server {
  [kServerConfig]?: Readonly<NativeConfig>;
}

function applyToAccepted(this: FallbackServer, socket: net.Socket): void {
  applyViaNode(socket, this[kServerConfig]!);
}

/** Every connection the server accepts from now on gets `config`; the last call wins. */
export function configureServerViaNode(server: net.Server, config: Readonly<NativeConfig>): void {
  const s = server as FallbackServer;
  const attached = s[kServerConfig] !== undefined;
  s[kServerConfig] = config;
  // Prepended, so the server's own 'connection' listeners (tls, http) and the
  // user's already see the accepted socket configured.
  if (!attached) s.prependListener('connection', applyToAccepted);
}

/** getKeepAlive on the fallback: Node has no way to read the options back. */
export function cannotRead(): Error {
  return unsupported(
    `keepalive options cannot be read on ${where}: the runtime's own socket.setKeepAlive is the only way to the socket, and it has no getter`,
  );
}
