// node-redis and iovalkey against a real redis-server on loopback, read back
// on the client's actual socket at steady state and after the server kills
// the connection (CLIENT KILL) and the client reconnects by itself.
// node-redis keeps its socket private: the process-wide mode covers it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { createClient } from 'redis';
import { Redis as Valkey } from 'iovalkey';
import { getKeepAlive, register } from '../lib/index';
import { setRedisKeepAlive } from '../lib/integrations/clients/ioredis';
import { haveRedis, serverEnv, socketsTo, startRedis, until, type Server } from './servers';

const options = { idle: 10_000, interval: 2000, count: 3 };
const ready = (client: Pick<EventEmitter, 'once'>) => new Promise((resolve) => client.once('ready', resolve));
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

describe.runIf(haveRedis())('node-redis and iovalkey (redis-server on loopback)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const killClient = (id: number) =>
    execFileSync('redis-cli', ['-p', String(server.port), 'CLIENT', 'KILL', 'ID', String(id)], { env: serverEnv(), encoding: 'utf8' });
  // The one socket to the server that is not `except`.
  const clientSocket = (except?: object) =>
    until(() => {
      const sockets = socketsTo(server.port).filter((s) => s !== except && !s.connecting);
      return sockets.length === 1 ? sockets[0] : undefined;
    }, 'the client socket');

  it('node-redis (private socket, its own keepAlive 30 s) under register(): configured, and again after CLIENT KILL and its reconnect', async () => {
    const unregister = register(options);
    const client = createClient({ socket: { host: '127.0.0.1', port: server.port, reconnectStrategy: () => 20 } });
    client.on('error', () => {}); // the kill is reported here; the client reconnects
    try {
      await client.connect();
      const first = await clientSocket();
      expect(getKeepAlive(first)).toEqual(expected);

      const reconnected = ready(client); // not once(): the kill also emits 'error'
      killClient(await client.clientId());
      await reconnected;
      const second = await clientSocket(first);
      expect(second).not.toBe(first);
      expect(getKeepAlive(second)).toEqual(expected);
      expect(await client.ping()).toBe('PONG');
    } finally {
      unregister();
      client.destroy();
    }
  });

  it('iovalkey with setRedisKeepAlive from tcp-keepalive/ioredis: configured, and again after CLIENT KILL and its reconnect', async () => {
    const client = new Valkey({ host: '127.0.0.1', port: server.port, retryStrategy: () => 20 });
    client.on('error', () => {});
    setRedisKeepAlive(client, options);
    try {
      await ready(client);
      const first = client.stream;
      expect(getKeepAlive(first)).toEqual(expected);

      const reconnected = ready(client); // not once(): the kill also emits 'error'
      killClient((await client.client('ID')) as number);
      await reconnected;
      expect(client.stream).not.toBe(first);
      expect(getKeepAlive(client.stream)).toEqual(expected);
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });
});
