// `tcp-keepalive inspect <pid>` against real processes, from outside them: a
// Node process holding a mix of sockets configured every way there is (each
// row checked against what that process set, on every Node major), one under
// tcp-keepalive/register, and redis-server (not Node). It sets no option
// (strace: no setsockopt, every copied fd closed before the next is taken),
// finds sockets the network namespace's tables would not show (another
// namespace's, MPTCP, unbound), shows a socket it cannot read as a row that
// says why, reports nothing from a process that exited under it (even when
// its pid was reused), and every refusal says why with its own exit code.
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net = require('node:net');
import { tmpdir } from 'node:os';
import path = require('node:path');
import { createInterface } from 'node:readline';
import { getSystemErrorName } from 'node:util';
import { getKeepAlive, getTcpInfo, type KeepAliveState } from '../lib';
// The module itself: lib/index.ts loads it on first use, with a require that
// runs compiled code only (the public entry is exercised from dist/ by
// docs-live-state.test.ts, the package test and Bun's smoke suite).
import { inspectProcess, type InspectedSocket, type Inspection } from '../lib/tools/inspect';
import { connectedPair, have, haveNode, havePython, haveStrace, linuxOnly, nodeOf, runs, thrownBy } from './helpers';
import { haveRedis, startRedis } from './servers';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'dist', 'tools', 'cli.js');
const fixture = path.join(__dirname, 'fixtures', 'inspect-target.cjs');

interface Row {
  fd: number;
  how: string;
  state: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  expected: KeepAliveState | 'system';
}

// inspect reads another process's sockets with pidfd_open, pidfd_getfd and /proc (Linux 5.6+).
const linux = linuxOnly("inspect reads another process's sockets with pidfd_getfd and /proc");

