// Throwaway Redis and PostgreSQL servers on loopback, on free ports, started
// in the foreground and stopped by PID. Debian's packages: redis-server,
// postgresql (scripts/test-deps.sh installs them).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import net = require('node:net');
import { tmpdir } from 'node:os';
import path = require('node:path');
import { have, linuxOnly } from './helpers';

// CI installs the servers from Debian's packages (scripts/test-deps.sh), and
// they are started with Debian's paths and users (PostgreSQL as postgres):
// on the macOS and Windows runners the tests that need them skip, saying so.
const debianServer = (name: string) => linuxOnly(`${name} is Debian's package (scripts/test-deps.sh), started with Debian's paths and users`);

// The servers are other people's programs: keep a sanitizer runtime that
// scripts/test-asan.sh preloads for our addon out of them.
export function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LD_PRELOAD;
  delete env.ASAN_OPTIONS;
  delete env.UBSAN_OPTIONS;
  return env;
}

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

// `ready`, when given, must also have appeared in the server's output: a
// port that accepts is not always a server that answers (PostgreSQL accepts
// while it replays its log, then refuses with "the database system is
// starting up").
async function waitForPort(port: number, child: ChildProcess, log: () => string, timeoutMs = 20_000, ready?: RegExp): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${log()}`);
    if (ready && !ready.test(log())) {
      if (Date.now() > deadline) throw new Error(`server did not log ${ready} within ${timeoutMs} ms:\n${log()}`);
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`server did not listen on ${port} within ${timeoutMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Server {
  port: number;
  /** TLS port, when started with a certificate. */
  tlsPort?: number;
  /** Redis: its Unix-domain socket; PostgreSQL: the directory of its Unix-domain socket. */
  unixSocket: string;
  pid: number;
  stop(): Promise<void>;
}

function stopper(child: ChildProcess, cleanup: () => void): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    }
    cleanup();
  };
}

function capture(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d));
  child.stderr?.on('data', (d: Buffer) => (out += d));
  return () => out;
}

const REDIS = 'redis-server';
export const haveRedis = () =>
  debianServer('redis-server') &&
  have('redis-server', () => execFileSync(REDIS, ['--version'], { env: serverEnv() }).length > 0, 'bash scripts/test-deps.sh (or apt-get install -y redis-server)');

/** A redis-server with no persistence; with `tls`, also a TLS port using that certificate. */
export async function startRedis(tls?: { cert: string; key: string }, extra: string[] = []): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-redis-'));
  const port = await freePort();
  const unixSocket = path.join(dir, 'redis.sock');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--unixsocket', unixSocket, ...extra];
  let tlsPort: number | undefined;
  if (tls) {
    tlsPort = await freePort();
    writeFileSync(path.join(dir, 'cert.pem'), tls.cert);
    writeFileSync(path.join(dir, 'key.pem'), tls.key);
    args.push('--tls-port', String(tlsPort), '--tls-cert-file', path.join(dir, 'cert.pem'), '--tls-key-file', path.join(dir, 'key.pem'));
    args.push('--tls-ca-cert-file', path.join(dir, 'cert.pem'), '--tls-auth-clients', 'no');
  }
  const child = spawn(REDIS, args, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  const log = capture(child);
  await waitForPort(port, child, log);
  if (tlsPort) await waitForPort(tlsPort, child, log);
  return {
    port,
    ...(tlsPort ? { tlsPort } : {}),
    unixSocket,
    pid: child.pid!,
    stop: stopper(child, () => rmSync(dir, { recursive: true, force: true })),
  };
}

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const file = path.join(base, v, 'bin', name);
    if (existsSync(file)) return file;
  }
  return name; // on PATH, as on other distributions
}

export const havePostgres = () =>
  debianServer('PostgreSQL') &&
  have('PostgreSQL (initdb, postgres)', () => execFileSync(pgBin('postgres'), ['--version'], { env: serverEnv() }).length > 0, 'bash scripts/test-deps.sh (or apt-get install -y postgresql)');

