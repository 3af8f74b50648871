// A configuration holds through what a socket and a server go through: Node's
// own socket.setKeepAlive calls by clients, agents and servers (sticky).
// Real loopback sockets; the Node 24.21+/26 forms also run under Node 24 and
// 26 in CI (scripts/test-matrix.sh runs the whole suite there), where Node
// itself takes them.
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import http = require('node:http');
import net = require('node:net');
import { getKeepAlive, setKeepAlive } from '../lib';
import { closeAll, notOnWindows, pairsClosedAfterEach } from './helpers';

const ours = { idle: 7000, interval: 3000, count: 4, userTimeout: 40_000 };
const oursRead = { enable: true, ...ours };
const major = Number(process.versions.node.split('.')[0]);
const nodeTakesIntervalAndCount = major >= 26 || (major === 24 && Number(process.versions.node.split('.')[1]) >= 21);

const pair = pairsClosedAfterEach();

// Every form Node's socket.setKeepAlive takes on some version; on Node 20 the
// extra arguments and the object are what Node 20 itself makes of them.
const nodeCalls: Array<[string, (s: net.Socket) => unknown]> = [
  ['(true, 1000)', (s) => s.setKeepAlive(true, 1000)],
  ['(true)', (s) => s.setKeepAlive(true)],
  ['(true, 1000, 1000, 9)', (s) => (s.setKeepAlive as (...a: unknown[]) => unknown)(true, 1000, 1000, 9)],
  ['({ enable: true, initialDelay: 1000, interval: 1000, count: 9 })', (s) =>
    (s.setKeepAlive as (...a: unknown[]) => unknown)({ enable: true, initialDelay: 1000, interval: 1000, count: 9 })],
];

