// Every state a target can be in: connecting, connected, TLS, destroyed,
// not TCP, a server before and after listen; and kernel failures.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net = require('node:net');
import path = require('node:path');
import tls = require('node:tls');
import { getKeepAlive, setKeepAlive } from '../lib';
import { binding as loaded } from '../lib/kernel';
import { enable, fromFailure as fromNativeFailure, type NativeFailure } from '../lib/kernel/addon';

const binding = loaded!;
const fromFailure = (failure: NativeFailure) => fromNativeFailure(failure, binding.optionNames);
import {
  connectedPair,
  closeAll,
  linuxOnly,
  notOnWindows,
  haveOpenssl,
  havePython,
  kernelView,
  selfSignedCert,
  thrownBy,
  unixSocketPath,
} from './helpers';

const reads = notOnWindows('it reads the options back with getKeepAlive');
// The kernel's own errors, as Linux words them: TCP_KEEPIDLE, EOPNOTSUPP = 95.
const linuxErrors = reads && linuxOnly("the kernel errors it checks name Linux's option (TCP_KEEPIDLE) and errno (95)");
const python = reads && havePython();
const openssl = reads && haveOpenssl();

async function tcpServer(): Promise<{ server: net.Server; port: number; accepted: net.Socket[] }> {
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => accepted.push(s));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

const A = { idle: 21_000, interval: 3_000, count: 2 };
const B = { idle: 22_000, interval: 4_000, count: 3, userTimeout: 5_000 };
const stateOf = (o: typeof A & { userTimeout?: number }) => ({
  enable: true,
  ...o,
  userTimeout: o.userTimeout ?? o.idle + o.interval * o.count,
});