// PostgreSQL refuses to run as root: run it as the postgres user. setpriv
// execs, so the PID we hold is postgres itself (runuser would fork).
function asPostgres(): { cmd: string; prefix: string[] } {
  if (process.getuid?.() !== 0) return { cmd: '', prefix: [] };
  return { cmd: 'setpriv', prefix: ['--reuid', 'postgres', '--regid', 'postgres', '--init-groups', '--'] };
}

/** A PostgreSQL cluster in a temp dir, trust auth on 127.0.0.1; with `tls`, ssl=on with that certificate. */
export async function startPostgres(tls?: { cert: string; key: string }): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-pg-'));
  const data = path.join(dir, 'data');
  const runAs = asPostgres();
  if (runAs.cmd) {
    chmodSync(dir, 0o755);
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  }
  const run = (bin: string, args: string[]) =>
    runAs.cmd
      ? execFileSync(runAs.cmd, [...runAs.prefix, bin, ...args], { stdio: 'pipe', env: serverEnv() })
      : execFileSync(bin, args, { stdio: 'pipe', env: serverEnv() });
  run(pgBin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = ['-D', data, '-p', String(port), '-k', dir, '-h', '127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'];
  if (tls) {
    for (const [name, text] of [['server.crt', tls.cert], ['server.key', tls.key]] as const) {
      const file = path.join(data, name);
      writeFileSync(file, text, { mode: 0o600 });
      if (runAs.cmd) chownSync(file, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    }
    options.push('-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key');
  }
  const bin = pgBin('postgres');
  const child = runAs.cmd
    ? spawn(runAs.cmd, [...runAs.prefix, bin, ...options], { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() })
    : spawn(bin, options, { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  const log = capture(child);
  await waitForPort(port, child, log, 20_000, /database system is ready to accept connections/);
  return { port, unixSocket: dir, pid: child.pid!, stop: stopper(child, () => rmSync(dir, { recursive: true, force: true })) };
}

export const haveMariaDB = () =>
  debianServer('MariaDB') &&
  have('mariadbd', () => execFileSync('mariadbd', ['--version'], { env: serverEnv() }).length > 0, 'bash scripts/test-deps.sh (or apt-get install -y mariadb-server)');

/**
 * A MariaDB server (the MySQL protocol) on 127.0.0.1 over an empty data
 * directory. --skip-grant-tables makes the system tables unnecessary (so no
 * mariadb-install-db, which takes seconds) and lets `root` in without a password.
 */
export async function startMariaDB(): Promise<Server> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-mariadb-'));
  mkdirSync(path.join(dir, 'data'));
  const port = await freePort();
  const unixSocket = path.join(dir, 'mysqld.sock');
  const child = spawn(
    'mariadbd',
    ['--no-defaults', `--datadir=${path.join(dir, 'data')}`, '--bind-address=127.0.0.1', `--port=${port}`, `--socket=${unixSocket}`,
      `--pid-file=${path.join(dir, 'mysqld.pid')}`, '--skip-grant-tables', '--skip-log-bin', '--innodb-buffer-pool-size=8M',
      '--innodb-log-file-size=4M', ...(process.getuid?.() === 0 ? ['--user=root'] : [])],
    { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() },
  );
  const log = capture(child);
  await waitForPort(port, child, log);
  return { port, unixSocket, pid: child.pid!, stop: stopper(child, () => rmSync(dir, { recursive: true, force: true })) };
}

export const haveNats = () =>
  debianServer('nats-server') &&
  have('nats-server', () => execFileSync('nats-server', ['--version'], { env: serverEnv() }).length > 0, 'bash scripts/test-deps.sh (or apt-get install -y nats-server)');

/** A nats-server on 127.0.0.1; `port` reuses a port (to restart a killed server where its clients reconnect). */
export async function startNats(port?: number): Promise<Server> {
  const listenPort = port ?? (await freePort());
  const child = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(listenPort)], { stdio: ['ignore', 'pipe', 'pipe'], env: serverEnv() });
  const log = capture(child);
  await waitForPort(listenPort, child, log);
  return { port: listenPort, unixSocket: '', pid: child.pid!, stop: stopper(child, () => {}) };
}

