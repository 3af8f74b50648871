// @grpc/grpc-js (no socket hook: the process-wide mode) and ws (its
// createConnection option) against servers on loopback in this process,
// read back on the client's actual socket at steady state and after the
// server side drops the connection and the client connects again.
import { describe, expect, it } from 'vitest';
import diagnostics = require('node:diagnostics_channel');
import { once } from 'node:events';
import type { ClientRequestArgs } from 'node:http';
import net = require('node:net');
import * as grpc from '@grpc/grpc-js';
import { WebSocket, WebSocketServer } from 'ws';
import { getKeepAlive, register, setKeepAlive } from '../lib/index';
import { notOnWindows } from './helpers';
import { until } from './servers';

const options = { idle: 10_000, interval: 2000, count: 3 };
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

// One unary method, bytes in and out: no .proto file needed.
const echo = {
  echo: {
    path: '/test.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  },
} satisfies grpc.ServiceDefinition;

async function grpcServer(port = 0): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(echo, { echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port: bound };
}

// grpc-js unrefs its sockets, so process._getActiveHandles does not list
// them; it makes them with net.connect, which publishes every socket on the
// diagnostics channel net.client.socket (Node 20 to 26): seen there,
// independently of the process-wide mode.
const seen: net.Socket[] = [];
const onClientSocket = (message: unknown) => seen.push((message as { socket: net.Socket }).socket);
const clientSocket = (port: number, except?: net.Socket) =>
  until(() => {
    const sockets = seen.filter((s) => s !== except && !s.connecting && !s.destroyed && s.remotePort === port);
    return sockets.length === 1 ? sockets[0] : undefined;
  }, `the client socket to ${port}`);

describe.runIf(notOnWindows("each client's socket is read back with getKeepAlive"))('@grpc/grpc-js and ws (servers on loopback)', () => {
  it('grpc-js under register(): configured, and again after the server is shut down, restarted and the channel reconnects', async () => {
    diagnostics.subscribe('net.client.socket', onClientSocket);
    const unregister = register(options);
    let { server, port } = await grpcServer();
    const Client = grpc.makeGenericClientConstructor(echo, 'Echo');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 50,
      'grpc.max_reconnect_backoff_ms': 100,
    }) as unknown as grpc.Client & { echo(req: Buffer, cb: (err: Error | null, res?: Buffer) => void): void };
    const call = () => new Promise<Buffer>((resolve, reject) => client.echo(Buffer.from('hi'), (err, res) => (err ? reject(err) : resolve(res!))));
    try {
      expect(String(await call())).toBe('hi');
      const first = await clientSocket(port);
      expect(getKeepAlive(first)).toEqual(expected);

      server.forceShutdown(); // the server drops every connection
      ({ server, port } = await grpcServer(port));
      // The channel reconnects on the next call.
      for (let i = 0; ; i++) {
        try {
          expect(String(await call())).toBe('hi');
          break;
        } catch (error) {
          if (i === 50) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      const second = await clientSocket(port, first);
      expect(getKeepAlive(second)).toEqual(expected);
    } finally {
      diagnostics.unsubscribe('net.client.socket', onClientSocket);
      unregister();
      client.close();
      server.forceShutdown();
    }
  });

  it('ws with createConnection: (o) => setKeepAlive(net.createConnection(o), options): configured, and again after the server terminates it and the application reconnects', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    const url = `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`;
    const open = async () => {
      const ws = new WebSocket(url, { createConnection: (o: ClientRequestArgs) => setKeepAlive(net.createConnection(o as net.NetConnectOpts), options) });
      await once(ws, 'open');
      return ws;
    };
    const socketOf = (ws: WebSocket) => (ws as unknown as { _socket: net.Socket })._socket;
    try {
      const first = await open();
      expect(getKeepAlive(socketOf(first))).toEqual(expected);

      const closed = once(first, 'close');
      for (const peer of wss.clients) peer.terminate(); // the server drops it
      await closed;
      const second = await open();
      expect(getKeepAlive(socketOf(second))).toEqual(expected);
      second.terminate();
    } finally {
      for (const peer of wss.clients) peer.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});
