// tcp-keepalive/http: keepalive on every socket of an http.Agent or
// https.Agent, kept when the agent calls socket.setKeepAlive again as the
// socket goes back to its pool.
import type http = require('node:http');
import type net = require('node:net');
import { setValidatedKeepAlive } from '../keepalive';
import { toNativeConfig, type KeepAliveOptions } from '../options';
import { checkTarget, isAgentTarget } from './targets';

export type Detach = () => void;

type CreateConnection = (options: object, callback?: (err: Error | null, socket?: net.Socket) => void) => net.Socket | undefined;
interface AgentInternals {
  createConnection: CreateConnection;
  keepSocketAlive(socket: net.Socket): boolean;
}

/**
 * Applies `options` to every socket `agent` creates (when it connects) and
 * again every time the agent keeps a socket alive in its pool, right after
 * the agent's own `socket.setKeepAlive(true, keepAliveMsecs)`, which would
 * otherwise reset the interval to 1 s and the count to 10. Works for
 * http.Agent and https.Agent (and subclasses that keep these two methods).
 * Returns a function that restores the agent's own methods.
 */
export function setAgentKeepAlive(agent: http.Agent, options?: KeepAliveOptions | boolean): Detach {
  checkTarget('agent', agent, 'an instance of http.Agent or https.Agent', isAgentTarget);
  const config = toNativeConfig(options); // validated once, not on every socket
  const a = agent as unknown as AgentInternals;
  const own = {
    createConnection: Object.prototype.hasOwnProperty.call(agent, 'createConnection'),
    keepSocketAlive: Object.prototype.hasOwnProperty.call(agent, 'keepSocketAlive'),
  };
  const createConnection = a.createConnection;
  const keepSocketAlive = a.keepSocketAlive;

  a.createConnection = function (this: unknown, connectOptions, callback) {
    // The agent passes a callback and also uses a returned socket; configure
    // whichever comes first, once. A socket still connecting is configured
    // when it connects, and a failure then fails its request.
    let done = false;
    const configure = (socket: net.Socket) => {
      if (done) return;
      done = true;
      setValidatedKeepAlive(socket, config);
    };
    const wrapped = callback && ((err: Error | null, socket?: net.Socket) => {
      if (!err && socket) {
        try {
          configure(socket);
        } catch (error) {
          socket.destroy();
          return callback(error as Error);
        }
      }
      return callback(err, socket);
    });
    const socket = createConnection.call(this, connectOptions, wrapped);
    if (socket) configure(socket);
    return socket;
  };

  a.keepSocketAlive = function (this: unknown, socket: net.Socket): boolean {
    if (!keepSocketAlive.call(this, socket)) return false;
    try {
      setValidatedKeepAlive(socket, config);
      return true;
    } catch (error) {
      // Thrown here it would escape the agent's 'free' handler: let the
      // agent drop the socket instead, and say why on the socket.
      socket.destroy(error as Error);
      return false;
    }
  };

  return () => {
    if (own.createConnection) a.createConnection = createConnection;
    else delete (a as Partial<AgentInternals>).createConnection;
    if (own.keepSocketAlive) a.keepSocketAlive = keepSocketAlive;
    else delete (a as Partial<AgentInternals>).keepSocketAlive;
  };
}