describe.runIf(notOnWindows('it reads back what holds with getKeepAlive'))("sticky: Node's socket.setKeepAlive does not undo ours", () => {
  it.each(nodeCalls)('a configured socket keeps ours after socket.setKeepAlive%s, client and accepted side', async (_, call) => {
    const { client, accepted } = await pair();
    for (const s of [client, accepted]) {
      setKeepAlive(s, ours);
      expect(call(s)).toBe(s); // still returns the socket, as Node's does
      expect(getKeepAlive(s)).toEqual(oursRead);
    }
  });

  it('without us, the same calls do change the kernel (what sticky prevents)', async () => {
    const { client } = await pair();
    client.setKeepAlive(true, 5000);
    expect(getKeepAlive(client)).toMatchObject({ enable: true, idle: 5000 });
    if (nodeTakesIntervalAndCount) {
      (client.setKeepAlive as (...a: unknown[]) => unknown)(true, 5000, 2000, 9);
      expect(getKeepAlive(client)).toMatchObject({ idle: 5000, interval: 2000, count: 9 });
    }
  });

  const offCalls: Array<[string, (s: net.Socket) => unknown]> = [
    ['(false)', (s) => s.setKeepAlive(false)],
    ['(false, 0)', (s) => s.setKeepAlive(false, 0)],
  ];
  it.each(offCalls)("the caller's socket.setKeepAlive%s turns keepalive off, client and accepted side, and Node's own calls work again after", async (_, off) => {
    const { client, accepted } = await pair();
    for (const s of [client, accepted]) {
      setKeepAlive(s, ours);
      off(s);
      expect(getKeepAlive(s).enable).toBe(false);
      expect(Object.hasOwn(s, 'setKeepAlive')).toBe(false);
      s.setKeepAlive(true, 5000);
      expect(getKeepAlive(s)).toMatchObject({ enable: true, idle: 5000 });
    }
  });

  it(
    nodeTakesIntervalAndCount
      ? "socket.setKeepAlive({ enable: false }) is Node's off (24.21+, 26 take an options object): keepalive off, and the socket is Node's"
      : "socket.setKeepAlive({ enable: false }) is Node's enabling call where Node takes no options object (20, 22, 24 before 24.21): ours holds",
    async () => {
      const { client } = await pair();
      setKeepAlive(client, ours);
      (client.setKeepAlive as (...a: unknown[]) => unknown)({ enable: false }); // before 24.21 Node's Boolean({ ... }) is true
      if (nodeTakesIntervalAndCount) {
        expect(getKeepAlive(client).enable).toBe(false);
        client.setKeepAlive(true, 5000);
        expect(getKeepAlive(client)).toMatchObject({ enable: true, idle: 5000 });
      } else {
        expect(getKeepAlive(client)).toEqual(oursRead);
      }
    },
  );

  it("setKeepAlive(socket, false) gives the socket back to Node's setKeepAlive", async () => {
    const { client } = await pair();
    setKeepAlive(client, ours);
    setKeepAlive(client, false);
    expect(Object.hasOwn(client, 'setKeepAlive')).toBe(false);
    client.setKeepAlive(true, 5000);
    expect(getKeepAlive(client)).toMatchObject({ enable: true, idle: 5000 });
  });

  it('a later setKeepAlive from this library replaces ours, and stays sticky', async () => {
    const { client } = await pair();
    setKeepAlive(client, ours);
    setKeepAlive(client, { idle: 9000 });
    client.setKeepAlive(true, 1000);
    expect(getKeepAlive(client)).toMatchObject({ enable: true, idle: 9000, interval: 10_000, count: 6 });
  });

  it('configured before it connects: sticky from the connect on', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    setKeepAlive(client, ours);
    // A client's own 'connect' listener (ioredis, postgres.js), registered after ours.
    client.on('connect', () => client.setKeepAlive(true, 1000));
    const [accepted] = (await once(server, 'connection')) as [net.Socket];
    await once(client, 'connect');
    try {
      expect(getKeepAlive(client)).toEqual(oursRead);
    } finally {
      await closeAll([client, accepted], server);
    }
  });

  it.each([false, true])(
    "a configured server's accepted sockets read ours and are sticky (Node's server keepAlive option: %s)",
    async (keepAlive) => {
      const server = net.createServer({ keepAlive, keepAliveInitialDelay: 5000 });
      const seen: net.Socket[] = [];
      server.on('connection', (s) => {
        seen.push(s);
        s.setKeepAlive(true, 1000); // what a framework might do in its own listener
      });
      setKeepAlive(server.listen(0, '127.0.0.1'), ours);
      await once(server, 'listening');
      const clients = [0, 1, 2].map(() => net.connect((server.address() as net.AddressInfo).port, '127.0.0.1'));
      await Promise.all(clients.map((c) => once(c, 'connect')));
      while (seen.length < clients.length) await new Promise((r) => setImmediate(r));
      try {
        for (const s of seen) expect(getKeepAlive(s)).toEqual(oursRead);
      } finally {
        await closeAll([...clients, ...seen], server);
      }
    },
  );

  it("setKeepAlive(server, false): accepted sockets are Node's again; server.keepAlive reads what the application set throughout", async () => {
    const server = net.createServer({ keepAlive: true, keepAliveInitialDelay: 5000 });
    setKeepAlive(server.listen(0, '127.0.0.1'), ours);
    await once(server, 'listening');
    const nodeServer = server as net.Server & { keepAlive?: boolean };
    expect(nodeServer.keepAlive).toBe(true);
    setKeepAlive(server, false);
    expect(nodeServer.keepAlive).toBe(true);
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const [accepted] = (await once(server, 'connection')) as [net.Socket];
    try {
      expect(getKeepAlive(accepted)).toMatchObject({ enable: true, idle: 5000 });
      expect(Object.hasOwn(accepted, 'setKeepAlive')).toBe(false);
    } finally {
      await closeAll([client, accepted], server);
    }
  });

  it("an http Agent's pooled socket keeps ours through every return to the pool", async () => {
    const server = http.createServer((_, res) => res.end('ok')).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: 1 });
    // A connection of its own making (a proxy's, say): Node's record of the
    // socket then differs from the agent's keepAliveMsecs, so the agent's
    // setKeepAlive(true, 1000) on each return to the pool reaches the kernel.
    (agent as unknown as { createConnection: unknown }).createConnection = (o: net.NetConnectOpts) =>
      net.createConnection({ port: (o as net.TcpNetConnectOpts).port, host: '127.0.0.1' });
    const sockets = new Set<net.Socket>();
    const get = () =>
      new Promise<void>((resolve, reject) => {
        const req = http.get({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('socket', (s: net.Socket) => {
          sockets.add(s);
          if (!Object.hasOwn(s, 'setKeepAlive')) setKeepAlive(s, ours);
        });
        req.on('error', reject);
      });
    try {
      for (let i = 0; i < 3; i++) {
        await get();
        await new Promise((r) => setImmediate(r)); // back in the pool: the agent called setKeepAlive(true, 1000)
        const [socket] = sockets;
        expect(getKeepAlive(socket!)).toEqual(oursRead);
      }
      expect(sockets.size).toBe(1); // one socket, reused
    } finally {
      agent.destroy();
      server.close();
    }
  });
});