describe.runIf(reads)('a socket that is still connecting', () => {
  it('gets the last configuration before user code sees connect', async () => {
    const { server, port, accepted } = await tcpServer();
    let seenInCallback: unknown;
    let seenInListener: unknown;
    const client = net.connect(port, '127.0.0.1', () => (seenInCallback = getKeepAlive(client)));
    expect(client.connecting).toBe(true);
    expect(setKeepAlive(client, A)).toBe(client);
    setKeepAlive(client, B);
    client.on('connect', () => (seenInListener = getKeepAlive(client)));
    await once(client, 'connect');
    expect(seenInCallback).toEqual(stateOf(B));
    expect(seenInListener).toEqual(stateOf(B));
    await closeAll([client, ...accepted], server);
  });

  it('waits with one listener for the connect and one for a close instead, however often it is called; none is left once connected', async () => {
    const { server, port, accepted } = await tcpServer();
    const client = new net.Socket();
    for (const options of [A, B, A, B]) setKeepAlive(client, options);
    expect(client.listenerCount('connect')).toBe(1);
    expect(client.listenerCount('close')).toBe(1);
    client.connect(port, '127.0.0.1');
    // As Node's own tests check a connected socket (test-http-connect): nothing of ours on it.
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    for (const event of ['connect', 'close', 'error']) expect(client.listenerCount(event)).toBe(0);
    expect(getKeepAlive(client)).toEqual(stateOf(B));
    await closeAll([client, ...accepted], server);
  });

  it('waits through a DNS lookup (no fd yet) and a socket created before connect()', async () => {
    const { server, port, accepted } = await tcpServer();
    const viaDns = net.connect({ port, host: 'localhost', family: 4 });
    setKeepAlive(viaDns, A);
    const fresh = new net.Socket();
    setKeepAlive(fresh, B);
    fresh.connect(port, '127.0.0.1');
    await Promise.all([once(viaDns, 'connect'), once(fresh, 'connect')]);
    expect(getKeepAlive(viaDns)).toEqual(stateOf(A));
    expect(getKeepAlive(fresh)).toEqual(stateOf(B));
    await closeAll([viaDns, fresh, ...accepted], server);
  });

  it('getKeepAlive throws ERR_SOCKET_NOT_CONNECTED', async () => {
    const { server, port } = await tcpServer();
    const client = net.connect(port, '127.0.0.1');
    expect(thrownBy(() => getKeepAlive(client))).toMatchObject({ code: 'ERR_SOCKET_NOT_CONNECTED' });
    expect(thrownBy(() => getKeepAlive(new net.Socket()))).toMatchObject({ code: 'ERR_SOCKET_NOT_CONNECTED' });
    await once(client, 'connect');
    await closeAll([client], server);
  });

  it('a failed connect reports its own error and leaves no listener of ours', async () => {
    const { server, port } = await tcpServer();
    await closeAll([], server); // nothing listens on port now
    const client = net.connect(port, '127.0.0.1');
    setKeepAlive(client, A);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const [error] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    await closed;
    expect(client.listenerCount('connect')).toBe(0); // the configuration follows the object, not a listener
    expect(client.listenerCount('close')).toBe(0);
    expect(thrownBy(() => setKeepAlive(client, A))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
  });

  it('a failure when it connects is emitted as the socket error, not thrown', async () => {
    const file = unixSocketPath();
    const server = net.createServer().listen(file);
    await once(server, 'listening');
    const client = net.connect(file);
    setKeepAlive(client, A);
    const [error] = (await once(client, 'error')) as [Error & { code: string }];
    expect(error.code).toBe('ERR_SOCKET_NOT_TCP');
    expect(client.destroyed).toBe(true);
    await closeAll([client], server);
  });
});

describe.runIf(reads)('a destroyed socket', () => {
  it('throws ERR_SOCKET_CLOSED and makes no syscall on the old fd number', async () => {
    const first = await connectedPair();
    const oldFd = (first.client as unknown as { _handle: { fd: number } })._handle.fd;
    first.client.destroy();
    expect(thrownBy(() => setKeepAlive(first.client, A))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    expect(thrownBy(() => getKeepAlive(first.client))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    // The kernel hands the lowest free number to the next socket: the old fd
    // now belongs to someone else, whose options must stay untouched.
    const second = await connectedPair();
    const sockets = [second.server, second.client, second.accepted];
    const reused = sockets.find((s) => (s as unknown as { _handle: { fd: number } })._handle.fd === oldFd);
    expect(reused, 'the fd number was reused').toBeDefined();
    const before = getKeepAlive(reused!);
    expect(thrownBy(() => setKeepAlive(first.client, { ...A, count: 99 }))).toMatchObject({ code: 'ERR_SOCKET_CLOSED' });
    expect(getKeepAlive(reused!)).toEqual(before);
    await first.close();
    await second.close();
  });
});

describe.runIf(reads)('sockets that are not TCP', () => {
  it.runIf(linuxErrors)('a Unix-domain socket: ERR_SOCKET_NOT_TCP from the kernel, and it is left unchanged', async () => {
    const file = unixSocketPath();
    const server = net.createServer().listen(file);
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const client = net.connect(file);
    await once(client, 'connect');
    const [peer] = await accepted;
    for (const options of [undefined, A, false] as const) {
      const error = thrownBy(() => setKeepAlive(client, options));
      expect(error).toMatchObject({ code: 'ERR_SOCKET_NOT_TCP' });
      expect(error.message).toMatch(/not a TCP socket/);
    }
    const readError = thrownBy(() => getKeepAlive(peer));
    expect(readError).toMatchObject({ code: 'ERR_SOCKET_NOT_TCP' });
    // EOPNOTSUPP and ENOTSUP are one errno (95) on Linux; Node names it ENOTSUP.
    expect(readError.cause).toMatchObject({ errno: -95, syscall: 'getsockopt', option: 'TCP_KEEPIDLE' });
    if (python) {
      // SO_KEEPALIVE is the one option a Unix socket would accept: still off.
      const out = execFileSync(
        'python3',
        ['-c', 'import socket; s = socket.socket(fileno=3); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)); s.detach()'],
        { stdio: ['ignore', 'pipe', 'inherit', (client as unknown as { _handle: { fd: number } })._handle.fd] },
      );
      expect(out.toString().trim()).toBe('0');
    }
    // A server on a path: at once when listening, as an 'error' when deferred.
    expect(thrownBy(() => setKeepAlive(server, A))).toMatchObject({ code: 'ERR_SOCKET_NOT_TCP' });
    const later = net.createServer();
    setKeepAlive(later, A);
    later.listen(unixSocketPath());
    const [laterError] = (await once(later, 'error')) as [Error & { code: string }];
    expect(laterError.code).toBe('ERR_SOCKET_NOT_TCP');
    await closeAll([client, peer], server);
    await closeAll([], later);
  });

  it.runIf(linuxErrors)('a kernel failure keeps the shape of a Node system error', () => {
    // A real EBADF from the kernel: no fd this high is open in this process.
    const failure = enable(binding, 2_147_483_647, { enable: true, idleSeconds: 60, intervalSeconds: 10, count: 6, userTimeoutMs: 0, given: 0 });
    expect(failure).toEqual({ errno: -9, option: 1, syscall: 'setsockopt', notTcp: false });
    const error = fromFailure(failure!);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('setsockopt EBADF');
    expect(error).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'setsockopt', option: 'TCP_KEEPIDLE' });
    const readFailure = binding.read(2_147_483_647);
    expect(fromFailure(readFailure!)).toMatchObject({ message: 'getsockopt EBADF', code: 'EBADF', syscall: 'getsockopt' });
  });

  it.runIf(linuxErrors)('through the public API: a socket whose fd was closed behind Node', () => {
    // In a child of its own: closing a live socket's fd would confuse this process's libuv.
    const out = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'fixtures', 'closed-fd.cjs')], { encoding: 'utf8' }));
    expect(out).toEqual([
      { name: 'Error', message: 'setsockopt EBADF', code: 'EBADF', errno: -9, syscall: 'setsockopt', option: 'TCP_KEEPIDLE' },
      { name: 'Error', message: 'getsockopt EBADF', code: 'EBADF', errno: -9, syscall: 'getsockopt', option: 'TCP_KEEPIDLE' },
    ]);
  });
});

