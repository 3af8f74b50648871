// postgres.js against a real PostgreSQL server on loopback: its `socket`
// factory option with setKeepAlive, read back on the client's actual socket
// at steady state and after the server terminates the backend and
// postgres.js connects again for the next query.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net = require('node:net');
import postgres = require('postgres');
import { getKeepAlive, register, setKeepAlive } from '../lib/index';
import { socketsTo, until } from './servers';
import { havePostgres, startPostgres, type Server } from './servers';

const options = { idle: 10_000, interval: 2000, count: 3 };
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

// After pg_terminate_backend, the terminated connection fails its next use or
// is noticed closed; either way postgres.js makes a new one. The backend pid
// of the first query that succeeds on it.
async function backendPidAfterReconnect(sql: postgres.Sql): Promise<number | undefined> {
  for (let i = 0; i < 20; i++) {
    try {
      const [{ pid }] = await sql<[{ pid: number }]>`select pg_backend_pid() as pid`;
      return pid;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return undefined;
}

describe.runIf(havePostgres())('postgres.js (PostgreSQL on loopback)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startPostgres();
    // The port opens before the server takes queries ("the database system is starting up").
    const probe = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 1, onnotice: () => {} });
    try {
      for (let i = 0; ; i++) {
        try {
          await probe`select 1`;
          break;
        } catch (error) {
          if (i === 200) throw error;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      await probe.end({ timeout: 1 });
    }
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('socket: (o) => setKeepAlive(net.connect(o.port[0], o.host[0]), options): configured after its own setKeepAlive(true, 60 s), and again after pg_terminate_backend and its reconnect', async () => {
    const sockets: net.Socket[] = [];
    const sql = postgres({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      max: 1,
      onnotice: () => {},
      socket: (o: { host: string[]; port: number[] }) => {
        const socket = setKeepAlive(net.connect(o.port[0]!, o.host[0]!), options);
        sockets.push(socket);
        return socket;
      },
    } as postgres.Options<{}>); // postgres.js's typings leave out its `socket` option
    const admin = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 1 });
    try {
      const [{ pid }] = await sql<[{ pid: number }]>`select pg_backend_pid() as pid`;
      expect(sockets).toHaveLength(1);
      expect(getKeepAlive(sockets[0]!)).toEqual(expected);

      await admin`select pg_terminate_backend(${pid})`;
      expect(await backendPidAfterReconnect(sql)).not.toBe(pid);
      // A new socket from the factory (more than one if a first attempt failed under load).
      const last = sockets.at(-1)!;
      expect(sockets.length).toBeGreaterThanOrEqual(2);
      expect(getKeepAlive(last)).toEqual(expected);
    } finally {
      await sql.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
    }
  });

  it('register() (process-wide), postgres.js connecting by itself and calling setKeepAlive(true, 60 s) in its connect handler: ours holds, also after pg_terminate_backend and its reconnect', async () => {
    const admin = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 1 });
    await admin`select 1`; // connected before register(): not configured, and not the socket read below
    const adminSockets = socketsTo(server.port);
    const unregister = register(options);
    const sql = postgres({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres', max: 1 });
    const clientSocket = (except: net.Socket[]) =>
      until(() => {
        const sockets = socketsTo(server.port).filter((s) => !except.includes(s) && !adminSockets.includes(s));
        return sockets.length === 1 ? sockets[0] : undefined;
      }, 'the postgres.js socket');
    try {
      const [{ pid }] = await sql<[{ pid: number }]>`select pg_backend_pid() as pid`;
      const first = await clientSocket([]);
      expect(getKeepAlive(first)).toEqual(expected);

      await admin`select pg_terminate_backend(${pid})`;
      expect(await backendPidAfterReconnect(sql)).not.toBe(pid);
      const second = await clientSocket([first]);
      expect(getKeepAlive(second)).toEqual(expected);
    } finally {
      unregister();
      await sql.end({ timeout: 1 });
      await admin.end({ timeout: 1 });
    }
  });
});
