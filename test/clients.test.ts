// The client helpers against real servers: Redis (plain, TLS, cluster) with
// ioredis, PostgreSQL (plain, SSL) with pg, Node's http(s) agents, undici.
// Every check reads the client's real socket back with getKeepAlive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import http = require('node:http');
import https = require('node:https');
import net = require('node:net');
import Redis, { Cluster } from 'ioredis';
import pg = require('pg');
import { Agent, buildConnector, fetch as undiciFetch, request, setGlobalDispatcher, getGlobalDispatcher } from 'undici';
import { getKeepAlive, type KeepAliveState } from '../lib';
import { setAgentKeepAlive } from '../lib/integrations/clients/http';
import { setRedisKeepAlive } from '../lib/integrations/clients/ioredis';
import { setPgKeepAlive } from '../lib/integrations/clients/pg';
import { keepAliveConnector, type Connector } from '../lib/integrations/clients/undici';
import { haveOpenssl, notOnWindows, selfSignedCert, unixSocketPath } from './helpers';
import { havePostgres, haveRedis, serverEnv, startPostgres, startRedis, type Server } from './servers';

const OURS = { idle: 21_000, interval: 3_000, count: 4 };
const STATE: KeepAliveState = { enable: true, ...OURS, userTimeout: 33_000 };

const redisOk = haveRedis() && haveOpenssl();
const postgresOk = havePostgres() && haveOpenssl();
const cert = redisOk || postgresOk ? selfSignedCert() : undefined;
const reads = notOnWindows("each client's socket is read back with getKeepAlive");

const until = async (check: () => boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe.runIf(redisOk)('ioredis', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startRedis(cert);
  });
  afterAll(() => server?.stop());

  it('configures the connection, and every reconnect after CLIENT KILL', async () => {
    const redis = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true });
    const detach = setRedisKeepAlive(redis, OURS);
    await redis.connect();
    const first = redis.stream;
    expect(getKeepAlive(first)).toEqual(STATE);
    const admin = new Redis({ port: server.port, host: '127.0.0.1' });
    const id = await redis.client('ID');
    const reconnected = once(redis, 'ready');
    await admin.client('KILL', 'ID', String(id));
    await reconnected;
    expect(redis.stream).not.toBe(first);
    expect(await redis.ping()).toBe('PONG');
    expect(getKeepAlive(redis.stream)).toEqual(STATE);
    // Detached: the next connection keeps ioredis's own keepalive (Node's: 1 s x 10).
    detach();
    const again = once(redis, 'ready');
    await admin.client('KILL', 'ID', String(await redis.client('ID')));
    await again;
    expect(getKeepAlive(redis.stream)).toMatchObject({ enable: true, idle: 30_000, interval: 1000, count: 10 });
    redis.disconnect();
    admin.disconnect();
  });

  it("wins over ioredis's own keepAlive option, and applies at once to a connected client", async () => {
    const redis = new Redis({ port: server.port, host: '127.0.0.1', keepAlive: 5000 });
    await once(redis, 'ready');
    expect(getKeepAlive(redis.stream)).toMatchObject({ idle: 5000, interval: 1000, count: 10 }); // ioredis, via Node
    setRedisKeepAlive(redis, OURS);
    expect(getKeepAlive(redis.stream)).toEqual(STATE);
    const attachedEarly = new Redis({ port: server.port, host: '127.0.0.1', keepAlive: 5000, lazyConnect: true });
    setRedisKeepAlive(attachedEarly, OURS);
    await attachedEarly.connect();
    expect(getKeepAlive(attachedEarly.stream)).toEqual(STATE);
    redis.disconnect();
    attachedEarly.disconnect();
  });

  it('with TLS: the TLSSocket ioredis reconnects with is configured too', async () => {
    const redis = new Redis({ port: server.tlsPort!, host: '127.0.0.1', tls: { ca: cert!.cert, servername: 'localhost' }, lazyConnect: true });
    setRedisKeepAlive(redis, OURS);
    await redis.connect();
    expect(redis.stream.constructor.name).toBe('TLSSocket');
    expect(getKeepAlive(redis.stream)).toEqual(STATE);
    const first = redis.stream;
    const admin = new Redis({ port: server.port, host: '127.0.0.1' });
    const reconnected = once(redis, 'ready');
    await admin.client('KILL', 'ID', String(await redis.client('ID')));
    await reconnected;
    expect(redis.stream).not.toBe(first);
    expect(redis.stream.constructor.name).toBe('TLSSocket');
    expect(getKeepAlive(redis.stream)).toEqual(STATE);
    redis.disconnect();
    admin.disconnect();
  });

  it("a connection that cannot be configured (a Unix socket) is reported as the client's 'error', and the client works on", async () => {
    const redis = new Redis({ path: server.unixSocket, lazyConnect: true });
    const errors: Array<{ code?: string }> = [];
    redis.on('error', (error: Error & { code?: string }) => errors.push(error));
    setRedisKeepAlive(redis, OURS);
    await redis.connect();
    await until(() => errors.length > 0, "the client's 'error'");
    expect(errors[0]).toMatchObject({ code: 'ERR_SOCKET_NOT_TCP' });
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();
  });

  it('rejects bad options at once', () => {
    const redis = new Redis({ lazyConnect: true });
    expect(() => setRedisKeepAlive(redis, { intvl: 5 } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    redis.disconnect();
  });
});