describe.runIf(reads)('a server', () => {
  it('getKeepAlive before listen: ERR_SERVER_NOT_LISTENING; setKeepAlive waits for listening', async () => {
    const server = net.createServer();
    expect(thrownBy(() => getKeepAlive(server))).toMatchObject({ code: 'ERR_SERVER_NOT_LISTENING' });
    setKeepAlive(server, A);
    setKeepAlive(server, B); // the last one wins
    expect(server.listenerCount('listening')).toBe(1);
    let seen: unknown;
    server.on('listening', () => (seen = getKeepAlive(server)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    expect(seen).toEqual(stateOf(B));
    await closeAll([], server);
    expect(thrownBy(() => getKeepAlive(server))).toMatchObject({ code: 'ERR_SERVER_NOT_LISTENING' });
  });
});

describe.runIf(openssl)('TLS', () => {
  it('client and server TLS sockets are configured on their TCP socket', async () => {
    const { key, cert } = selfSignedCert();
    const server = tls.createServer({ key, cert });
    const secured = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert, servername: 'localhost' });
    setKeepAlive(client, A); // still connecting: applied at the TCP connect
    await once(client, 'secureConnect');
    const [serverSide] = await secured;
    setKeepAlive(serverSide, B);
    expect(getKeepAlive(client)).toEqual(stateOf(A));
    expect(getKeepAlive(serverSide)).toEqual(stateOf(B));
    if (python) {
      expect(await kernelView(client)).toEqual({ keepalive: 1, idleSeconds: 21, intervalSeconds: 3, count: 2, userTimeoutMs: 27_000 });
    }
    // A TLS socket over a net.Socket the user connected first.
    const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(raw, 'connect');
    const wrapped = tls.connect({ socket: raw, ca: cert, servername: 'localhost' });
    await once(wrapped, 'secureConnect');
    setKeepAlive(wrapped, B);
    expect(getKeepAlive(raw)).toEqual(stateOf(B));
    await closeAll([client, serverSide, wrapped, raw], server);
  });
});
