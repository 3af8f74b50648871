// The process-wide mode, in real Node processes started the way an operator
// would: `node --import tcp-keepalive/register` or `--require` through
// NODE_OPTIONS, configured by TCP_KEEPALIVE, with no tcp-keepalive call in
// the application. Every kind of connection is read back from the kernel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net = require('node:net');
import { tmpdir } from 'node:os';
import path = require('node:path');
import { getKeepAlive, planKeepAlive, register, setKeepAlive } from '../lib/index';
import fc from 'fast-check';
import { parseDuration } from '../lib/engine/durations';
import { optionsFromEnvironment } from '../lib/integrations/environment';
import { have, haveOpenssl, haveStrace, linuxOnly, notOnWindows, selfSignedCert, thrownBy } from './helpers';

const root = path.join(__dirname, '..');
const fixture = path.join(__dirname, 'fixtures', 'register-coverage.mjs');
const nodeConnect = net.Socket.prototype.connect;
const expected = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };

function run(env: NodeJS.ProcessEnv, args: string[] = [fixture]) {
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 20_000 });
}

const reads = notOnWindows('it reads the options back with getKeepAlive');

describe.runIf(reads && haveOpenssl())('every connection of a process (real Node processes)', () => {
  let dir: string;
  let tlsEnv: NodeJS.ProcessEnv;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-register-'));
    const { key, cert } = selfSignedCert();
    writeFileSync(path.join(dir, 'key.pem'), key);
    writeFileSync(path.join(dir, 'cert.pem'), cert);
    tlsEnv = { TLS_KEY: path.join(dir, 'key.pem'), TLS_CERT: path.join(dir, 'cert.pem') };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [how, env] of [
    ['--import (ESM) on the command line', { NODE_OPTIONS: '' }],
    ['--require (CJS) through NODE_OPTIONS', { NODE_OPTIONS: '--require tcp-keepalive/register' }],
  ] as const) {
    it(`${how}: every client and server socket holds TCP_KEEPALIVE, no warning`, () => {
      const args = env.NODE_OPTIONS === '' ? ['--import', 'tcp-keepalive/register', fixture] : [fixture];
      const out = run({ ...tlsEnv, ...env, TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3' }, args);
      expect(out.stderr).toBe('');
      const { result, warnings } = JSON.parse(out.stdout) as { result: Record<string, unknown>; warnings: string[] };
      expect(Object.keys(result)).toHaveLength(14);
      for (const [kind, state] of Object.entries(result)) expect({ kind, state }).toEqual({ kind, state: expected });
      expect(warnings).toEqual([]);
    });
  }

  for (const sched of ['rr', 'none'] as const) {
    it(`cluster (${sched === 'rr' ? 'round-robin, the default' : 'SCHED_NONE'}): a worker's accepted connection holds TCP_KEEPALIVE, no warning`, () => {
      // The primary and the worker both run with the flag (cluster.fork passes
      // execArgv and the environment on). Round-robin: the primary's listening
      // socket is configured, and the connections it hands over keep that.
      const out = run({ SCHED: sched, TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3' },
        ['--require', 'tcp-keepalive/register', path.join(__dirname, 'fixtures', 'register-cluster.cjs')]);
      expect(out.stderr).toBe('');
      expect(JSON.parse(out.stdout)).toEqual({ accepted: expected, warnings: [] });
    });
  }

  it('TCP_KEEPALIVE=off registers nothing', () => {
    const out = run({ ...tlsEnv, TCP_KEEPALIVE: 'off' }, ['--import', 'tcp-keepalive/register', fixture]);
    const { result } = JSON.parse(out.stdout) as { result: Record<string, { enable: boolean }> };
    expect(result['net.connect']!.enable).toBe(false);
    expect(result['net server (accepted)']!.enable).toBe(false);
  });

  it('a bad TCP_KEEPALIVE stops the process before any application code, with one line and exit code 9', () => {
    const app = path.join(dir, 'app.js');
    writeFileSync(app, "console.log('application code ran')\n");
    for (const [value, code] of [
      ['idle=1500ms', 'ERR_OUT_OF_RANGE'],
      ['within=1s', 'ERR_OUT_OF_RANGE'],
      ['idle=10s,colour=blue', 'ERR_INVALID_ARG_VALUE'],
    ] as const) {
      for (const flag of ['--import', '--require']) {
        const out = run({ TCP_KEEPALIVE: value }, [flag, 'tcp-keepalive/register', app]);
        expect({ value, flag, status: out.status, stdout: out.stdout }).toEqual({ value, flag, status: 9, stdout: '' });
        expect(out.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(out.stderr).toContain(`TCP_KEEPALIVE=${JSON.stringify(value)}`);
        expect(out.stderr).toContain(`[${code}]`);
      }
    }
  });
});

describe.runIf(notOnWindows('its cases take interval and count, which Node 20 and 22 cannot set there, and are checked as setKeepAlive checks them'))('TCP_KEEPALIVE syntax (optionsFromEnvironment)', () => {
  it('reads any subset of the options, in the doctor\'s durations', () => {
    expect(optionsFromEnvironment('idle=10s,interval=2s,count=3')).toEqual({ idle: 10_000, interval: 2000, count: 3 });
    expect(optionsFromEnvironment(' userTimeout=20s , idle=1m ')).toEqual({ idle: 60_000, userTimeout: 20_000 });
    expect(optionsFromEnvironment('interval=3000')).toEqual({ interval: 3000 });
    expect(optionsFromEnvironment('')).toEqual({});
    expect(optionsFromEnvironment('off')).toBeUndefined();
  });

  it('plans a deadline with planKeepAlive', () => {
    expect(optionsFromEnvironment('within=30s')).toEqual({ enable: true, idle: 15_000, interval: 3000, count: 5, userTimeout: 30_000 });
    expect(optionsFromEnvironment('within=10m,idle-below=4m')).toEqual(planKeepAlive({ detectWithin: 600_000, idleBelow: 240_000 }));
  });

  it('refuses what setKeepAlive refuses, with its codes', () => {
    for (const [text, code] of [
      ['idle=1500ms', 'ERR_OUT_OF_RANGE'],
      ['idle=0', 'ERR_OUT_OF_RANGE'],
      ['count=200', 'ERR_OUT_OF_RANGE'],
      ['userTimeout=99999999999', 'ERR_OUT_OF_RANGE'],
      ['within=1s', 'ERR_OUT_OF_RANGE'],
      ['count=3.5', 'ERR_INVALID_ARG_VALUE'],
      ['idle=ten', 'ERR_INVALID_ARG_VALUE'],
      ['idle', 'ERR_INVALID_ARG_VALUE'],
      ['idle=10s,idle=20s', 'ERR_INVALID_ARG_VALUE'],
      ['within=30s,count=3', 'ERR_INVALID_ARG_VALUE'],
      ['idle-below=4m', 'ERR_INVALID_ARG_VALUE'],
      ['enable=false', 'ERR_INVALID_ARG_VALUE'],
    ] as const) {
      expect({ text, code: thrownBy(() => optionsFromEnvironment(text)).code }).toEqual({ text, code });
    }
  });

  // parseDuration reads by hand (a regular expression's compile was the
  // largest single cost of the preload's parse); its grammar is still this one: digits, optionally a
  // fraction, then a unit, around optional whitespace, to whole milliseconds.
  it('reads a duration exactly as /^(\\d+(?:\\.\\d+)?)(ms|s|m|h)?$/ describes it, for any text', () => {
    const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    const grammar = (text: string): number | 'refused' => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
      const ms = m ? Number(m[1]) * UNITS[m[2] ?? 'ms']! : NaN;
      return Number.isSafeInteger(ms) ? ms : 'refused';
    };
    const read = (text: string): number | 'refused' => {
      try {
        return parseDuration(text);
      } catch {
        return 'refused';
      }
    };
    const pieces = ['0', '1', '5', '9', '00', '.', 's', 'm', 'h', 'ms', ' ', '\t', 'e', 'x', '-', '+', 'S', '_', 'constructor', '9007199254740993'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 6 }), (parts) => {
        const text = parts.join('');
        expect({ text, read: read(text) }).toEqual({ text, read: grammar(text) });
      }),
      { numRuns: 20_000 },
    );
    for (const text of ['30s', '5m', '1h', '1500ms', '1500', ' 2s ', '1.5s', '0.5m', '00010s']) expect(read(text)).toBe(grammar(text));
    for (const text of ['1.', '.5s', '1e3', '0x10', '10 s', 's', '', '10sec', '10S', '1.5', '1.2.3s', 'constructor', '10constructor']) {
      expect({ text, read: read(text) }).toEqual({ text, read: 'refused' });
    }
  });
});

