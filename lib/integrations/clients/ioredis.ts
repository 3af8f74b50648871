// tcp-keepalive/ioredis: keepalive on every connection an ioredis Redis or
// Cluster makes, now and after every reconnect. No runtime dependency on
// ioredis: the types below are the little of it this uses.
import type { EventEmitter } from 'node:events';
import type net = require('node:net');
import { setValidatedKeepAlive } from '../../engine/keepalive';
import { toNativeConfig, type KeepAliveOptions, type NativeConfig } from '../../engine/options';
import { checkTarget, isRedisTarget } from '../../engine/recognize';

/** What this needs of an ioredis `Redis`: its current socket and its events. */
export interface RedisLike extends EventEmitter {
  stream?: net.Socket;
  status: string;
}

/** What this needs of an ioredis `Cluster`: its nodes and its events. */
export interface ClusterLike extends EventEmitter {
  isCluster: true;
  nodes(role?: 'all'): RedisLike[];
}

/** Undoes what setRedisKeepAlive attached; the sockets keep their options. */
export type Detach = () => void;

function isCluster(client: RedisLike | ClusterLike): client is ClusterLike {
  return (client as ClusterLike).isCluster === true && typeof (client as ClusterLike).nodes === 'function';
}

function attachToRedis(redis: RedisLike, config: Readonly<NativeConfig>): Detach {
  // ioredis's own `keepAlive` (socket.setKeepAlive, on the socket's connect)
  // cannot undo a configured socket, whichever runs first. An error here (a
  // Unix-socket connection, say) goes where ioredis reports connection
  // trouble: the client's 'error' event.
  const onConnect = () => {
    if (redis.stream === undefined) return;
    try {
      setValidatedKeepAlive(redis.stream, config);
    } catch (error) {
      redis.emit('error', error);
    }
  };
  redis.on('connect', onConnect);
  if ((redis.status === 'connect' || redis.status === 'ready') && redis.stream) setValidatedKeepAlive(redis.stream, config);
  return () => redis.off('connect', onConnect);
}

/**
 * Applies `options` to the connection of an ioredis `Redis` (now, if it is
 * connected, and on every connect and reconnect), or to every node of a
 * `Cluster`, including nodes it discovers later. Returns a function that
 * stops doing so. Invalid options throw at once, as in setKeepAlive.
 */
export function setRedisKeepAlive(client: RedisLike | ClusterLike, options?: KeepAliveOptions | boolean): Detach {
  checkTarget('client', client, 'an ioredis Redis or Cluster', isRedisTarget);
  const config = toNativeConfig(options); // validated once, not on every connect
  if (!isCluster(client)) return attachToRedis(client, config);
  const detachers = new Map<RedisLike, Detach>();
  const addNode = (node: RedisLike) => {
    if (!detachers.has(node)) detachers.set(node, attachToRedis(node, config));
  };
  const removeNode = (node: RedisLike) => {
    detachers.get(node)?.();
    detachers.delete(node);
  };
  client.on('+node', addNode);
  client.on('-node', removeNode);
  for (const node of client.nodes('all')) addNode(node);
  return () => {
    client.off('+node', addNode);
    client.off('-node', removeNode);
    for (const detach of detachers.values()) detach();
    detachers.clear();
  };
}
