// Node's own keepalive API, as each supported major really behaves: the
// README's sentences about what Node does are checked here, on every major
// CI runs (Node 20, 22, 24 and 26: scripts/test-matrix.sh). Each test names
// the versions it distinguishes; the values are read back from the kernel.
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import * as dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { getKeepAlive } from '../lib/index.js';
import { haveOpenssl, linuxOnly, selfSignedCert } from './helpers.js';

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const version = `Node ${process.versions.node}`;
/** Node 24.21+ and 26 (nodejs/node PR 63825): setKeepAlive(enable, delay, interval, count) and an options object. */
const fourArguments = major > 24 || (major === 24 && minor >= 21);
/** Node 24+: tls.connect passes keepAlive on to its socket. */
const tlsKeepAlive = major >= 24;
/** Node 22+: net.client.socket is published from Socket.prototype.connect, not only from net.connect. */
const clientChannelInConnect = major >= 22;

const SYSTEM = { idle: 7_200_000, interval: 75_000, count: 9 }; // Linux defaults (this CI kernel)

async function withServer<T>(use: (port: number) => Promise<T>): Promise<T> {
  const server = net.createServer((socket) => socket.on('error', () => {})).listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    return await use((server.address() as net.AddressInfo).port);
  } finally {
    server.close();
  }
}

async function connected(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

const probe = (socket: net.Socket) => {
  const { enable, idle, interval, count } = getKeepAlive(socket);
  return { enable, idle, interval, count };
};

describe.runIf(linuxOnly("Node's keepalive as libuv applies it on Linux (1 s x 10), against Linux's defaults (7200/75/9)"))(`Node's own keepalive API on this major (${version})`, () => {
  it(`socket.setKeepAlive(true, ms) sets the idle time and resets interval to 1 s and count to 10 (Node 20-26)`, async () => {
    await withServer(async (port) => {
      const socket = await connected(port);
      socket.setKeepAlive(true, 5000);
      expect(probe(socket)).toEqual({ enable: true, idle: 5000, interval: 1000, count: 10 });
      socket.destroy();
    });
  });

  it(`setKeepAlive(true, delay, interval, count) ${fourArguments ? 'sets all three (Node 24.21+ and 26)' : 'ignores interval and count (Node 20, 22, 24 before 24.21)'}`, async () => {
    expect(net.Socket.prototype.setKeepAlive.length).toBe(fourArguments ? 4 : 2);
    await withServer(async (port) => {
      const socket = await connected(port);
      (socket.setKeepAlive as (...args: unknown[]) => net.Socket)(true, 5000, 2000, 3);
      expect(probe(socket)).toEqual(fourArguments ? { enable: true, idle: 5000, interval: 2000, count: 3 } : { enable: true, idle: 5000, interval: 1000, count: 10 });
      socket.destroy();
    });
  });

  it(`setKeepAlive({ enable, initialDelay, interval, count }) ${fourArguments ? 'sets all three; a count left out is 10 (Node 24.21+ and 26)' : 'only turns SO_KEEPALIVE on: the object is taken as `enable` (Node 20, 22)'}`, async () => {
    await withServer(async (port) => {
      const setWith = async (options: object) => {
        const socket = await connected(port);
        (socket.setKeepAlive as (...args: unknown[]) => net.Socket)(options);
        const seen = probe(socket);
        socket.destroy();
        return seen;
      };
      const all = await setWith({ enable: true, initialDelay: 5000, interval: 2000, count: 3 });
      const noCount = await setWith({ enable: true, initialDelay: 5000, interval: 2000 });
      if (fourArguments) {
        expect(all).toEqual({ enable: true, idle: 5000, interval: 2000, count: 3 });
        expect(noCount).toEqual({ enable: true, idle: 5000, interval: 2000, count: 10 });
      } else {
        expect(all).toEqual({ enable: true, ...SYSTEM });
        expect(noCount).toEqual({ enable: true, ...SYSTEM });
      }
    });
  });

  it(`net.connect({ keepAlive, keepAliveInitialDelay }) sets the idle time, interval 1 s, count 10; no interval or count options (Node 20-26)`, async () => {
    await withServer(async (port) => {
      const socket = net.connect({ port, host: '127.0.0.1', keepAlive: true, keepAliveInitialDelay: 5000 });
      await once(socket, 'connect');
      expect(probe(socket)).toEqual({ enable: true, idle: 5000, interval: 1000, count: 10 });
      socket.destroy();
    });
  });

  it.runIf(haveOpenssl())(`tls.connect({ keepAlive, keepAliveInitialDelay }) ${tlsKeepAlive ? 'is honoured (Node 24 and 26)' : 'is ignored: keepalive stays off (Node 20, 22)'}`, async () => {
    const { key, cert } = selfSignedCert();
    const server = tls.createServer({ key, cert }, (socket) => socket.on('error', () => {})).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as net.AddressInfo;
      // @types/node 20 does not list these for tls.connect (Node 24 added them).
      const options: tls.ConnectionOptions & { keepAlive: boolean; keepAliveInitialDelay: number } = { port, host: '127.0.0.1', ca: cert, servername: 'localhost', keepAlive: true, keepAliveInitialDelay: 5000 };
      const socket = tls.connect(options);
      await once(socket, 'secureConnect');
      expect(probe(socket)).toEqual(tlsKeepAlive ? { enable: true, idle: 5000, interval: 1000, count: 10 } : { enable: false, ...SYSTEM });
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it(`diagnostics_channel net.client.socket fires for net.connect${clientChannelInConnect ? ' and for new net.Socket().connect() (Node 22+)' : ' only, not for new net.Socket().connect() (Node 20)'}`, async () => {
    await withServer(async (port) => {
      const seen: unknown[] = [];
      const onSocket = (message: unknown) => seen.push((message as { socket: unknown }).socket);
      dc.subscribe('net.client.socket', onSocket);
      try {
        const viaConnect = net.connect(port, '127.0.0.1');
        const viaSocket = new net.Socket().connect(port, '127.0.0.1');
        await Promise.all([once(viaConnect, 'connect'), once(viaSocket, 'connect')]);
        expect(seen).toEqual(clientChannelInConnect ? [viaConnect, viaSocket] : [viaConnect]);
        viaConnect.destroy();
        viaSocket.destroy();
      } finally {
        dc.unsubscribe('net.client.socket', onSocket);
      }
    });
  });

  it('no Node has a getter or a user timeout: TCP_USER_TIMEOUT stays as the kernel had it (Node 20-26)', async () => {
    await withServer(async (port) => {
      const socket = await connected(port);
      socket.setKeepAlive(true, 5000);
      expect(getKeepAlive(socket).userTimeout).toBe(0);
      expect(Object.keys(net.Socket.prototype).filter((name) => /keep ?alive/i.test(name))).toEqual(['setKeepAlive']);
      socket.destroy();
    });
  });
});
