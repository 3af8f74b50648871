// tcp-keepalive/pg: keepalive on every physical connection of a pg Pool, or
// on one pg Client. No runtime dependency on pg.
import type { EventEmitter } from 'node:events';
import type net = require('node:net');
import type { Duplex } from 'node:stream';
import { setValidatedKeepAlive } from '../../engine/keepalive';
import { toNativeConfig, type KeepAliveOptions } from '../../engine/options';
import { checkTarget, isPgTarget } from '../../engine/recognize';

/**
 * What this needs of a pg `Client`: its connection's socket (a TLSSocket
 * after SSL). pg types it as a Duplex because a `stream` factory may supply
 * one; setKeepAlive then rejects anything that is not a net.Socket.
 */
export interface PgClientLike extends EventEmitter {
  connection: { stream: Duplex };
}

/** What this needs of a pg `Pool`: its 'connect' event, once per new physical connection. */
export interface PgPoolLike extends EventEmitter {
  totalCount: number;
}

export type Detach = () => void;

function isPool(target: PgPoolLike | PgClientLike): target is PgPoolLike {
  return typeof (target as PgPoolLike).totalCount === 'number';
}

// pg-pool keeps its clients here; not public API, so only read if it is there.
interface PoolInternals {
  _clients?: Array<PgClientLike & { _connected?: boolean }>;
}

/**
 * Applies `options` to every physical connection of a pg `Pool` (those open
 * now and every new one), or to a pg `Client` (now if it is connected, else
 * when it connects). pg's own `keepAlive` (socket.setKeepAlive) cannot undo
 * a configured socket. Returns a function that stops it.
 */
export function setPgKeepAlive(target: PgPoolLike | PgClientLike, options?: KeepAliveOptions | boolean): Detach {
  checkTarget('target', target, 'a pg Pool or Client', isPgTarget);
  const config = toNativeConfig(options); // validated once, not on every connection
  const apply = (client: PgClientLike) => setValidatedKeepAlive(client.connection.stream as net.Socket, config);
  if (isPool(target)) {
    // pg-pool emits 'connect' from a callback: a throw there would escape,
    // so a failure is reported as the pool's 'error', like a lost client.
    const onConnect = (client: PgClientLike) => {
      try {
        apply(client);
      } catch (error) {
        target.emit('error', error, client);
      }
    };
    target.on('connect', onConnect);
    for (const client of (target as PoolInternals)._clients ?? []) if (client._connected) apply(client);
    return () => target.off('connect', onConnect);
  }
  if ((target as { _connected?: boolean })._connected) {
    apply(target);
    return () => {};
  }
  const onConnect = () => {
    try {
      apply(target);
    } catch (error) {
      target.emit('error', error);
    }
  };
  target.once('connect', onConnect);
  return () => target.off('connect', onConnect);
}
