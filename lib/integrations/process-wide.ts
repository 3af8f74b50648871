// The process-wide mode: every TCP connection the process opens, and every
// TCP server it starts, gets one keepalive configuration. Behind
// `tcp-keepalive/register` (configured by the TCP_KEEPALIVE environment
// variable) and `register(options)`.
//
// It is the engine's own mechanism with a default (lib/engine/lifecycle.ts,
// through the hooks in lib/engine/hooks.ts): every outgoing connection starts at net.Socket.prototype.connect (net.connect,
// new net.Socket().connect(), tls.connect, http(s) agents, undici and fetch,
// and every client built on them), where a socket without a configuration of
// its own takes the default when it connects. (diagnostics_channel's
// `net.client.socket` misses tls.connect and Socket#connect on Node 20 and
// fires before there is an fd.) Every net, tls, http, https and http2 server
// starts at net.Server.prototype.listen: its listening socket is configured
// once and the kernel copies the options to every connection it accepts.
import { setAtFirstUse, settleFirstUse } from '../engine/hooks';
import type * as Lifecycle from '../engine/lifecycle';
import type { KeepAliveError } from '../engine/errors';
import { toNativeConfig, type KeepAliveOptions, type NativeConfig } from '../engine/options';

/** Ends a registration; sockets and servers configured under it keep their options. */
export type Unregister = () => void;

// The configurations of live registrations, newest last; the newest one
// configures new sockets. Each is an object of its own: it identifies its registration.
const registrations: Array<Readonly<NativeConfig>> = [];

// A socket or server that cannot take the default is the application's to
// keep: never destroyed, never an 'error' event. Said once per kind, not per
// connection. What is not TCP (listen({ fd }), a handle passed in) is left
// alone without a word.
const warned = new Set<string>();
function warnOnce(kind: 'socket' | 'server', error: Error): void {
  const { code, option } = error as KeepAliveError & { option?: string };
  if (code === 'ERR_SOCKET_NOT_TCP') return;
  const key = `${kind} ${code}`;
  if (warned.has(key)) return;
  warned.add(key);
  const what = kind === 'socket' ? 'a connection' : "a server's listening socket";
  const where = option === undefined ? '' : ` setting ${option}`; // a kernel error names the option it refused
  process.emitWarning(`tcp-keepalive could not configure ${what} (${code}${where}): ${error.message}; ` +
    'further failures of this kind are not reported', { code: 'TCP_KEEPALIVE_NOT_APPLIED' });
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
  const config = Object.freeze({ ...toNativeConfig(options), notApplied: warnOnce });
  // The preload's registration, if it still waits for the first connect or
  // listen, takes its place first: this one is newer, and ending it gives
  // the process the preload's default again.
  settleFirstUse();
  const { setProcessDefault } = engine();
  registrations.push(config);
  setProcessDefault(config);
  return () => {
    const i = registrations.indexOf(config);
    if (i === -1) return;
    registrations.splice(i, 1);
    setProcessDefault(registrations.at(-1));
  };
}

/**
 * register(options) for the preload (tcp-keepalive/register), with the
 * options already checked (checkOptions) and validated against the way to
 * the kernel at the process's first connect or listen: the addon is not
 * loaded before the application runs. Options that this platform's way
 * cannot take (the fallback's, where no addon loads) are reported then, once,
 * by `refused`, and the mode configures nothing.
 */
export function registerAtFirstUse(options: KeepAliveOptions, refused: (error: Error) => void): void {
  setAtFirstUse(() => {
    let config: Readonly<NativeConfig> | undefined;
    try {
      config = Object.freeze({ ...toNativeConfig(options), notApplied: warnOnce });
      registrations.push(config);
    } catch (error) {
      refused(error as Error);
      config = registrations.at(-1);
    }
    engine().setProcessDefault(config);
  });
}

// The engine, loaded when a default is made: the preload loads this module
// and hooks.ts, and the engine only at the first connect or listen.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const engine = (): typeof Lifecycle => require('../engine/lifecycle') as typeof Lifecycle;
