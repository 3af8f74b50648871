// setKeepAlive / getKeepAlive: find the kernel socket behind a Node object,
// or wait until there is one, and make exactly one call through the seam on
// it. How a configuration then follows the object: ./lifecycle.ts.
import net = require('node:net');
import { kernel } from '../kernel';
import { socketClosed } from './errors';
import {
  closed,
  isServer,
  isSocket,
  noHandle,
  notATarget,
  openHandle,
  socketHandle,
  tcpSocketOf,
  type KeepAliveTarget,
} from './handles';
import { configureConnected, configurePending, configureServer, ownSocket } from './lifecycle';
import { extraArgument, toNativeConfig, type KeepAliveOptions, type KeepAliveState, type NativeConfig } from './options';

export type { KeepAliveTarget };

/** Which options can be set here (this build, this runtime, this Node version); on Linux all of them. */
export declare const supported: typeof kernel.supported;
// A getter (the way to the kernel is chosen at first use), in the form Node's CommonJS lexer reads.
const lazy = {
  get supported(): typeof kernel.supported {
    return kernel.supported;
  },
};
Object.defineProperty(exports, 'supported', {
  enumerable: true,
  // eslint-disable-next-line object-shorthand
  get: function () {
    return lazy.supported;
  },
});

function configureSocket(target: net.Socket, config: Readonly<NativeConfig>): void {
  let handle = socketHandle(target);
  let socket = tcpSocketOf(target, handle);
  if (socket !== target) handle = socketHandle(socket);
  // An http2 session's socket is a Proxy that refuses most of what a socket
  // does: its life is followed on the socket behind it, its handle's owner.
  if (handle != null) socket = ownSocket(socket, handle);
  // A socket with a handle that is not connecting is connected: destroy()
  // drops the handle at once. Only the other cases need a closer look.
  if (handle != null && !socket.connecting) return configureConnected(socket, handle, config);
  if (closed(socket)) throw socketClosed();
  if (socket.pending === false) throw noHandle();
  configurePending(socket, config);
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