describe.runIf(redisOk)('ioredis Cluster', () => {
  const nodes: Server[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) nodes.push(await startRedis(undefined, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${i}.conf`]));
    execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: 'pipe',
      env: serverEnv(),
    });
    // Every node must agree the cluster is up before a client connects, or
    // ioredis keeps refreshing its slots.
    await until(
      () => nodes.every((n) => execFileSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { env: serverEnv() }).toString().includes('cluster_state:ok')),
      'cluster_state:ok on every node',
      30_000,
    );
  }, 60_000);
  afterAll(async () => {
    for (const n of nodes) await n.stop();
  });

  it('configures every node, including the ones the cluster discovers after attaching', async () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: nodes[0]!.port }], { lazyConnect: true });
    setRedisKeepAlive(cluster, OURS); // no nodes yet: all arrive through '+node'
    await cluster.connect();
    await until(() => cluster.status === 'ready', 'the cluster');
    // One key per node, so that every node gets a connection.
    for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']) await cluster.set(key, '1');
    const connected = cluster.nodes('all').filter((n) => n.stream && !n.stream.destroyed && !n.stream.connecting);
    expect(connected).toHaveLength(3);
    for (const node of connected) expect(getKeepAlive(node.stream)).toEqual(STATE);
    cluster.disconnect();
  });
});

describe.runIf(postgresOk)('pg', () => {
  let plain: Server;
  let ssl: Server;
  beforeAll(async () => {
    [plain, ssl] = await Promise.all([startPostgres(), startPostgres(cert)]);
  }, 60_000);
  afterAll(async () => {
    await plain?.stop();
    await ssl?.stop();
  });

  const config = (server: Server) => ({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });

  it("every new physical connection of a Pool, and pg's own keepAlive does not undo it", async () => {
    const pool = new pg.Pool({ ...config(plain), max: 3, keepAlive: true, keepAliveInitialDelayMillis: 5000 });
    setPgKeepAlive(pool, OURS);
    // Three at once: three physical connections.
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    expect(pool.totalCount).toBe(3);
    for (const client of clients) {
      const stream = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
      expect(getKeepAlive(stream)).toEqual(STATE);
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
      client.release();
    }
    await pool.end();
  });

  it('with ssl: the TLS socket after the upgrade', async () => {
    const pool = new pg.Pool({ ...config(ssl), ssl: { ca: cert!.cert, servername: 'localhost' }, max: 2 });
    setPgKeepAlive(pool, OURS);
    const client = await pool.connect();
    const stream = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
    expect(stream.constructor.name).toBe('TLSSocket');
    expect(getKeepAlive(stream)).toEqual(STATE);
    expect((await client.query('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows).toEqual([{ ssl: true }]);
    client.release();
    await pool.end();
  });

  it("a connection that cannot be configured (a Unix socket) is reported as the pool's 'error'", async () => {
    const pool = new pg.Pool({ host: plain.unixSocket, port: plain.port, user: 'postgres', database: 'postgres', max: 1 });
    const errors: Array<{ code?: string }> = [];
    pool.on('error', (error) => errors.push(error as { code?: string }));
    setPgKeepAlive(pool, OURS);
    const client = await pool.connect();
    expect(errors).toMatchObject([{ code: 'ERR_SOCKET_NOT_TCP' }]);
    expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    client.release();
    await pool.end();
  });

  it('connections a pool already has, and a single Client before and after connect', async () => {
    const pool = new pg.Pool({ ...config(plain), max: 1 });
    const early = await pool.connect();
    early.release();
    setPgKeepAlive(pool, OURS);
    const again = await pool.connect();
    expect(again).toBe(early);
    expect(getKeepAlive((again as unknown as { connection: { stream: net.Socket } }).connection.stream)).toEqual(STATE);
    again.release();
    await pool.end();

    const before = new pg.Client({ ...config(plain), keepAlive: true });
    setPgKeepAlive(before, OURS);
    await before.connect();
    expect(getKeepAlive((before as unknown as { connection: { stream: net.Socket } }).connection.stream)).toEqual(STATE);
    await before.end();
    const after = new pg.Client(config(plain));
    await after.connect();
    setPgKeepAlive(after, OURS);
    expect(getKeepAlive((after as unknown as { connection: { stream: net.Socket } }).connection.stream)).toEqual(STATE);
    await after.end();
  });
});

describe.runIf(reads)('http and https agents', () => {
  async function serve(server: http.Server | https.Server) {
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as net.AddressInfo).port;
  }
  const get = (mod: typeof http | typeof https, agent: http.Agent, port: number, extra: object = {}) =>
    new Promise<net.Socket>((resolve, reject) => {
      const req = mod.get({ host: '127.0.0.1', port, agent, ...extra }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject);
    });

  it('a pooled socket keeps our interval and count after the agent re-applies its own', async () => {
    const server = http.createServer();
    const port = await serve(server);
    const agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 7000 });
    const options = { ...OURS };
    const detach = setAgentKeepAlive(agent, options);
    options.count = 99; // read once, when attached: a later change does nothing
    const socket = await get(http, agent, port);
    await until(() => (agent.freeSockets[`127.0.0.1:${port}:`]?.length ?? 0) === 1, 'the socket to go back to the pool');
    expect(agent.freeSockets[`127.0.0.1:${port}:`]![0]).toBe(socket);
    // The agent just called socket.setKeepAlive(true, 7000): without us that is 7 s, 1 s x 10.
    expect(getKeepAlive(socket)).toEqual(STATE);
    // Reused for a second request, and back again.
    expect(await get(http, agent, port)).toBe(socket);
    await until(() => (agent.freeSockets[`127.0.0.1:${port}:`]?.length ?? 0) === 1, 'the socket to go back again');
    expect(getKeepAlive(socket)).toEqual(STATE);
    // Detached: the agent's own methods again.
    detach();
    expect(Object.prototype.hasOwnProperty.call(agent, 'keepSocketAlive')).toBe(false);
    agent.destroy();
    server.close();
  });

  it('a socket that cannot be configured (a Unix socket path) fails its request with the reason', async () => {
    const file = unixSocketPath();
    const server = http.createServer((_req, res) => res.end('ok')).listen(file);
    await once(server, 'listening');
    const agent = new http.Agent({ keepAlive: true });
    setAgentKeepAlive(agent, OURS);
    const failed = await new Promise<Error & { code?: string }>((resolve) => {
      http.get({ socketPath: file, path: '/', agent }, () => resolve(new Error('the request went through'))).on('error', resolve);
    });
    expect(failed.code).toBe('ERR_SOCKET_NOT_TCP');
    agent.destroy();
    server.close();
  });

  it.runIf(haveOpenssl())('https.Agent: TLS sockets, configured the same', async () => {
    const { key, cert: crt } = selfSignedCert();
    const server = https.createServer({ key, cert: crt });
    const port = await serve(server);
    const agent = new https.Agent({ keepAlive: true, ca: crt, servername: 'localhost' });
    setAgentKeepAlive(agent, OURS);
    const socket = await get(https, agent, port);
    expect(socket.constructor.name).toBe('TLSSocket');
    await until(() => Object.values(agent.freeSockets).flat().length === 1, 'the socket to go back to the pool');
    expect(getKeepAlive(socket)).toEqual(STATE);
    agent.destroy();
    server.close();
  });
});

describe.runIf(reads)('undici', () => {
  it('a connector for Agent: every socket it connects is configured, with request and with fetch', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as net.AddressInfo;
    const sockets: net.Socket[] = [];
    const base = buildConnector({}) as unknown as Connector;
    const recording: Connector = (options, callback) =>
      base(options, (...args) => {
        if (args[1]) sockets.push(args[1]);
        (callback as (...a: unknown[]) => void)(...args);
      });
    const agent = new Agent({ connect: keepAliveConnector(OURS, recording) as never });
    const res = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
    expect(await res.body.text()).toBe('ok');
    expect(sockets).toHaveLength(1);
    expect(getKeepAlive(sockets[0]!)).toEqual(STATE);
    // fetch, through the global dispatcher: undici's fetch and Node's own.
    const previous = getGlobalDispatcher();
    const viaFetch = new Agent({ connect: keepAliveConnector(OURS, recording) as never });
    setGlobalDispatcher(viaFetch);
    try {
      expect(await (await undiciFetch(`http://127.0.0.1:${port}/a`)).text()).toBe('ok');
      expect(sockets).toHaveLength(2);
      expect(getKeepAlive(sockets[1]!)).toEqual(STATE);
      await viaFetch.close(); // so the next fetch needs a new connection
      setGlobalDispatcher(new Agent({ connect: keepAliveConnector(OURS, recording) as never }));
      expect(await (await fetch(`http://127.0.0.1:${port}/b`)).text()).toBe('ok');
      expect(sockets).toHaveLength(3);
      expect(getKeepAlive(sockets[2]!)).toEqual(STATE);
      await getGlobalDispatcher().close();
    } finally {
      setGlobalDispatcher(previous);
    }
    // With no base connector, undici's own buildConnector is used.
    const plain = new Agent({ connect: keepAliveConnector(OURS) as never });
    expect(await (await request(`http://127.0.0.1:${port}/c`, { dispatcher: plain })).body.text()).toBe('ok');
    await plain.close();
    await agent.close();
    server.close();
  });

  it('a connection whose socket cannot be configured fails as a connect error', async () => {
    // A base connector that connects to a Unix-domain socket: not TCP.
    const file = unixSocketPath();
    const server = http.createServer((_req, res) => res.end('ok')).listen(file);
    await once(server, 'listening');
    const toUnix: Connector = (_options, callback) => {
      const socket = net.connect(file, () => (callback as (...a: unknown[]) => void)(null, socket));
    };
    const agent = new Agent({ connect: keepAliveConnector(OURS, toUnix) as never });
    await expect(request('http://localhost/', { dispatcher: agent })).rejects.toMatchObject({ code: 'ERR_SOCKET_NOT_TCP' });
    await agent.close();
    server.close();
  });
});
