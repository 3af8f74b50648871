// The fallback's way to the kernel: the runtime's own socket.setKeepAlive.
// Where the addon cannot reach the socket (Windows and Deno show no file
// descriptor; FreeBSD and other systems have no port, and build
// src/keepalive_unsupported.cc), it is the one way left. It sets enable and
// idle on every Node, and interval and count where it takes four arguments
// (Node 24.21+ and 26); it has no user timeout, cannot configure a listening
// socket and cannot read anything back. What the caller asked for explicitly
// and it cannot do is refused by validation (lib/engine/options.ts, from
// `supported`) before anything changes; a default it cannot apply (the derived
// userTimeout; interval and count on Node 20 and 22) is left to Node, and the
// docs say what Node does with it.
import net = require('node:net');
import { notTcp, unsupported } from '../engine/errors';
import type { Handle, Kernel, NativeConfig } from './seam';

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

/** The runtime, named as it names itself, for messages. */
export function runtimeName(): string {
  if (process.versions.bun !== undefined) return `Bun ${process.versions.bun}`;
  if (process.versions.deno !== undefined) return `Deno ${process.versions.deno}`;
  return `Node ${process.version}`;
}

/**
 * The Kernel that goes through the runtime's own socket.setKeepAlive.
 * `where` says where this is and why the addon is not used, for the errors:
 * "Node on Windows, where no socket shows its file descriptor".
 */
export function nodeKernel(where: string): Kernel {
  const runtime = runtimeName();
  return {
    name: 'node',
    supported: Object.freeze({ enable: true, idle: true, interval: FOUR_ARGUMENTS, count: FOUR_ARGUMENTS, userTimeout: false }),
    readsBack: false,
    // Node can configure no listening socket, so the engine applies a
    // server's configuration to each connection it accepts, as Node's own
    // createServer({ keepAlive }) does: one setKeepAlive per accepted socket.
    acceptedSocketsInherit: false,
    optionNames: ['SO_KEEPALIVE', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_USER_TIMEOUT', 'SO_PROTOCOL', 'TCP_INFO'],
    userTimeoutUnitMs: 1,
    cannotSet(refused) {
      const reasons: string[] = [];
      if (refused.includes('options.userTimeout')) reasons.push('it has no user timeout (TCP_USER_TIMEOUT)');
      if (refused.some((name) => name !== 'options.userTimeout')) {
        reasons.push(`${runtime}'s takes only (enable, delay); interval and count need the four-argument form that Node 24.21 added`);
      }
      return unsupported(
        `${refused.join(', ')} cannot be set on ${where}: the only way to the socket is the runtime's own ` +
          `socket.setKeepAlive, and ${reasons.join('; ')}`,
      );
    },
    cannotRead() {
      return unsupported(
        `keepalive options cannot be read on ${where}: the runtime's own socket.setKeepAlive is the only way to the socket, and it has no getter`,
      );
    },
    cannotReadTcpInfo() {
      return unsupported(
        `the live state of a connection (TCP_INFO) cannot be read on ${where}: the runtime's own socket.setKeepAlive is the only way to the socket, and the runtime has no way to read it`,
      );
    },
    apply(target, handle, config) {
      if (target instanceof net.Server) return; // see acceptedSocketsInherit
      applyToSocket(target, handle, config);
    },
    read() {
      throw this.cannotRead();
    },
    tcpInfo() {
      throw this.cannotReadTcpInfo();
    },
    endpoints() {
      throw this.cannotReadTcpInfo();
    },
    peekProcess() {
      throw unsupported(`another process's sockets cannot be read on ${where}: that takes the native addon, which is not used here`);
    },
  };
}

function applyToSocket(socket: net.Socket, handle: Handle, config: Readonly<NativeConfig>): void {
  // Node's call does nothing, silently, on a handle without the method: a
  // Unix-domain socket or a Windows named pipe (libuv's Pipe). Say so.
  if (typeof handle.setKeepAlive !== 'function') throw notTcp(`${runtimeName()}'s setKeepAlive has no TCP handle to set`);
  if (!config.enable) nodeSetKeepAlive.call(socket, false, 0);
  else if (FOUR_ARGUMENTS) {
    nodeSetKeepAlive.call(socket, true, config.idleSeconds * 1000, config.intervalSeconds * 1000, config.count);
  } else nodeSetKeepAlive.call(socket, true, config.idleSeconds * 1000);
}