describe.runIf(reads)('register(options) in this process', () => {
  it('configures sockets and servers from then on; its undo leaves them configured and stops configuring new ones', async () => {
    const host = await listeningServer(); // before register: not configured
    const unregister = register({ idle: 20_000, interval: 4000, count: 2 });
    let undone = false;
    try {
      const configured = { enable: true, idle: 20_000, interval: 4000, count: 2, userTimeout: 28_000 };
      const server = await listeningServer();
      expect(getKeepAlive(server)).toEqual(configured);
      const before = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      await once(before, 'connect');
      expect(getKeepAlive(before)).toEqual(configured);
      expect(getKeepAlive(host).idle).not.toBe(20_000);

      unregister();
      undone = true;
      unregister(); // a second call changes nothing
      const after = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
      await once(after, 'connect');
      expect(getKeepAlive(after).enable).toBe(false);
      expect(getKeepAlive(before)).toEqual(configured);
      expect(net.Socket.prototype.connect).toBe(nodeConnect);
      for (const s of [before, after]) s.destroy();
      await new Promise((r) => server.close(r));
    } finally {
      if (!undone) unregister();
      await new Promise((r) => host.close(r));
    }
  });

  it("an explicit setKeepAlive(socket, ...) wins over the process-wide options, and a client's own socket.setKeepAlive(true, ms) does not undo them", async () => {
    const server = await listeningServer();
    const unregister = register({ idle: 20_000, interval: 4000, count: 2 });
    try {
      const port = (server.address() as net.AddressInfo).port;
      const explicit = net.connect(port, '127.0.0.1');
      setKeepAlive(explicit, { idle: 7000 }); // made after connect() began, applied at connect
      const client = net.connect(port, '127.0.0.1');
      client.on('connect', () => client.setKeepAlive(true, 5000)); // a client library's own call
      await Promise.all([once(explicit, 'connect'), once(client, 'connect')]);
      await new Promise((r) => setImmediate(r));
      expect(getKeepAlive(explicit)).toEqual({ enable: true, idle: 7000, interval: 10_000, count: 6, userTimeout: 67_000 });
      expect(getKeepAlive(client)).toEqual({ enable: true, idle: 20_000, interval: 4000, count: 2, userTimeout: 28_000 });
      for (const s of [explicit, client]) s.destroy();
    } finally {
      unregister();
      await new Promise((r) => server.close(r));
    }
  });

  it('an explicit setKeepAlive(socket, false), made before connect() or while it connects, wins over the process-wide options', async () => {
    const server = await listeningServer();
    const unregister = register({ idle: 20_000 });
    try {
      const port = (server.address() as net.AddressInfo).port;
      const before = setKeepAlive(new net.Socket(), false).connect(port, '127.0.0.1');
      const during = net.connect(port, '127.0.0.1');
      setKeepAlive(during, false);
      const untouched = net.connect(port, '127.0.0.1');
      await Promise.all([before, during, untouched].map((s) => once(s, 'connect')));
      expect(getKeepAlive(before).enable).toBe(false);
      expect(getKeepAlive(during).enable).toBe(false);
      expect(getKeepAlive(untouched)).toMatchObject({ enable: true, idle: 20_000 });
      // Given back to Node: Node's own call applies as it would anywhere.
      before.setKeepAlive(true, 9000);
      expect(getKeepAlive(before)).toMatchObject({ enable: true, idle: 9000 });
      for (const s of [before, during, untouched]) s.destroy();
    } finally {
      unregister();
      await new Promise((r) => server.close(r));
    }
  });

  it('an explicit setKeepAlive(server, false) before listen() wins too, for the listening socket and every connection it accepts', async () => {
    const unregister = register({ idle: 20_000 });
    try {
      const off = setKeepAlive(net.createServer(), false).listen(0, '127.0.0.1');
      await once(off, 'listening');
      expect(getKeepAlive(off).enable).toBe(false);
      const accepted = once(off, 'connection');
      const client = net.connect((off.address() as net.AddressInfo).port, '127.0.0.1');
      const [[socket]] = (await Promise.all([accepted, once(client, 'connect')])) as [[net.Socket], unknown];
      expect(getKeepAlive(socket).enable).toBe(false);
      expect(getKeepAlive(client).idle).toBe(20_000); // the client side is a socket of this process too
      // Turned on again before the next listen: configured as any server.
      for (const s of [client, socket]) s.destroy();
      await new Promise((r) => off.close(r));
      setKeepAlive(off, { idle: 7000 }).listen(0, '127.0.0.1');
      await once(off, 'listening');
      expect(getKeepAlive(off)).toMatchObject({ enable: true, idle: 7000 });
      await new Promise((r) => off.close(r));
    } finally {
      unregister();
    }
  });

  it('invalid options throw as in setKeepAlive, and nothing is registered', () => {
    expect(thrownBy(() => register({ idle: 1500 })).code).toBe('ERR_OUT_OF_RANGE');
    expect(thrownBy(() => register({ colour: 1 } as never)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(net.Socket.prototype.connect).toBe(nodeConnect);
  });
});

async function listeningServer(): Promise<net.Server> {
  const server = net.createServer((s) => s.destroy()).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const mptcp = linuxOnly("MPTCP sockets are Linux's") && have('python3 with MPTCP sockets', () => spawnSync('python3', ['-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)']).status === 0,
  'install python3 and use a kernel with MPTCP (sysctl net.mptcp.enabled=1)');

describe.runIf(mptcp)('a configuration the kernel refuses, under the process-wide mode', () => {
  it('is one warning per kind with its own code, naming the option; the application\'s servers keep serving', () => {
    // Two listening MPTCP sockets (fds 3 and 4): Linux refuses TCP_USER_TIMEOUT
    // on them, for real. A TCP client of each still gets the options.
    const out = spawnSync('python3', [path.join(__dirname, 'fixtures', 'mptcp-launch.py'), '--listening', process.execPath,
      '--require', 'tcp-keepalive/register', path.join(__dirname, 'fixtures', 'register-mptcp.cjs')],
    { cwd: root, encoding: 'utf8', env: { ...process.env, TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3' }, timeout: 20_000 });
    expect(out.status).toBe(0);
    const { warnings, served } = JSON.parse(out.stdout) as { warnings: unknown[]; served: unknown[] };
    expect(warnings).toEqual([{
      name: 'Warning',
      code: 'TCP_KEEPALIVE_NOT_APPLIED',
      message: "tcp-keepalive could not configure a server's listening socket (ENOPROTOOPT setting TCP_USER_TIMEOUT): " +
        'setsockopt ENOPROTOOPT; further failures of this kind are not reported',
    }]);
    expect(served).toEqual([1, 2].map(() => ({ listening: true, reply: 'served', client: expected })));
  });
});

const strace = haveStrace();

describe.runIf(strace)('what the process-wide mode costs in syscalls (strace)', () => {
  // Per fenced phase, "syscall OPTION" (or just "syscall") -> count, in a run
  // with and without --require tcp-keepalive/register.
  function phases(register: boolean): Array<Record<string, number>> {
    const trace = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-strace-'));
    try {
      execFileSync('strace', ['-f', '-qq', '-o', path.join(trace, 'log'), '-e', 'trace=setsockopt,getsockopt,getpeername,getsockname,kill',
        process.execPath, ...(register ? ['--require', 'tcp-keepalive/register'] : []), path.join(__dirname, 'fixtures', 'register-syscalls.cjs')],
      { cwd: root, env: { ...process.env, TCP_KEEPALIVE: 'idle=10s' } });
      const counts: Array<Record<string, number>> = [{}];
      for (const line of readFileSync(path.join(trace, 'log'), 'utf8').split('\n')) {
        if (/\bkill\(\d+, 0\)/.test(line)) {
          counts.push({});
          continue;
        }
        const m = /\b(setsockopt|getsockopt|getpeername|getsockname)\(\d+(?:, \w+, (\w+))?/.exec(line);
        if (m) {
          const key = m[2] ? `${m[1]} ${m[2]}` : m[1]!;
          counts[counts.length - 1]![key] = (counts[counts.length - 1]![key] ?? 0) + 1;
        }
      }
      return counts;
    } finally {
      rmSync(trace, { recursive: true, force: true });
    }
  }

  it('five setsockopt per client connection, five on the listening socket, nothing per accepted connection, nothing else; none when a client calls Node\'s setKeepAlive after us', () => {
    const [, listenWith, connectWith, nodeCallWith] = phases(true);
    const [, listenWithout, connectWithout, nodeCallWithout] = phases(false);
    const five = (n: number) => ({
      'setsockopt TCP_KEEPIDLE': n,
      'setsockopt TCP_KEEPINTVL': n,
      'setsockopt TCP_KEEPCNT': n,
      'setsockopt TCP_USER_TIMEOUT': n,
      'setsockopt SO_KEEPALIVE': n,
    });
    expect(listenWith).toEqual({ ...listenWithout, ...five(1) });
    // 20 connections (test/fixtures/register-syscalls.cjs): 5 each on the
    // client side, none for the 20 the server accepted; no getpeername, no
    // getsockname and no getsockopt of ours.
    expect(connectWith).toEqual({ ...connectWithout, ...five(20) });
    // Node's own socket.setKeepAlive(true, 5000) on each: four syscalls each
    // without the mode; with it the kernel already holds ours and nothing is made.
    expect(nodeCallWithout).toEqual({ 'setsockopt SO_KEEPALIVE': 20, 'setsockopt TCP_KEEPIDLE': 20, 'setsockopt TCP_KEEPINTVL': 20, 'setsockopt TCP_KEEPCNT': 20 });
    expect(nodeCallWith).toEqual({});
  });
});
