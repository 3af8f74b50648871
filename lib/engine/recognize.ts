// What kind of object a target is, for the client helpers and for the
// engine's error hints. What each client helper accepts as its target, checked
// before anything is attached. A wrong target is refused at once with ERR_INVALID_ARG_TYPE, and
// when it is recognisably something another entry point handles, the error
// names that one: without this, plain JavaScript reached a helper with a
// wrong object and failed later with "x.once is not a function", or silently
// did nothing. Structural tests only: no client is imported.
import net = require('node:net');
import { invalidArgType } from './errors';

type Shape = Record<string, unknown>;
const isObject = (value: unknown): value is Shape => typeof value === 'object' && value !== null;
const isEmitter = (value: unknown): value is Shape => isObject(value) && typeof value.on === 'function';

/** An ioredis `Redis` (it has a string `status`) or `Cluster`. */
export const isRedisTarget = (value: unknown): boolean =>
  isEmitter(value) && (typeof value.status === 'string' || (value.isCluster === true && typeof value.nodes === 'function'));

/** A pg `Pool` (it counts its clients) or `Client` (its connection has a stream from construction on). */
export const isPgTarget = (value: unknown): boolean =>
  isEmitter(value) &&
  (typeof value.totalCount === 'number' || (isObject(value.connection) && 'stream' in value.connection));

/** A mysql2 `Pool` (it lends connections) or `Connection` (it has a stream), or their promise wrappers. */
export const isMysqlTarget = (value: unknown): boolean =>
  isObject(value) &&
  ((isEmitter(value) && (typeof value.getConnection === 'function' || (typeof value.threadId !== 'undefined' && 'stream' in value))) ||
    (isObject(value.pool) && isMysqlTarget(value.pool)) ||
    (isObject(value.connection) && isMysqlTarget(value.connection)));

/**
 * What setAgentKeepAlive wraps: an http.Agent or https.Agent (each has these
 * two methods), or anything else that has them. Told by shape, so that
 * node:http is not loaded for it.
 */
export const isAgentTarget = (value: unknown): boolean =>
  isObject(value) && typeof value.createConnection === 'function' && typeof value.keepSocketAlive === 'function';

// An undici Agent, Pool, Client or any other Dispatcher.
const isUndiciDispatcher = (value: unknown): boolean =>
  isObject(value) && typeof value.dispatch === 'function' && !isAgentTarget(value);

const isSocketOrServer = (value: unknown): boolean =>
  net.Socket.prototype.isPrototypeOf(value as object) || net.Server.prototype.isPrototypeOf(value as object);

/** Which entry point takes `value` (for an error message), or undefined. */
export function useInstead(value: unknown): string | undefined {
  if (isSocketOrServer(value)) return "for a socket or server, use setKeepAlive from 'tcp-keepalive'";
  if (isUndiciDispatcher(value)) {
    return "for undici, use keepAliveConnector from 'tcp-keepalive/undici' when creating it: new Agent({ connect: keepAliveConnector(options) })";
  }
  if (isAgentTarget(value)) return "for an http or https Agent, use setAgentKeepAlive from 'tcp-keepalive/http'";
  if (isRedisTarget(value)) return "for an ioredis client, use setRedisKeepAlive from 'tcp-keepalive/ioredis'";
  if (isPgTarget(value)) return "for a pg Pool or Client, use setPgKeepAlive from 'tcp-keepalive/pg'";
  return undefined;
}

/**
 * Throws ERR_INVALID_ARG_TYPE for `name` unless `accepts(value)`, saying what
 * was expected and, when `value` belongs to another entry point, which one.
 */
export function checkTarget(name: string, value: unknown, expected: string, accepts: (value: unknown) => boolean): void {
  if (accepts(value)) return;
  const hint = useInstead(value);
  throw invalidArgType(name, expected, value, hint);
}
