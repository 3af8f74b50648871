// mongodb (no socket hook: the process-wide mode) and kafkajs (its
// socketFactory option, as the README shows it, and the process-wide mode
// with its default factory). No MongoDB or Kafka server can run here (Debian
// has neither), so each client talks to a loopback TCP peer that accepts and
// never answers, as a hung server would: the client's handshake never
// completes, and what is verified is the client's own socket, read back from
// the kernel after the client's own socket.setKeepAlive call (mongodb: true,
// 120 s, at creation; kafkajs's default factory: true, 60 s), and again after
// the peer drops the connection and the client connects again by itself.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import diagnostics = require('node:diagnostics_channel');
import { once } from 'node:events';
import net = require('node:net');
import tls = require('node:tls');
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { getKeepAlive, register, setKeepAlive } from '../lib/index';
import { notOnWindows } from './helpers';
import { until } from './servers';

const options = { idle: 10_000, interval: 2000, count: 3 };
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

interface SilentPeer {
  port: number;
  /** Closes every connection it accepted, as a server that goes away does. */
  drop(): void;
  close(): Promise<void>;
}

async function silentPeer(): Promise<SilentPeer> {
  const accepted = new Set<net.Socket>();
  const server = net.createServer((s) => {
    accepted.add(s);
    s.on('close', () => accepted.delete(s)).resume();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    drop: () => {
      for (const s of accepted) s.destroy();
    },
    close: () => {
      for (const s of accepted) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

// The clients make their sockets with net.createConnection / net.connect,
// which publish every socket on the diagnostics channel net.client.socket
// (Node 20 to 26): seen there, independently of the process-wide mode.
const seen: net.Socket[] = [];
const onClientSocket = (message: unknown) => seen.push((message as { socket: net.Socket }).socket);
const connectedTo = (sockets: net.Socket[], port: number, except?: net.Socket) =>
  until(() => {
    const open = sockets.filter((s) => s !== except && !s.connecting && !s.destroyed && s.remotePort === port);
    return open.length === 1 ? open[0] : undefined;
  }, `the client's socket to ${port}`);

describe.runIf(notOnWindows("each client's socket is read back with getKeepAlive"))('mongodb and kafkajs (a silent peer on loopback: no server of theirs in Debian)', () => {
  let peer: SilentPeer;
  beforeEach(async () => {
    peer = await silentPeer();
    seen.length = 0;
    diagnostics.subscribe('net.client.socket', onClientSocket);
  });
  afterEach(async () => {
    diagnostics.unsubscribe('net.client.socket', onClientSocket);
    await peer.close();
  });

  it("mongodb under register(): its socket holds ours despite the driver's setKeepAlive(true, 120 s), and again after the peer drops it and the driver reconnects", async () => {
    const unregister = register(options);
    const client = new MongoClient(`mongodb://127.0.0.1:${peer.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 60_000,
      connectTimeoutMS: 60_000,
      heartbeatFrequencyMS: 500,
    });
    const connecting = client.connect().catch(() => undefined); // never completes: the peer never answers
    try {
      const first = await connectedTo(seen, peer.port);
      expect(getKeepAlive(first)).toEqual(expected);
      peer.drop();
      const second = await connectedTo(seen, peer.port, first);
      expect(getKeepAlive(second)).toEqual(expected);
    } finally {
      unregister();
      await client.close(true);
      await connecting;
    }
  });

  for (const how of ['socketFactory (the README example)', 'its default socket factory under register()'] as const) {
    it(`kafkajs with ${how}: its socket holds ours, and again after the peer drops it and kafkajs reconnects`, async () => {
      const fromFactory = how.startsWith('socketFactory');
      const made: net.Socket[] = [];
      // As in the README, plus a list of the sockets made.
      const socketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
        const socket = setKeepAlive(ssl ? tls.connect({ host, port, ...ssl }, onConnect) : net.connect({ host, port }, onConnect), options);
        made.push(socket);
        return socket;
      };
      const unregister = fromFactory ? undefined : register(options);
      const kafka = new Kafka({
        brokers: [`127.0.0.1:${peer.port}`],
        ...(fromFactory ? { socketFactory } : {}),
        connectionTimeout: 60_000,
        requestTimeout: 60_000,
        retry: { retries: 3, initialRetryTime: 50, maxRetryTime: 100 },
        logLevel: logLevel.NOTHING,
      });
      const admin = kafka.admin();
      const connecting = admin.connect().catch(() => undefined); // never completes: the peer never answers
      const sockets = fromFactory ? made : seen;
      try {
        const first = await connectedTo(sockets, peer.port);
        expect(getKeepAlive(first)).toEqual(expected);
        peer.drop();
        const second = await connectedTo(sockets, peer.port, first);
        expect(getKeepAlive(second)).toEqual(expected);
      } finally {
        unregister?.();
        // kafkajs's disconnect waits for the request in flight: the peer goes
        // away first, so it fails, and so do the few retries after it.
        await peer.close();
        await connecting;
        await admin.disconnect();
      }
    });
  }
});
