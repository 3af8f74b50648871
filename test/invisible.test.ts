// Invisible beyond its promise: what this library leaves on objects it does
// not own, checked the way Node's own tests check it (listener counts once
// connected, after a refused connect and after close; the application's and
// other libraries' setKeepAlive still called; http2's socket proxy), in this
// process and under `--require tcp-keepalive/register`.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import http2 = require('node:http2');
import net = require('node:net');
import path = require('node:path');
import { getKeepAlive, setKeepAlive } from '../lib';
import { closeAll, havePython, kernelView, notOnWindows, pairsClosedAfterEach } from './helpers';

const root = path.join(__dirname, '..');
// The preload asks for interval and count, which Node 20 and 22 cannot set on Windows.
const reads = notOnWindows('it reads the options back with getKeepAlive, and preloads interval and count');
const python = reads && havePython();
const OURS = { idle: 7000, interval: 3000, count: 4, userTimeout: 40_000 };
const oursRead = { enable: true, ...OURS };
const DEFAULT = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

const pair = pairsClosedAfterEach();

type SetKeepAlive = (this: net.Socket, ...args: unknown[]) => net.Socket;

describe.runIf(reads)("a socket's own setKeepAlive, a subclass's and a later patch of the prototype", () => {
  it('an override on the socket is called with its arguments, stays the socket\'s own, and ours holds', async () => {
    const { client } = await pair();
    const calls: unknown[][] = [];
    const override = function (this: net.Socket, ...args: unknown[]) {
      calls.push(args);
      return (net.Socket.prototype.setKeepAlive as SetKeepAlive).apply(this, args);
    };
    client.setKeepAlive = override as net.Socket['setKeepAlive'];
    setKeepAlive(client, OURS);
    client.setKeepAlive(true, 1000);
    expect(calls).toEqual([[true, 1000]]);
    expect(getKeepAlive(client)).toEqual(oursRead);
    setKeepAlive(client, false);
    expect(client.setKeepAlive).toBe(override); // still the application's, after ours let go too
    expect(Object.keys(client)).toContain('setKeepAlive');
  });

  it("a subclass's method is called with its arguments, and ours holds", async () => {
    const calls: unknown[][] = [];
    class Traced extends net.Socket {
      override setKeepAlive(...args: [boolean?, number?]): this {
        calls.push(args);
        return super.setKeepAlive(...args);
      }
    }
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = new Traced();
    setKeepAlive(socket, OURS);
    socket.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.setKeepAlive(true, 1000);
    expect(calls).toEqual([[true, 1000]]);
    expect(getKeepAlive(socket)).toEqual(oursRead);
    await closeAll([socket], server);
  });

  it('a patch of net.Socket.prototype.setKeepAlive made later (as APM agents do) is called with its arguments, and ours holds', async () => {
    const { client } = await pair();
    setKeepAlive(client, OURS);
    const calls: unknown[][] = [];
    const original = net.Socket.prototype.setKeepAlive as SetKeepAlive;
    net.Socket.prototype.setKeepAlive = function (this: net.Socket, ...args: unknown[]) {
      calls.push(args);
      return original.apply(this, args);
    } as net.Socket['setKeepAlive'];
    try {
      client.setKeepAlive(true, 1000);
      client.setKeepAlive(true, 2000);
    } finally {
      net.Socket.prototype.setKeepAlive = original as net.Socket['setKeepAlive'];
    }
    expect(calls).toEqual([[true, 1000], [true, 2000]]);
    expect(getKeepAlive(client)).toEqual(oursRead);
  });

  it('nothing of ours is an own property of a configured socket or server', async () => {
    const { client, accepted, server } = await pair();
    const before = [client, accepted, server].map((o) => Reflect.ownKeys(o));
    setKeepAlive(client, OURS);
    setKeepAlive(server, OURS);
    expect([client, accepted, server].map((o) => Reflect.ownKeys(o))).toEqual(before);
  });
});

describe.runIf(reads)('listeners, counted as Node counts them', () => {
  it('a server configured before it listens: none of ours once it listens, one while it serves, none after close()', async () => {
    const server = net.createServer();
    setKeepAlive(server, OURS);
    expect(server.listenerCount('listening')).toBe(1); // waits for the listening socket
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    expect(server.listenerCount('listening')).toBe(0);
    expect(server.listenerCount('connection')).toBe(1);
    const counts = new Promise<number[]>((resolve) =>
      server.on('close', () => resolve(['listening', 'connection', 'close', 'error'].map((e) => server.listenerCount(e)))),
    );
    server.close();
    // Read in a 'close' listener, as test-net-server-listen-remove-callback does: only that listener.
    expect(await counts).toEqual([0, 0, 1, 0]);
  });
});

