// mysql2 against a real MariaDB server on loopback: the helper on a pool and
// the `stream` factory one-liner, each read back on the client's actual
// socket at steady state and after the server kills the connection and the
// client connects again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import net = require('node:net');
import mysql = require('mysql2');
import { getKeepAlive, register, setKeepAlive } from '../lib/index';
import { setMysqlKeepAlive } from '../lib/integrations/clients/mysql2';
import { haveMariaDB, startMariaDB, type Server } from './servers';

// mysql2's typings leave out the socket every connection has.
const streamOf = (c: mysql.PoolConnection) => (c as unknown as { stream: net.Socket }).stream;
const options = { idle: 10_000, interval: 2000, count: 3 };
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

describe.runIf(haveMariaDB())('mysql2 (MariaDB on loopback)', () => {
  let server: Server;
  let admin: mysql.Connection;
  beforeAll(async () => {
    server = await startMariaDB();
    admin = mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    await once(admin, 'connect');
  });
  afterAll(async () => {
    admin?.destroy();
    await server?.stop();
  });

  const query = (pool: mysql.Pool, sql: string) =>
    new Promise<unknown>((resolve, reject) => pool.query(sql, (err, rows) => (err ? reject(err) : resolve(rows))));
  const getConnection = (pool: mysql.Pool) =>
    new Promise<mysql.PoolConnection>((resolve, reject) => pool.getConnection((err, c) => (err ? reject(err) : resolve(c))));
  // KILL from another connection: the server closes this one.
  async function killedByServer(connection: mysql.PoolConnection): Promise<void> {
    const closed = once(streamOf(connection), 'close');
    admin.query(`KILL CONNECTION ${connection.threadId}`);
    await closed;
  }

  for (const [how, make] of [
    ['setMysqlKeepAlive(pool) (mysql2 keepalive with a delay too)', (port: number) => {
      const pool = mysql.createPool({ host: '127.0.0.1', port, user: 'root', connectionLimit: 1, keepAliveInitialDelay: 30_000 });
      setMysqlKeepAlive(pool, options);
      return pool;
    }],
    ['the stream factory: setKeepAlive(net.connect(...))', (port: number) =>
      mysql.createPool({ user: 'root', connectionLimit: 1, stream: () => setKeepAlive(net.connect(port, '127.0.0.1'), options) })],
    ['register() (process-wide), mysql2 keepalive with a delay in its own connect listener', (port: number) =>
      mysql.createPool({ host: '127.0.0.1', port, user: 'root', connectionLimit: 1, keepAliveInitialDelay: 30_000 })],
  ] as const) {
    it(`${how}: configured at steady state and after a server-side KILL and the pool's reconnect`, async () => {
      const unregister = how.startsWith('register()') ? register(options) : () => {};
      const pool = make(server.port);
      try {
        await query(pool, 'SELECT 1');
        const first = await getConnection(pool);
        expect(getKeepAlive(streamOf(first))).toEqual(expected);
        const firstId = first.threadId;
        first.release();

        await killedByServer(first);
        await query(pool, 'SELECT 1'); // a new physical connection
        const second = await getConnection(pool);
        expect(second.threadId).not.toBe(firstId);
        expect(getKeepAlive(streamOf(second))).toEqual(expected);
        second.release();
      } finally {
        unregister();
        await new Promise((r) => pool.end(r));
      }
    });
  }
});