const sysctl = (name: string) => (linux ? Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8')) : NaN);
const SYSTEM: KeepAliveState = {
  enable: false,
  idle: sysctl('tcp_keepalive_time') * 1000,
  interval: sysctl('tcp_keepalive_intvl') * 1000,
  count: sysctl('tcp_keepalive_probes'),
  userTimeout: 0,
};

interface Target {
  child: ChildProcess;
  pid: number;
  rows: Row[];
  /** Asks the process whether everything still holds what it set and carries data. */
  check(): Promise<{ wrong: unknown[]; carried: number }>;
  stop(): Promise<void>;
}

async function startTarget(mode: 'mix' | 'register', options: { node?: string; packageDir?: string; prefix?: string[] } = {}): Promise<Target> {
  const dir = options.packageDir ?? root;
  const args = [
    ...(mode === 'register' ? ['--require', path.join(dir, 'dist', 'integrations', 'register.js')] : []),
    options.packageDir === undefined ? fixture : path.join(dir, 'inspect-target.cjs'),
    dir,
    mode,
  ];
  const env = { ...process.env, TCP_KEEPALIVE: mode === 'register' ? 'idle=45s,interval=9s,count=2' : 'off' };
  const node = options.node ?? process.execPath;
  const child = options.prefix ? spawn(options.prefix[0]!, [...options.prefix.slice(1), node, ...args], { env }) : spawn(node, args, { env });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.done) throw new Error(`the target exited: ${stderr}`);
  const { pid, rows } = JSON.parse(first.value) as { pid: number; rows: Row[] };
  return {
    child,
    pid,
    rows,
    async check() {
      child.stdin!.write('check\n');
      return JSON.parse((await lines.next()).value) as { wrong: unknown[]; carried: number };
    },
    async stop() {
      const exited = once(child, 'exit');
      child.stdin!.end();
      await exited;
    },
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const inspect = (pid: number | string, extra: string[] = [], node = process.execPath) => run(node, [cli, 'inspect', String(pid), ...extra]);

/** The rows of an inspection, every one of them read (none has an `error`). */
function readRows(inspection: Inspection): InspectedSocket[] {
  expect(inspection.sockets.filter((s) => s.error !== undefined)).toEqual([]);
  return inspection.sockets as InspectedSocket[];
}

/** Checks every row of an inspection against what the process said it set. */
function expectRows(inspection: Inspection, rows: Row[]): void {
  const sockets = readRows(inspection);
  expect(sockets.map((s) => s.fd)).toEqual(rows.map((r) => r.fd).sort((a, b) => a - b));
  for (const row of rows) {
    const socket = sockets.find((s) => s.fd === row.fd)!;
    const expected = row.expected === 'system' ? SYSTEM : row.expected;
    expect(
      {
        family: socket.family,
        localAddress: socket.localAddress,
        localPort: socket.localPort,
        remoteAddress: socket.remoteAddress,
        remotePort: socket.remotePort,
        state: socket.state,
        keepAlive: socket.keepAlive,
        live: socket.tcpInfo.state,
      },
      row.how,
    ).toEqual({
      family: row.localAddress.includes(':') ? 'IPv6' : 'IPv4',
      localAddress: row.localAddress,
      localPort: row.localPort,
      remoteAddress: row.remoteAddress,
      remotePort: row.remotePort,
      state: row.state,
      keepAlive: expected,
      live: row.state,
    });
    expect(socket.systemDefaults, row.how).toBe(
      expected.idle === SYSTEM.idle && expected.interval === SYSTEM.interval && expected.count === SYSTEM.count,
    );
  }
}

const MAJORS = [20, 22, 24, 26];

const strace = linux && haveStrace();

describe.runIf(linux)('inspect a Node process holding a mix of sockets', () => {
  for (const major of MAJORS) {
    it.runIf(haveNode(major))(
      `Node ${major}: every row as the process set it (setKeepAlive, Node's own call, none, a configured server and what it accepted, IPv6, dual-stack), nothing changed`,
      { timeout: 60_000 },
      async () => {
        const node = nodeOf(major);
        const target = await startTarget('mix', { node });
        try {
          const { code, stdout, stderr } = await inspect(target.pid, ['--json'], node);
          expect(stderr).toBe('');
          expect(code).toBe(0);
          const inspection = JSON.parse(stdout) as Inspection;
          expect(inspection).toMatchObject({ pid: target.pid, command: 'node' });
          expectRows(inspection, target.rows);

          // What the options mean, for the kernel's rules (engine/detection.ts).
          const meaning = (how: string) => inspection.sockets.find((s) => s.fd === target.rows.find((r) => r.how.startsWith(how))!.fd)!;
          expect(meaning('setKeepAlive(socket')).toMatchObject({
            idleDeadPeerMs: 50_000,
            unacknowledgedDataMs: 50_000,
            meaning: 'a dead idle peer is noticed within 50 s; unacknowledged data is given up after 50 s',
          });
          // idle 33 s, then probes every 7 s; the 12.345 s user timeout has passed by the first check after a probe.
          expect(meaning('accepted by the configured server')).toMatchObject({ idleDeadPeerMs: 40_000, unacknowledgedDataMs: 12_345 });
          expect(meaning("Node's own")).toMatchObject({ idleDeadPeerMs: 20_000 });
          expect(meaning('nothing set')).toMatchObject({ idleDeadPeerMs: null, meaning: expect.stringMatching(/^never: keepalive is off; unacknowledged data is retransmitted for at least .+ \(no user timeout\)$/) });
          expect(meaning('setKeepAlive(server) before listen').meaning).toBe(
            'connections it accepts start with this: a dead idle peer is noticed within 40 s; unacknowledged data is given up after 12.3 s',
          );
          expect(inspection.summary).toMatchObject({ sockets: 13, connections: 10, listening: 3, withoutKeepAlive: 4, slowest: { idleDeadPeerMs: null } });

          expect(await target.check()).toEqual({ wrong: [], carried: 5 });
        } finally {
          await target.stop();
        }
      },
    );
  }

  it('a table by default: one row per socket, the options and what they mean, the live state, a summary line', async () => {
    const target = await startTarget('mix');
    try {
      const { code, stdout, stderr } = await inspect(target.pid);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const lines = stdout.split('\n');
      expect(lines[0]).toBe(`process ${target.pid} (node): 13 TCP sockets`);
      expect(lines[2]).toMatch(/^FD\s+LOCAL\s+REMOTE\s+STATE\s+KEEPALIVE\s+USER TIMEOUT\s+DEAD IDLE PEER NOTICED\s+RTT\s+UNACKED\s+PROBES\s+BACKOFF\s+LAST RECEIVED$/);
      const row = (how: string) => {
        const fd = target.rows.find((r) => r.how.startsWith(how))!.fd;
        return lines.find((l) => l.startsWith(`${fd} `))!.split(/\s{2,}/);
      };
      const byUs = target.rows.find((r) => r.how.startsWith('setKeepAlive(socket'))!;
      expect(row('setKeepAlive(socket')).toEqual([
        String(byUs.fd),
        `127.0.0.1:${byUs.localPort}`,
        `127.0.0.1:${byUs.remotePort}`,
        'ESTABLISHED',
        'idle 30 s, 4 x 5 s',
        '50 s',
        'within 50 s',
        expect.stringMatching(/^\d+\.\d+ ms$/),
        '0',
        '0',
        '0',
        expect.stringMatching(/ ago$/),
      ]);
      expect(row('nothing set').slice(3, 7)).toEqual(['ESTABLISHED', 'off', 'none', 'never: keepalive is off']);
      expect(row('IPv6, setKeepAlive').slice(1, 3)).toEqual([expect.stringMatching(/^\[::1\]:\d+$/), expect.stringMatching(/^\[::1\]:\d+$/)]);
      expect(row('accepted on a dual-stack').slice(1, 2)).toEqual([expect.stringMatching(/^\[::ffff:127\.0\.0\.1\]:\d+$/)]);
      expect(row('setKeepAlive(server)').slice(2, 7)).toEqual(['*', 'LISTEN', 'idle 33 s, 4 x 7 s', '12.3 s', 'accepted: within 40 s']);
      expect(lines.at(-2)).toBe(
        '10 connections, 4 without keepalive; slowest detection of a dead idle peer: never (keepalive off on 4 connections); 3 listening sockets',
      );
    } finally {
      await target.stop();
    }
  });

  it('a process under tcp-keepalive/register (--require, TCP_KEEPALIVE): its listening socket, the connection it opened and the one it accepted', async () => {
    const target = await startTarget('register');
    try {
      const { code, stdout } = await inspect(target.pid, ['--json']);
      expect(code).toBe(0);
      const inspection = JSON.parse(stdout) as Inspection;
      expectRows(inspection, target.rows);
      expect(inspection.summary).toMatchObject({ connections: 2, listening: 1, withoutKeepAlive: 0, slowest: { idleDeadPeerMs: 45_000 + 9_000 * 2 } });
      expect(inspection.summary.text).toMatch(/^2 connections, 0 without keepalive; slowest detection of a dead idle peer: 1 min 3 s \(fd \d+\); 1 listening socket$/);
      expect(await target.check()).toEqual({ wrong: [], carried: 1 });
    } finally {
      await target.stop();
    }
  });

  it.runIf(strace)('sets nothing (strace): no setsockopt; each copy is asked which socket it is (getsockname, getsockopt) and read with getsockopt only, and closed before the next is taken', async () => {
    const target = await startTarget('mix');
    const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-inspect-strace-'));
    try {
      const trace = path.join(dir, 'trace');
      const { code } = await run('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=pidfd_getfd,setsockopt,getsockopt,getsockname,close', process.execPath, cli, 'inspect', String(target.pid), '--json']);
      expect(code).toBe(0);
      const calls = readFileSync(trace, 'utf8').split('\n').filter(Boolean).map((line) => line.replace(/^\d+\s+/, ''));
      expect(calls.filter((c) => c.startsWith('setsockopt('))).toEqual([]);
      // Each copy: the target's fd it copies, and what was asked of it until it was closed.
      const copies: Array<{ fd: number; asked: string[] }> = [];
      let open: number | undefined;
      for (const call of calls) {
        const copied = /^pidfd_getfd\(\d+, (\d+), 0\)\s+=\s+(\d+)$/.exec(call);
        if (copied) {
          expect(open, `a copy was still open when ${call}`).toBeUndefined();
          open = Number(copied[2]);
          copies.push({ fd: Number(copied[1]), asked: [] });
          continue;
        }
        if (open === undefined) continue;
        const on = /^(getsockopt|getsockname)\((\d+), (?:\w+, (\w+))?/.exec(call);
        if (on && Number(on[2]) === open) copies.at(-1)!.asked.push(on[3] ?? on[1]!);
        if (call.startsWith(`close(${open})`)) open = undefined;
      }
      expect(open).toBeUndefined();
      // Every TCP socket: which it is (family, type, protocol, peer), then the five options and TCP_INFO.
      const rows = target.rows.map((r) => r.fd);
      expect(copies.filter((c) => rows.includes(c.fd)).map((c) => c.fd)).toEqual([...rows].sort((a, b) => a - b));
      for (const copy of copies.filter((c) => rows.includes(c.fd))) {
        expect(copy.asked, `fd ${copy.fd}`).toEqual([
          'getsockname',
          'SO_TYPE',
          'SO_PROTOCOL',
          'SO_PEERNAME',
          'TCP_KEEPIDLE',
          'TCP_KEEPINTVL',
          'TCP_KEEPCNT',
          'TCP_USER_TIMEOUT',
          'SO_KEEPALIVE',
          'TCP_INFO',
        ]);
      }
      // Its other sockets (the Unix sockets of its stdio): asked which they are, nothing more.
      const others = copies.filter((c) => !rows.includes(c.fd));
      expect(others.length).toBeGreaterThan(0);
      for (const copy of others) expect(copy.asked, `fd ${copy.fd}`).toEqual(['getsockname']);
      expect(await target.check()).toEqual({ wrong: [], carried: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await target.stop();
    }
  });
});

describe.runIf(haveRedis())('inspect redis-server (a process that is not Node)', () => {
  it("its listening socket and each client's connection, with the keepalive Redis sets (--tcp-keepalive 45: idle 45 s, 15 s x 3)", { timeout: 60_000 }, async () => {
    const redis = await startRedis(undefined, ['--tcp-keepalive', '45']);
    const clients: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const client = net.connect(redis.port, '127.0.0.1');
        clients.push(client);
        await once(client, 'connect');
        client.write('PING\r\n');
        const [reply] = (await once(client, 'data')) as [Buffer];
        expect(reply.toString()).toBe('+PONG\r\n');
      }
      const { code, stdout } = await inspect(redis.pid, ['--json']);
      expect(code).toBe(0);
      const inspection = JSON.parse(stdout) as Inspection;
      expect(inspection.command).toBe('redis-server');
      const sockets = readRows(inspection);
      const listening = sockets.filter((s) => s.state === 'LISTEN');
      expect(listening.map((s) => [s.localAddress, s.localPort, s.keepAlive.enable])).toEqual([['127.0.0.1', redis.port, false]]);
      const connections = sockets.filter((s) => s.state !== 'LISTEN');
      expect(connections.map((s) => s.remotePort).sort()).toEqual(clients.map((c) => c.localPort).sort());
      for (const s of connections) {
        expect(s).toMatchObject({ localAddress: '127.0.0.1', localPort: redis.port, remoteAddress: '127.0.0.1', state: 'ESTABLISHED' });
        expect(s.keepAlive).toEqual({ enable: true, idle: 45_000, interval: 15_000, count: 3, userTimeout: 0 });
        expect(s.idleDeadPeerMs).toBe(90_000);
        expect(s.tcpInfo.sinceLastDataReceived).toBeGreaterThanOrEqual(0);
      }
      expect(inspection.summary.text).toBe('2 connections, 0 without keepalive; slowest detection of a dead idle peer: 1 min 30 s (fd ' + connections[0]!.fd + '); 1 listening socket');
      // Still serving the same connections.
      clients[0]!.write('PING\r\n');
      expect(String((await once(clients[0]!, 'data'))[0])).toBe('+PONG\r\n');
    } finally {
      for (const c of clients) c.destroy();
      await redis.stop();
    }
  });
});

// Namespaces of its own, as any user may make them (user namespaces on).
const haveUnshare = () =>
  have('unshare with user and network namespaces', runs('unshare', ['--user', '--map-root-user', '--net', 'true']), 'apt-get install -y util-linux; sysctl kernel.unprivileged_userns_clone=1');

interface SocketsFixture {
  pid: number;
  rows: Array<{ fd: number; how: string; state: string; protocol: 'TCP' | 'MPTCP'; localAddress: string; localPort: number; remoteAddress: string; remotePort: number }>;
  notShown: number[];
  mptcp: boolean;
  mptcpUserTimeoutErrno: number | null;
}

describe.runIf(linux && havePython() && haveUnshare())('sockets its network namespace\'s tables do not show, and sockets that are not TCP', () => {
  it("another namespace's socket, unbound and bound-only sockets, a connection being made, one socket behind two fds, MPTCP (a row that says why it cannot be read); no UDP, raw or Unix socket", { timeout: 30_000 }, async () => {
    // A listening socket of this namespace, handed to a process in a namespace of its own as its fd 3.
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
    const child = spawn(
      'unshare',
      ['--user', '--map-root-user', '--net', 'sh', '-c', `ip link set lo up && ip route add 10.9.0.0/24 dev lo && exec python3 ${path.join(__dirname, 'fixtures', 'inspect-sockets.py')}`],
      { stdio: ['pipe', 'pipe', 'inherit', fd] },
    );
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const fixture = JSON.parse((await lines.next()).value as string) as SocketsFixture;
      if (!fixture.mptcp) have('MPTCP', () => false, 'a kernel with CONFIG_MPTCP and sysctl net.mptcp.enabled=1');
      const { code, stdout, stderr } = await inspect(fixture.pid, ['--json']);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const inspection = JSON.parse(stdout) as Inspection;
      expect(inspection.sockets.map((s) => s.fd)).toEqual(fixture.rows.map((r) => r.fd));
      for (const row of fixture.rows) {
        const socket = inspection.sockets.find((s) => s.fd === row.fd)!;
        const { fd: _, how, state, ...where } = row;
        // MPTCP has no TCP_USER_TIMEOUT (Linux 6.18): the row says so, with what was read before.
        if (row.protocol === 'MPTCP' && fixture.mptcpUserTimeoutErrno !== null) {
          const code = getSystemErrorName(-fixture.mptcpUserTimeoutErrno);
          expect(socket, how).toEqual({
            fd: row.fd,
            ...where,
            family: 'IPv4',
            error: { message: `getsockopt ${code}`, code, errno: -fixture.mptcpUserTimeoutErrno, syscall: 'getsockopt', option: 'TCP_USER_TIMEOUT' },
          });
          continue;
        }
        expect(socket, how).toMatchObject({ ...where, state, systemDefaults: null });
        expect(socket.keepAlive, how).toMatchObject({ enable: false });
      }
      const unreadable = fixture.rows.filter((r) => r.protocol === 'MPTCP' && fixture.mptcpUserTimeoutErrno !== null).length;
      expect(inspection.summary).toMatchObject({ sockets: fixture.rows.length, listening: fixture.mptcp && unreadable === 0 ? 3 : 2, notConnected: 2, unreadable });

      // The table: a row that could not be read says why, after what is known of it.
      const table = (await inspect(fixture.pid)).stdout.split('\n');
      const mptcpClient = fixture.rows.find((r) => r.how === 'MPTCP, a connection');
      if (mptcpClient !== undefined && unreadable > 0) {
        expect(table.find((l) => l.startsWith(`${mptcpClient.fd} `))!.split(/\s{2,}/)).toEqual([
          String(mptcpClient.fd),
          `127.0.0.1:${mptcpClient.localPort}`,
          `127.0.0.1:${mptcpClient.remotePort}`,
          `MPTCP, cannot be read: getsockopt ${getSystemErrorName(-fixture.mptcpUserTimeoutErrno!)} (TCP_USER_TIMEOUT)`,
        ]);
        expect(table.at(-2)).toMatch(/; 3 sockets that could not be read$/);
      }
      const connecting = fixture.rows.find((r) => r.state === 'SYN_SENT')!;
      expect(table.find((l) => l.startsWith(`${connecting.fd} `))!.split(/\s{2,}/).slice(2, 4)).toEqual(['10.9.0.2:9', 'SYN_SENT']);
    } finally {
      child.stdin!.end();
      await once(child, 'exit');
      server.close();
    }
  });
});

describe.runIf(linux)('what it refuses, and why', () => {
  it('a pid that is not a positive whole number, no pid, two pids, an unknown option: exit 2 and one line saying so', async () => {
    // Each a process of its own, all at once: one after another they took
    // 24 s under test:asan on a loaded machine.
    const bads = ['abc', '0', '1.5', '007', '99999999999', ''];
    const [answers, none, two, unknown, help] = await Promise.all([
      Promise.all(bads.map((bad) => inspect(bad))),
      run(process.execPath, [cli, 'inspect']),
      run(process.execPath, [cli, 'inspect', '1', '2']),
      run(process.execPath, [cli, 'inspect', '--nope', '1']),
      run(process.execPath, [cli, 'inspect', '--help']),
    ]);
    bads.forEach((bad, i) => {
      expect(answers[i]).toEqual({
        code: 2,
        stdout: '',
        stderr: `tcp-keepalive inspect: '${bad}' is not a process id: give a positive whole number, such as the one pidof or pgrep prints\n`,
      });
    });
    expect(none).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tcp-keepalive inspect: which process\? /) });
    expect(two).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tcp-keepalive inspect: unexpected argument '2'/) });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/^tcp-keepalive inspect: Unknown option '--nope'/) });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: tcp-keepalive inspect <pid> \[--json\]/);
    expect(help.stdout).toContain('Exit status: 0 inspected; 2 bad arguments');
  }, 120_000);

  it('a process that is gone: exit 3', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    expect(await inspect(child.pid!)).toEqual({ code: 3, stdout: '', stderr: `tcp-keepalive inspect: There is no process ${child.pid} (it may have exited)\n` });
  });

  it('a process that exits and whose pid is reused during the inspection: exit 3, nothing read from the new process', { timeout: 30_000 }, async () => {
    // In a PID namespace of its own, where the fixture can give the next
    // process the pid that was A's; strace holds the inspector right after
    // its pidfd_open of A while A is killed and B takes its pid.
    if (!haveUnshare() || !strace) return;
    if (!have('unshare with PID namespaces', runs('unshare', ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc', 'true']), 'util-linux unshare; a kernel with PID namespaces')) return;
    const result = await run('unshare', ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc', process.execPath, path.join(__dirname, 'fixtures', 'pid-reuse.cjs'), process.execPath, cli]);
    expect(result.stderr).toBe('');
    const { a, b, code, stdout, stderr } = JSON.parse(result.stdout) as { a: number; b: number; code: number; stdout: string; stderr: string };
    expect(b).toBe(a); // B (sleep, no sockets) had A's pid when the inspector read /proc/<pid>
    expect({ code, stdout, stderr }).toEqual({
      code: 3,
      stdout: '',
      stderr: `tcp-keepalive inspect: Process ${a} exited before the inspection was done: nothing read is shown, since its pid may already be another process's\n`,
    });
  });

  it('/proc mounted with hidepid=invisible, another user\'s process: exit 4 (not "no such process"), says why', async () => {
    // A /proc of its own in a private mount namespace: only root can mount one over the real.
    if (!have('root (to mount /proc with hidepid in a private mount namespace)', () => process.getuid?.() === 0, 'run the tests as root')) return;
    const readable = readablePackage();
    const node = nodeForNobody();
    if (!have('setpriv and a Node that nobody can run', () => node !== undefined, 'apt-get install -y util-linux; a Node outside /root')) return;
    const target = await startTarget('mix');
    try {
      const asNobody = `setpriv --reuid 65534 --regid 65534 --clear-groups ${node} ${path.join(readable, 'dist', 'tools', 'cli.js')} inspect ${target.pid}`;
      const result = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t proc -o hidepid=invisible proc /proc && exec ${asNobody}`]);
      expect(result).toEqual({
        code: 4,
        stdout: '',
        stderr:
          `tcp-keepalive inspect: Not permitted to read the sockets of process ${target.pid}: it is running, but /proc is mounted with hidepid=invisible, ` +
          "which hides from a user the processes it may not ptrace. Reading another process's sockets (pidfd_getfd) needs the right to ptrace it: " +
          `the same user or root / CAP_SYS_PTRACE. Run: sudo tcp-keepalive inspect ${target.pid}\n`,
      });
    } finally {
      await target.stop();
    }
  });

  it('another user without the right to ptrace it: exit 4, says so and what to run', async () => {
    // The inspector runs as nobody, from a copy of the package nobody can read.
    const readable = readablePackage();
    const node = nodeForNobody();
    if (!have('setpriv and a Node that nobody can run', () => node !== undefined, 'apt-get install -y util-linux; a Node outside /root')) return;
    const target = await startTarget('mix');
    try {
      const result = await run('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', node!, path.join(readable, 'dist', 'tools', 'cli.js'), 'inspect', String(target.pid)]);
      expect(result.code).toBe(4);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(
        new RegExp(
          `^tcp-keepalive inspect: Not permitted to read the sockets of process ${target.pid} \\(node, uid 0\\)\\. It belongs to uid 0, and this process runs as uid 65534\\. ` +
            "Reading another process's sockets \\(pidfd_getfd\\) needs the right to ptrace it: the same user (\\(.*\\) )?" +
            `or root / CAP_SYS_PTRACE\\. Run: sudo tcp-keepalive inspect ${target.pid}\\n$`,
        ),
      );
      expect(await target.check()).toEqual({ wrong: [], carried: 5 });
    } finally {
      await target.stop();
    }
  });

  it('root without CAP_SYS_PTRACE (as in a container): exit 4, says so', async () => {
    if (process.getuid?.() !== 0) return; // only root can drop to this
    const target = await startTarget('mix');
    try {
      const result = await run('setpriv', ['--inh-caps=-all', '--bounding-set=-all', process.execPath, cli, 'inspect', String(target.pid)]);
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(
        new RegExp(
          `^tcp-keepalive inspect: Not permitted to read the sockets of process ${target.pid} \\(node, uid 0\\)\\. This process runs as root without CAP_SYS_PTRACE .* Run it where CAP_SYS_PTRACE is held: on the host, or in a container started with --cap-add SYS_PTRACE\\.\\n$`,
        ),
      );
    } finally {
      await target.stop();
    }
  });

  it('the same user, not root, with the right to ptrace it (no Yama restriction here): inspected', async () => {
    if (existsSync('/proc/sys/kernel/yama/ptrace_scope') && readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim() !== '0') return; // Yama forbids it: the message says so (above)
    const readable = readablePackage();
    const node = nodeForNobody();
    if (!have('setpriv and a Node that nobody can run', () => node !== undefined, 'apt-get install -y util-linux; a Node outside /root')) return;
    const asNobody = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups'];
    const target = await startTarget('mix', { node, packageDir: readable, prefix: asNobody });
    try {
      const result = await run('setpriv', [...asNobody.slice(1), node!, path.join(readable, 'dist', 'tools', 'cli.js'), 'inspect', String(target.pid), '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expectRows(JSON.parse(result.stdout) as Inspection, target.rows);
    } finally {
      await target.stop();
    }
  });

  it.runIf(havePython())('a kernel without pidfd_open and pidfd_getfd (ENOSYS, here from a seccomp filter): exit 5, names Linux 5.6', async () => {
    const target = await startTarget('mix');
    try {
      const result = await run('python3', [path.join(__dirname, 'fixtures', 'seccomp-enosys.py'), process.execPath, cli, 'inspect', String(target.pid)]);
      expect(result).toEqual({
        code: 5,
        stdout: '',
        stderr: expect.stringMatching(
          /^tcp-keepalive inspect: reading another process's sockets needs pidfd_open and pidfd_getfd \(Linux 5\.6 or later\), and this kernel \(Linux .+\) does not offer them \(too old, or a seccomp filter hides them\) \(platform: linux\)\n$/,
        ),
      });
    } finally {
      await target.stop();
    }
  });
});

describe.runIf(linux)('a build whose C library headers predate Linux 5.6', () => {
  const gpp = have('g++', runs('g++', ['--version']), 'apt-get install -y g++');
  it.runIf(gpp)("names neither pidfd_open nor pidfd_getfd, and still inspects (the numbers are the kernel's own, not ENOSYS)", { timeout: 60_000 }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-no-pidfd-'));
    try {
      const fixtures = path.join(__dirname, 'fixtures');
      const program = path.join(dir, 'peek-self');
      // The fixture itself refuses to build (#error) if the headers still name them.
      execFileSync('g++', ['-std=gnu++17', '-O1', '-include', path.join(fixtures, 'no-pidfd-headers.h'), '-I', path.join(root, 'src'), path.join(fixtures, 'peek-self.cc'), path.join(root, 'src', 'keepalive_linux.cc'), '-o', program]);
      const [port, found] = execFileSync(program, { encoding: 'utf8' }).trim().split(' ').map(Number);
      expect(port).toBeGreaterThan(0);
      expect(found).toBe(port);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(linux)('inspectProcess(pid), the function', () => {
  it('refuses a pid that is not a positive integer before touching anything', () => {
    expect(thrownBy(() => inspectProcess('42' as unknown as number))).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
    for (const pid of [0, -1, 1.5, NaN, 2 ** 31]) expect(thrownBy(() => inspectProcess(pid)).code, String(pid)).toBe('ERR_OUT_OF_RANGE');
  });

  it("is loaded on first use: require('tcp-keepalive') does not load it, the first call does", () => {
    const out = execFileSync(
      process.execPath,
      ['-e', `const api = require(${JSON.stringify(path.join(root, 'dist'))});
        const loaded = () => Object.keys(require.cache).some((f) => f.endsWith('/dist/tools/inspect.js'));
        const before = loaded();
        const { pid } = api.inspectProcess(process.pid);
        console.log(JSON.stringify([before, loaded(), pid === process.pid]));`],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual([false, true, true]);
  });

  it('a process that is gone: ERR_INSPECT_NO_SUCH_PROCESS', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    expect(thrownBy(() => inspectProcess(child.pid!))).toMatchObject({ code: 'ERR_INSPECT_NO_SUCH_PROCESS' });
  });

  it('a thread id (Node runs several threads): ERR_INSPECT_NO_SUCH_PROCESS naming its process; the command exits 3', async () => {
    const thread = readdirSync('/proc/self/task').map(Number).find((tid) => tid !== process.pid)!;
    expect(thrownBy(() => inspectProcess(thread))).toMatchObject({
      code: 'ERR_INSPECT_NO_SUCH_PROCESS',
      message: `${thread} is a thread of process ${process.pid}, not a process: inspect ${process.pid}`,
    });
    expect(await inspect(thread)).toEqual({ code: 3, stdout: '', stderr: `tcp-keepalive inspect: ${thread} is a thread of process ${process.pid}, not a process: inspect ${process.pid}\n` });
  });

  it('this very process: its own sockets, as getKeepAlive and getTcpInfo read them, and no fd left behind', async () => {
    const pair = await connectedPair();
    try {
      const fdsBefore = readdirSync('/proc/self/fd').length;
      const inspection = inspectProcess(process.pid);
      expect(readdirSync('/proc/self/fd').length).toBe(fdsBefore);
      const sockets = readRows(inspection);
      for (const socket of [pair.client, pair.accepted]) {
        const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
        const row = sockets.find((s) => s.fd === fd)!;
        expect(row).toMatchObject({ localPort: socket.localPort, remotePort: socket.remotePort, state: 'ESTABLISHED', keepAlive: getKeepAlive(socket) });
        expect(Object.keys(row.tcpInfo)).toEqual(Object.keys(getTcpInfo(socket)));
      }
      expect(sockets.find((s) => s.state === 'LISTEN' && s.localPort === (pair.server.address() as net.AddressInfo).port)).toBeDefined();
    } finally {
      await pair.close();
    }
  });
});

// ---- for the tests that run as another user -----------------------------------------

let readableDir: string | undefined;
/** A copy of the built package that any user can read (this checkout may sit in a private directory). */
function readablePackage(): string {
  if (readableDir !== undefined) return readableDir;
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-inspect-'));
  chmodSync(dir, 0o755);
  cpSync(path.join(root, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  cpSync(path.join(root, 'build', 'Release', 'tcp_keepalive.node'), path.join(dir, 'build', 'Release', 'tcp_keepalive.node'));
  cpSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  cpSync(fixture, path.join(dir, 'inspect-target.cjs'));
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  readableDir = dir;
  return dir;
}
afterAll(() => {
  if (readableDir !== undefined) rmSync(readableDir, { recursive: true, force: true });
});

/** A Node binary the user nobody can run: this one, the system's, or a copy of this one beside the readable package. */
function nodeForNobody(): string | undefined {
  const runs = (node: string) => {
    try {
      execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', node, '-e', ''], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  for (const node of [process.execPath, '/usr/bin/node', '/usr/local/bin/node']) if (existsSync(node) && runs(node)) return node;
  const copy = path.join(readablePackage(), 'node');
  if (!existsSync(copy)) {
    cpSync(process.execPath, copy);
    chmodSync(copy, 0o755);
  }
  return runs(copy) ? copy : undefined;
}