describe.runIf(reads)('http2: the session socket is a Proxy that refuses setKeepAlive and most else', () => {
  it('client (still connecting, and connected) and server session sockets are configured and read back', async () => {
    const server = http2.createServer();
    const serverSessions: http2.ServerHttp2Session[] = [];
    server.on('session', (session) => {
      serverSessions.push(session);
      setKeepAlive(session.socket, OURS);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const pending = http2.connect(url);
    setKeepAlive(pending.socket, OURS); // still connecting
    await once(pending, 'connect');
    const connected = http2.connect(url);
    await once(connected, 'connect');
    setKeepAlive(connected.socket, { ...OURS, idle: 8000 });
    while (serverSessions.length < 2) await new Promise((r) => setImmediate(r));
    try {
      expect(getKeepAlive(pending.socket)).toEqual(oursRead);
      expect(getKeepAlive(connected.socket)).toEqual({ ...oursRead, idle: 8000 });
      for (const session of serverSessions) expect(getKeepAlive(session.socket)).toEqual(oursRead);
      if (python) {
        const view = await kernelView(pending.socket);
        expect([view.keepalive, view.idleSeconds, view.intervalSeconds, view.count, view.userTimeoutMs]).toEqual([1, 7, 3, 4, 40_000]);
      }
    } finally {
      for (const session of [pending, connected]) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe.runIf(reads)('built-in modules: none loaded that the application did not ask for', () => {
  // Node loads its built-ins lazily; test-http-parser-lazy-loaded aborts if
  // the HTTP parser is loaded before the application asks for http.
  const LAZY = ['http', 'https', 'http2', 'tls', 'cluster', 'child_process', 'dgram', 'worker_threads', 'os'];
  const loaded = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    // Written with fs.writeSync: process.stdout on a pipe is a net.Socket, and would load net.
    const script = `require('fs').writeSync(1, JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))))`;
    const clean = { ...process.env, ...env };
    delete clean.NODE_OPTIONS; // the test runner's own
    const out = spawnSync(process.execPath, [...args, '-e', script], { cwd: root, encoding: 'utf8', env: clean });
    if (out.status !== 0) throw new Error(out.stderr);
    return JSON.parse(out.stdout) as string[];
  };
  it('--require tcp-keepalive/register loads net (whose prototypes it wraps) and none of these', () => {
    const modules = loaded(['--require', 'tcp-keepalive/register'], { TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3' });
    expect(modules).toContain('net');
    expect(LAZY.filter((m) => modules.includes(m))).toEqual([]);
  });
  it("require('tcp-keepalive') loads none of these, nor net, until it is used", () => {
    const modules = loaded(['--require', 'tcp-keepalive']);
    expect([...LAZY, 'net'].filter((m) => modules.includes(m))).toEqual([]);
  });
});

describe.runIf(reads)('under --require tcp-keepalive/register', () => {
  const run = (script: string) => {
    const out = spawnSync(process.execPath, ['--require', 'tcp-keepalive/register', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3' },
      timeout: 20_000,
    });
    if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
    return JSON.parse(out.stdout) as Record<string, unknown>;
  };

  it('client sockets carry no listener of ours once connected, after a refused connect, or after close; servers none after close', () => {
    const result = run(`
      const net = require('net'); const { once } = require('events'); const { getKeepAlive } = require('tcp-keepalive');
      const counts = (s) => ['connect', 'close', 'error'].map((e) => s.listenerCount(e));
      (async () => {
        const out = {};
        const server = net.createServer(); server.listen(0, '127.0.0.1'); await once(server, 'listening');
        const { port } = server.address();
        const client = net.connect(port, '127.0.0.1');
        out.waiting = counts(client);
        await once(client, 'connect');
        out.connected = counts(client); out.state = getKeepAlive(client);
        client.destroy(); await once(client, 'close'); out.closed = counts(client);
        const gone = net.createServer(); gone.listen(0, '127.0.0.1'); await once(gone, 'listening');
        const gonePort = gone.address().port; gone.close();
        const refused = net.connect(gonePort, '127.0.0.1');
        const failed = new Promise((resolve) => refused.once('error', resolve)); // events.once would reject on it
        await new Promise((resolve) => refused.once('close', resolve)); await failed;
        out.refused = counts(refused);
        const closing = new Promise((resolve) => server.on('close', () => resolve(['listening', 'connection'].map((e) => server.listenerCount(e)))));
        server.close(); out.serverClosed = await closing;
        process.stdout.write(JSON.stringify(out));
      })();`);
    expect(result).toEqual({
      waiting: [1, 1, 0], // ours while it waits: one for the connect, one for a close instead
      connected: [0, 0, 0],
      state: DEFAULT,
      closed: [0, 0, 0],
      refused: [0, 0, 0],
      serverClosed: [0, 0],
    });
  });

  it('an override on the socket (node-postgres\'s set-keepalive test), a subclass and a later prototype patch are each called with their arguments', () => {
    const result = run(`
      const net = require('net'); const { once } = require('events'); const { getKeepAlive } = require('tcp-keepalive');
      (async () => {
        const server = net.createServer(); server.listen(0, '127.0.0.1'); await once(server, 'listening');
        const { port } = server.address();
        const calls = { own: [], subclass: [], patch: [] };
        const own = new net.Socket();
        own.setKeepAlive = function (...args) { calls.own.push(args); return this; };
        own.connect(port, '127.0.0.1'); await once(own, 'connect');
        own.setKeepAlive(true, 0);
        class Traced extends net.Socket { setKeepAlive(...args) { calls.subclass.push(args); return super.setKeepAlive(...args); } }
        const sub = new Traced(); sub.connect(port, '127.0.0.1'); await once(sub, 'connect');
        sub.setKeepAlive(true, 1000);
        const original = net.Socket.prototype.setKeepAlive;
        net.Socket.prototype.setKeepAlive = function (...args) { calls.patch.push(args); return original.apply(this, args); };
        const patched = net.connect(port, '127.0.0.1'); await once(patched, 'connect');
        patched.setKeepAlive(true, 5000);
        const states = [own, sub, patched].map((s) => getKeepAlive(s));
        process.stdout.write(JSON.stringify({ calls, states, ownKept: Object.hasOwn(own, 'setKeepAlive') }));
        for (const s of [own, sub, patched]) s.destroy(); server.close();
      })();`);
    expect(result).toEqual({
      calls: { own: [[true, 0]], subclass: [[true, 1000]], patch: [[true, 5000]] },
      states: [DEFAULT, DEFAULT, DEFAULT],
      ownKept: true,
    });
  });
});