const RABBITMQ = '/usr/lib/rabbitmq/bin';
export const haveRabbitMQ = () =>
  debianServer('RabbitMQ') &&
  have('rabbitmq-server', () => existsSync(path.join(RABBITMQ, 'rabbitmq-server')) && execFileSync('sh', ['-c', 'command -v epmd']).length > 0, 'bash scripts/test-deps.sh (or apt-get install -y rabbitmq-server)');

export interface RabbitMQ extends Server {
  /** Runs rabbitmqctl against this node (about 1 s on an idle machine: it starts an Erlang VM). */
  ctl(args: string[]): Promise<string>;
  /** The local address:port of every listening TCP socket of this node's processes and its epmd (ss). */
  listening(): string[];
}

/**
 * A RabbitMQ node on 127.0.0.1 with every file in a temp dir (its own HOME,
 * so its own Erlang cookie) and its own epmd on a free loopback port, so no
 * Erlang port listens beyond loopback. It takes seconds to boot: start one
 * per test file. The Debian wrapper in /usr/sbin switches to the rabbitmq
 * user when run as root; the script in /usr/lib/rabbitmq/bin does not.
 */
export async function startRabbitMQ(): Promise<RabbitMQ> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-rabbitmq-'));
  for (const sub of ['home', 'mnesia', 'log']) mkdirSync(path.join(dir, sub));
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort()); // three different ones
  const [epmdPort, port, distPort] = [...ports] as [number, number, number];
  writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`);
  writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  const mnesia = path.join(dir, 'mnesia');
  const env: NodeJS.ProcessEnv = {
    ...serverEnv(),
    HOME: path.join(dir, 'home'),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_CRASH_DUMP: path.join(dir, 'erl_crash.dump'),
    RABBITMQ_NODENAME: `rabbit${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_MNESIA_BASE: mnesia,
    RABBITMQ_MNESIA_DIR: path.join(mnesia, 'db'),
    RABBITMQ_FEATURE_FLAGS_FILE: path.join(mnesia, 'feature_flags'),
    RABBITMQ_PLUGINS_EXPAND_DIR: path.join(mnesia, 'plugins'),
    RABBITMQ_QUORUM_DIR: path.join(mnesia, 'quorum'),
    RABBITMQ_STREAM_DIR: path.join(mnesia, 'stream'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_LOGS: '-',
    RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
  };
  const epmd = spawn('epmd', ['-address', '127.0.0.1', '-port', String(epmdPort)], { stdio: 'ignore', env });
  // Its own process group: the script starts beam.smp (and Erlang's helpers)
  // as children, and stop() ends the whole group at once.
  const child = spawn(path.join(RABBITMQ, 'rabbitmq-server'), [], { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: dir, detached: true });
  const log = capture(child);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    if (epmd.exitCode === null && epmd.signalCode === null) {
      const exited = once(epmd, 'exit');
      process.kill(epmd.pid!, 'SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, log, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    unixSocket: '',
    pid: child.pid!,
    stop,
    listening: () => {
      const pids = new Set([String(epmd.pid), ...execFileSync('pgrep', ['-g', String(child.pid)], { encoding: 'utf8', env: serverEnv() }).split('\n').filter(Boolean)]);
      return execFileSync('ss', ['-Hltnp'], { encoding: 'utf8', env: serverEnv() })
        .split('\n')
        .filter((line) => [...line.matchAll(/pid=(\d+)/g)].some((m) => pids.has(m[1]!)))
        .map((line) => line.trim().split(/\s+/)[3]!);
    },
    ctl: (args) =>
      new Promise((resolve, reject) =>
        execFile(path.join(RABBITMQ, 'rabbitmqctl'), ['-q', ...args], { env, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
      ),
  };
}

/**
 * The open TCP sockets of this process connected to `port` on loopback: a
 * client's actual sockets, also when the client keeps them private.
 * process._getActiveHandles is undocumented, but present from Node 0.x to 26.
 */
export function socketsTo(port: number): net.Socket[] {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h): h is net.Socket => h instanceof net.Socket && !h.destroyed && h.remotePort === port);
}

/** Polls `check` every 20 ms until it returns a value other than undefined (or `timeoutMs` passes). */
export async function until<T>(check: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
