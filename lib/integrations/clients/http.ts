// tcp-keepalive/http: keepalive on every socket of an http.Agent or
// https.Agent. The agent's own socket.setKeepAlive, made every time a socket
// goes back to its pool, cannot undo it: a configured socket is sticky.
import type http = require('node:http');
import type net = require('node:net');
import { setValidatedKeepAlive } from '../../engine/keepalive';
import { toNativeConfig, type KeepAliveOptions } from '../../engine/options';
import { checkTarget, isAgentTarget } from '../../engine/recognize';

export type Detach = () => void;

type CreateConnection = (options: object, callback?: (err: Error | null, socket?: net.Socket) => void) => net.Socket | undefined;
interface AgentInternals {
  createConnection: CreateConnection;
}

/**
 * Applies `options` to every socket `agent` creates (when it connects); the
 * agent's own `socket.setKeepAlive(true, keepAliveMsecs)` as a socket goes
 * back to its pool leaves them in place. Works for http.Agent and https.Agent
 * (and subclasses that keep createConnection). Returns a function that
 * restores the agent's own createConnection; sockets keep their options.
 */
export function setAgentKeepAlive(agent: http.Agent, options?: KeepAliveOptions | boolean): Detach {
  checkTarget('agent', agent, 'an instance of http.Agent or https.Agent', isAgentTarget);
  const config = toNativeConfig(options); // validated once, not on every socket
  const a = agent as unknown as AgentInternals;
  const own = Object.prototype.hasOwnProperty.call(agent, 'createConnection');
  const createConnection = a.createConnection;

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

  return () => {
    if (own) a.createConnection = createConnection;
    else delete (a as Partial<AgentInternals>).createConnection;
  };
}
