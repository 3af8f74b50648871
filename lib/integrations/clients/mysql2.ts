// tcp-keepalive/mysql2: keepalive on every connection of a mysql2 Pool, or on
// one Connection. No runtime dependency on mysql2.
import type { EventEmitter } from 'node:events';
import type net = require('node:net');
import { setValidatedKeepAlive } from '../../engine/keepalive';
import { toNativeConfig, type KeepAliveOptions } from '../../engine/options';
import { checkTarget, isMysqlTarget } from '../../engine/recognize';

/** What this needs of a mysql2 `Connection` (or a pool's `PoolConnection`): its socket. */
export interface MysqlConnectionLike extends EventEmitter {
  stream: net.Socket;
}

/** What this needs of a mysql2 `Pool`: its 'connection' event, once per new connection. */
export interface MysqlPoolLike extends EventEmitter {
  getConnection: unknown;
}

/** The promise API's wrappers carry the callback objects underneath. */
export interface MysqlPromiseLike {
  pool?: MysqlPoolLike;
  connection?: MysqlConnectionLike;
}

export type Detach = () => void;

// mysql2 keeps a pool's connections here; not public API, so only read if it is there.
interface PoolInternals {
  _allConnections?: { size?(): number; get?(index: number): MysqlConnectionLike } | MysqlConnectionLike[];
}

function connectionsOf(pool: MysqlPoolLike): MysqlConnectionLike[] {
  const all = (pool as PoolInternals)._allConnections;
  if (Array.isArray(all)) return all;
  if (typeof all?.size !== 'function' || typeof all.get !== 'function') return [];
  return Array.from({ length: all.size() }, (_, i) => all.get!(i));
}

/**
 * Applies `options` to every connection of a mysql2 `Pool` (those open now
 * and every new one, on the pool's 'connection' event), or to a single
 * `Connection` (now if its handshake is done, else on its 'connect').
 * mysql2's own `enableKeepAlive` (socket.setKeepAlive in its socket's
 * 'connect' listener) cannot undo a configured socket. A promise pool or
 * connection can be given as is. Returns a function that stops it.
 */
export function setMysqlKeepAlive(
  target: MysqlPoolLike | MysqlConnectionLike | MysqlPromiseLike,
  options?: KeepAliveOptions | boolean,
): Detach {
  checkTarget('target', target, 'a mysql2 Pool or Connection (or their promise wrappers)', isMysqlTarget);
  const config = toNativeConfig(options); // validated once, not on every connection
  const inner = (target as MysqlPromiseLike).pool ?? (target as MysqlPromiseLike).connection ?? target;
  // A failure is reported where mysql2 reports connection trouble: the
  // connection's 'error' event (a throw from these events would escape).
  const apply = (connection: MysqlConnectionLike) => {
    try {
      setValidatedKeepAlive(connection.stream, config);
    } catch (error) {
      connection.emit('error', error);
    }
  };
  if (typeof (inner as MysqlPoolLike).getConnection === 'function') {
    const pool = inner as MysqlPoolLike;
    pool.on('connection', apply);
    for (const connection of connectionsOf(pool)) {
      if ((connection as { authorized?: boolean }).authorized) apply(connection);
    }
    return () => pool.off('connection', apply);
  }
  const connection = inner as MysqlConnectionLike;
  if ((connection as { authorized?: boolean }).authorized) {
    apply(connection);
    return () => {};
  }
  const onConnect = () => apply(connection);
  connection.once('connect', onConnect);
  return () => connection.off('connect', onConnect);
}
