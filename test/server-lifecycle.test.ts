// A server's configuration belongs to the server object: it applies on every
// listen, and in cluster workers too, where (with round-robin scheduling, the
// default) the worker has no listening socket of its own. Real servers, a
// real cluster (real child processes), syscalls counted with strace.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net = require('node:net');
import { tmpdir } from 'node:os';
import path = require('node:path');
import { getKeepAlive, setKeepAlive } from '../lib';
import { haveStrace, havePython, kernelView, notOnWindows } from './helpers';

const reads = notOnWindows('it reads the options back with getKeepAlive');
const python = reads && havePython();
const strace = haveStrace();

const A = { idle: 21_000, interval: 3_000, count: 2 };
const stateOfA = { enable: true, ...A, userTimeout: 27_000 };

describe.runIf(reads)('a server listening again', () => {
  it('close() and listen() again: the new listening socket is configured, and its connections inherit it', async () => {
    const server = net.createServer();
    setKeepAlive(server, A);
    for (let round = 0; round < 2; round++) {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      expect(getKeepAlive(server)).toEqual(stateOfA);
      if (python) expect((await kernelView(server)).intervalSeconds).toBe(3);
      const acceptedP = once(server, 'connection') as Promise<[net.Socket]>;
      const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      const [accepted] = await acceptedP;
      expect(getKeepAlive(accepted)).toEqual(stateOfA);
      client.destroy();
      accepted.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    // As Node's test-net-server-listen-remove-callback checks: nothing of ours is left on it.
    for (const event of ['listening', 'connection', 'close', 'error']) expect(server.listenerCount(event)).toBe(0);
  });
});

interface ClusterRun {
  result: { accepted: unknown[]; serverRead: { state?: unknown; error?: { code: string; message: string } } };
  /** Keepalive setsockopt calls made while the worker accepted its connections. */
  acceptingCalls: string[];
}

function runCluster(policy: 'rr' | 'none', nodeOption = ''): ClusterRun {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-cluster-'));
  try {
    const log = path.join(dir, 'trace');
    const out = execFileSync(
      'strace',
      ['-f', '-qq', '-o', log, '-e', 'trace=setsockopt,getsockopt,kill', process.execPath,
        path.join(__dirname, 'fixtures', 'cluster-server.cjs'), policy, nodeOption],
      { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 30_000 },
    );
    const phases: string[][] = [[]];
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (/\bkill\(\d+, 0\)/.test(line)) phases.push([]);
      const m = /\bsetsockopt\(\d+, \w+, (SO_KEEPALIVE|TCP_KEEP\w+|TCP_USER_TIMEOUT)/.exec(line);
      if (m) phases[phases.length - 1]!.push(m[1]!);
    }
    return { result: JSON.parse(out), acceptingCalls: phases[1]! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(strace)('cluster workers', () => {
  it('round-robin (the default, pm2 cluster mode): every accepted connection is configured in the worker', () => {
    const { result, acceptingCalls } = runCluster('rr');
    expect(result.accepted).toEqual(Array(5).fill(stateOfA));
    // No listening socket in the worker to inherit from: one configuration per connection.
    expect(acceptingCalls.filter((call) => call === 'TCP_KEEPIDLE')).toHaveLength(5);
    expect(acceptingCalls).toHaveLength(25);
    expect(result.serverRead.error?.code).toBe('ERR_SERVER_LISTENS_IN_PRIMARY');
  });

  it("round-robin with Node's own keepAlive server option: the connections read ours", () => {
    const { result } = runCluster('rr', 'keepAlive');
    expect(result.accepted).toEqual(Array(5).fill(stateOfA));
  });

  it('SCHED_NONE: the worker listens on the socket the primary made, which every worker shares and another may set since: each connection is configured in the worker (five calls), not assumed inherited', () => {
    const { result, acceptingCalls } = runCluster('none');
    expect(result.accepted).toEqual(Array(5).fill(stateOfA));
    expect(acceptingCalls.filter((call) => call === 'TCP_KEEPIDLE')).toHaveLength(5);
    expect(acceptingCalls).toHaveLength(25);
    expect(result.serverRead).toEqual({ state: stateOfA });
  });
});

const run = (fixture: string) =>
  JSON.parse(
    execFileSync(process.execPath, [path.join(__dirname, 'fixtures', fixture)], { cwd: path.join(__dirname, '..'), encoding: 'utf8', timeout: 30_000 }),
  ) as Record<string, any>;
const state = (options: object) => ({ enable: true, ...options });

describe.runIf(reads)('a listening socket another process shares (issue #27)', () => {
  it('SCHED_NONE, two workers on one listening socket, B configured after A: what each accepts reads its own configuration', () => {
    const out = run('cluster-shared.cjs');
    expect(out.samePort).toBe(true); // both listen(0): the primary's one socket
    const A = state({ idle: 5000, interval: 1000, count: 3, userTimeout: 8000 });
    const B = state({ idle: 8000, interval: 2000, count: 6, userTimeout: 20_000 });
    // At least the five made after B closed its server: only A could accept them.
    expect(out.A.length).toBeGreaterThanOrEqual(5);
    expect(out.A).toEqual(Array(out.A.length).fill(A));
    expect(out.B).toEqual(Array(out.B.length).fill(B));
  });

  it("listen({ fd }) and a server sent with child.send: another process sets its own options after ours, and what this one accepts reads ours", () => {
    const out = run('listen-given.cjs');
    const ours = state({ idle: 5000, interval: 1000, count: 3, userTimeout: 8000 });
    expect(out.listening).toEqual([ours, ours]);
    // given: configured before listen({ fd }); after: listen({ fd }) before the library was used; sent: listen(handle) by Node.
    expect(out.accepted).toEqual({ given: ours, after: ours, sent: ours });
  });
});
