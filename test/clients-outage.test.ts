// One real outage through a real client: Redis in a private network
// namespace, an ioredis command in flight when the server's path vanishes.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import path = require('node:path');
import { isUnavailable, outageTools } from '../lib/tools/outage';
import { haveNamespaces } from './helpers';
import { haveRedis } from './servers';

const ok = haveNamespaces() && haveRedis();

interface Outcome {
  command: 'resolved' | 'rejected' | 'pending';
  message?: string;
  afterMs: number;
  errors: Array<{ code: string; afterMs: number }>;
  deadPeers: Array<{ ofTheStream: boolean; code: string; remoteAddress: string; remotePort: number; cause: string; budget: number; afterMs: number }>;
  reconnected?: { value: string; newStream: boolean; afterMs: number };
}

function outage(withHelper: boolean, reconnect = false): Promise<Outcome> {
  const tools = outageTools();
  if (isUnavailable(tools)) throw new Error(tools.missing);
  const input = {
    ip: tools.ip,
    redisServer: 'redis-server',
    withHelper,
    reconnect,
    waitMs: 10_000,
    // Fail fast once the socket fails, instead of queueing for a reconnect:
    // ioredis's own retry policy decides what happens after the socket error.
    clientOptions: { maxRetriesPerRequest: 0 },
  };
  const fixture = path.join(__dirname, 'fixtures', 'redis-outage.cjs');
  return new Promise((resolve, reject) => {
    execFile(
      tools.unshare,
      ['--user', '--map-root-user', '--net', '--', process.execPath, fixture, JSON.stringify(input)],
      { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 40_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout))),
    );
  });
}

describe.runIf(ok)('ioredis when the Redis server vanishes with a command in flight', () => {
  it('with setRedisKeepAlive (userTimeout 2 s) the command fails within seconds, ETIMEDOUT; without, it still waits after 10 s', async () => {
    const [withHelper, without] = await Promise.all([outage(true), outage(false)]);
    // Measured 2.2 s: the user timeout plus the next retransmission tick.
    expect(withHelper.command).toBe('rejected');
    expect(withHelper.afterMs).toBeGreaterThanOrEqual(1800);
    expect(withHelper.afterMs).toBeLessThanOrEqual(5000);
    expect(withHelper.errors[0]).toMatchObject({ code: 'ETIMEDOUT' });
    expect(withHelper.errors[0]!.afterMs).toBeLessThanOrEqual(5000);
    // ioredis's own keepAlive (30 s, Node's) never bounds data in flight.
    expect(without).toMatchObject({ command: 'pending', errors: [], deadPeers: [] });
    expect(without.afterMs).toBeGreaterThanOrEqual(10_000);
  }, 60_000);

  it('tcp-keepalive:dead-peer names the Redis server and the user timeout, once, before the error; ioredis then reconnects and is answered', async () => {
    const run = await outage(true, true);
    expect(run.command).toBe('rejected');
    expect(run.deadPeers).toEqual([
      { ofTheStream: true, code: 'ETIMEDOUT', remoteAddress: '127.0.0.2', remotePort: 6379, cause: 'userTimeout', budget: 2000, afterMs: expect.any(Number) },
    ]);
    expect(run.deadPeers[0]!.afterMs).toBeLessThanOrEqual(run.errors[0]!.afterMs);
    expect(run.reconnected).toMatchObject({ value: 'v', newStream: true });
  }, 60_000);
});
