// What a socket goes through besides a plain connect: a TLS socket made over
// a socket that connects later, the same net.Socket connected again after a
// close, and a socket handed to another process. Real sockets, real TLS,
// real child processes.
import { describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import net = require('node:net');
import path = require('node:path');
import tls = require('node:tls');
import { getKeepAlive, setKeepAlive } from '../lib';
import { closeAll, haveOpenssl, havePython, kernelView, notOnWindows, selfSignedCert, thrownBy } from './helpers';

const reads = notOnWindows('it reads the options back with getKeepAlive');
const python = reads && havePython();
const openssl = reads && haveOpenssl();

const A = { idle: 21_000, interval: 3_000, count: 2 };
const stateOfA = { enable: true, ...A, userTimeout: 27_000 };

async function tcpServer(): Promise<{ server: net.Server; port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

describe.runIf(openssl)('tls.connect({ socket }) over a socket that is not connected yet', () => {
  it('configures the TCP socket underneath when it connects, and the TLS connection stays healthy', async () => {
    const { key, cert } = selfSignedCert();
    const server = tls.createServer({ key, cert }, (s) => s.write('hello'));
    const serverSide = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    // The pattern of Node's own test-tls-net-socket-keepalive.
    const raw = new net.Socket();
    const secure = tls.connect({ socket: raw, ca: cert, servername: 'localhost' });
    expect(setKeepAlive(secure, A)).toBe(secure);
    raw.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const received = once(secure, 'data') as Promise<[Buffer]>;
    await once(secure, 'secureConnect');
    expect(secure.destroyed).toBe(false);
    expect(getKeepAlive(raw)).toEqual(stateOfA);
    expect(getKeepAlive(secure)).toEqual(stateOfA); // read through the same TCP socket
    if (python) expect(await kernelView(raw)).toEqual({ keepalive: 1, idleSeconds: 21, intervalSeconds: 3, count: 2, userTimeoutMs: 27_000 });
    expect(String((await received)[0])).toBe('hello');
    const [accepted] = await serverSide;
    accepted.destroy();
    secure.destroy();
    raw.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe.runIf(openssl)('tls.connect({ socket }) over a socket that is still connecting', () => {
  it('the TLS socket itself is configured and kept: its own setKeepAlive reaches the same TCP socket', async () => {
    const { key, cert } = selfSignedCert();
    const server = tls.createServer({ key, cert });
    const serverSide = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1'); // has its TCP handle
    const secure = tls.connect({ socket: raw, ca: cert, servername: 'localhost' });
    setKeepAlive(secure, A);
    await once(secure, 'secureConnect');
    secure.setKeepAlive(true, 5000); // Node's call through the TLS handle: changes nothing
    expect(getKeepAlive(secure)).toEqual(stateOfA);
    expect(getKeepAlive(raw)).toEqual(stateOfA);
    const [accepted] = await serverSide;
    accepted.destroy();
    secure.destroy();
    raw.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe.runIf(reads)('the same net.Socket connected again', () => {
  it('after destroy() and connect(), it is configured again before user code sees connect (as Node does with its own)', async () => {
    const { server, port, accepted } = await tcpServer();
    const client = net.connect(port, '127.0.0.1');
    setKeepAlive(client, A);
    await once(client, 'connect');
    client.destroy();
    await once(client, 'close');
    let seen: unknown;
    client.connect(port, '127.0.0.1', () => (seen = getKeepAlive(client)));
    await once(client, 'connect');
    expect(seen).toEqual(stateOfA);
    if (python) expect((await kernelView(client)).intervalSeconds).toBe(3);
    await closeAll([client, ...accepted], server);
  });

  it('after a refused connect, connecting again applies it', async () => {
    const { server, port, accepted } = await tcpServer();
    const gone = await tcpServer();
    await closeAll([], gone.server); // nothing listens on gone.port now
    const client = net.connect(gone.port, '127.0.0.1');
    setKeepAlive(client, A);
    const [error] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    client.connect(port, '127.0.0.1');
    await once(client, 'connect');
    expect(getKeepAlive(client)).toEqual(stateOfA);
    await closeAll([client, ...accepted], server);
  });
});

describe.runIf(reads)('a socket handed to another process', () => {
  it("child.send('socket', s) without keepOpen: ERR_SOCKET_CLOSED, and no listener is attached", async () => {
    const { server, port, accepted } = await tcpServer();
    const client = net.connect(port, '127.0.0.1');
    await once(client, 'connect');
    while (accepted.length < 1) await new Promise((r) => setImmediate(r));
    const child = fork(path.join(__dirname, 'fixtures', 'take-socket.cjs'), { stdio: 'ignore' });
    const exited = once(child, 'exit');
    child.send('socket', accepted[0]);
    await once(child, 'message');
    const handedOver = accepted[0]!;
    const listeners = () => handedOver.eventNames().map((name) => [name, handedOver.listenerCount(name)]);
    const before = listeners();
    expect(thrownBy(() => setKeepAlive(handedOver, A))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    expect(thrownBy(() => getKeepAlive(handedOver))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    expect(listeners()).toEqual(before);
    // A socket never connected is still configured when it connects.
    const fresh = new net.Socket();
    setKeepAlive(fresh, A);
    fresh.connect(port, '127.0.0.1');
    await once(fresh, 'connect');
    expect(getKeepAlive(fresh)).toEqual(stateOfA);
    await exited;
    // Not closeAll: once a server's socket went to a child, close()'s callback
    // waits on that child's count of its sockets, which an exited child never
    // gives. The listening socket itself closes at once.
    await closeAll([client, fresh, ...accepted.slice(1)]);
    server.close();
  });
});
