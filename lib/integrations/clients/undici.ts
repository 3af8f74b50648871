// tcp-keepalive/undici: a connector for undici's Agent, Pool and Client
// `connect` option (and so for fetch, through setGlobalDispatcher) that
// configures every socket it connects. undici is an optional peer dependency,
// loaded only when no base connector is given.
import type net = require('node:net');
import { setValidatedKeepAlive } from '../../engine/keepalive';
import { invalidArgType } from '../../engine/errors';
import { toNativeConfig, type KeepAliveOptions } from '../../engine/options';

/** undici's connector shape (`buildConnector.connector`). */
export type Connector = (
  options: object,
  callback: (...args: [Error, null] | [null, net.Socket]) => void,
) => unknown;

/**
 * A connector that makes each connection with `base` (by default undici's
 * own `buildConnector(connectOptions)`), then applies `options` before undici
 * sees the socket. A failure fails that connection, as a connect error.
 *
 *   new Agent({ connect: keepAliveConnector({ idle: 30_000 }) })
 */
export function keepAliveConnector(options?: KeepAliveOptions | boolean, base?: Connector | object): Connector {
  const config = toNativeConfig(options); // validated once, not on every connection
  if (base !== undefined && typeof base !== 'function' && (typeof base !== 'object' || base === null)) {
    throw invalidArgType('base', 'a connector function or an object of undici connect options', base);
  }
  let connect: Connector;
  if (typeof base === 'function') {
    connect = base as Connector;
  } else {
    let undici: { buildConnector(o: object): Connector };
    // In a try: an application that bundles this package (esbuild, webpack)
    // without undici then leaves it out, instead of failing to bundle.
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      undici = require('undici') as typeof undici;
    } catch (error) {
      throw new Error("keepAliveConnector needs undici for its default connector: install undici, or pass a connector of your own as `base`", { cause: error });
    }
    connect = undici.buildConnector(base ?? {});
  }
  return (connectOptions, callback) =>
    connect(connectOptions, (err: Error | null, socket: net.Socket | null) => {
      if (err || !socket) return callback(err ?? new Error('connector returned no socket'), null);
      try {
        setValidatedKeepAlive(socket, config);
      } catch (error) {
        socket.destroy();
        return callback(error as Error, null);
      }
      return callback(null, socket);
    });
}
