// nats (nats-server) and amqplib (RabbitMQ) on loopback. Neither client has
// a socket hook: the process-wide mode covers them. Read back on the
// client's actual socket at steady state and after the server side drops the
// connection and the client (nats by itself, amqplib by the application's
// own reconnect, as amqplib has none) connects again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import net = require('node:net');
import { connect as natsConnect } from 'nats';
import amqplib = require('amqplib');
import { getKeepAlive, register } from '../lib/index';
import { haveNats, haveRabbitMQ, socketsTo, startNats, startRabbitMQ, until, type RabbitMQ, type Server } from './servers';

const options = { idle: 10_000, interval: 2000, count: 3 };
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

// The one connected socket to `port` that is not `except`.
const clientSocket = (port: number, except?: net.Socket) =>
  until(() => {
    const sockets = socketsTo(port).filter((s) => s !== except && !s.connecting);
    return sockets.length === 1 ? sockets[0] : undefined;
  }, `the client socket to ${port}`);

describe.runIf(haveNats())('nats (nats-server on loopback) under register()', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startNats();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('configured, and again after the server is killed and restarted and nats reconnects by itself', async () => {
    const unregister = register(options);
    const nc = await natsConnect({ servers: `127.0.0.1:${server.port}`, reconnectTimeWait: 50, reconnectJitter: 0, maxReconnectAttempts: -1 });
    try {
      const first = await clientSocket(server.port);
      expect(getKeepAlive(first)).toEqual(expected);

      await server.stop();
      server = await startNats(server.port);
      const second = await clientSocket(server.port, first);
      await nc.flush(); // a round trip on the new connection
      expect(getKeepAlive(second)).toEqual(expected);
    } finally {
      unregister();
      await nc.close();
    }
  });
});

describe.runIf(haveRabbitMQ())('amqplib (RabbitMQ on loopback) under register()', () => {
  let rabbit: RabbitMQ;
  beforeAll(async () => {
    rabbit = await startRabbitMQ();
  }, 90_000);
  afterAll(async () => {
    await rabbit?.stop();
  });

  it('the RabbitMQ node and its epmd listen on loopback only', () => {
    const addresses = rabbit.listening();
    expect(addresses.length).toBeGreaterThanOrEqual(3); // epmd, AMQP, Erlang distribution
    for (const address of addresses) expect(address).toMatch(/^(127\.0\.0\.1|\[::1\]):\d+$/);
  });

  it('configured, and again after the server closes the connection and the application reconnects', async () => {
    const unregister = register(options);
    const url = `amqp://guest:guest@127.0.0.1:${rabbit.port}`;
    let connection = await amqplib.connect(url);
    try {
      const first = (connection.connection as unknown as { stream: net.Socket }).stream;
      expect(getKeepAlive(first)).toEqual(expected);

      const closed = once(connection, 'close');
      connection.on('error', () => {}); // the forced close is reported here too
      await rabbit.ctl(['close_all_connections', 'killed by the test']);
      await closed;
      connection = await amqplib.connect(url);
      const second = (connection.connection as unknown as { stream: net.Socket }).stream;
      expect(second).not.toBe(first);
      expect(getKeepAlive(second)).toEqual(expected);
      const channel = await connection.createChannel();
      await channel.close();
    } finally {
      unregister();
      await connection.close().catch(() => {});
    }
  }, 60_000); // rabbitmqctl starts an Erlang VM: seconds on a busy machine
});
