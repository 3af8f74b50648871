// Shared test plumbing: real loopback sockets, an independent view of the
// kernel's options, and the switch that turns a missing tool into a failure.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net = require('node:net');
import { tmpdir } from 'node:os';
import path = require('node:path');
import { afterEach } from 'vitest';
import { isUnavailable, outageTools, parseKeepaliveTimer } from '../lib/tools/outage';

/** Set by .ci/run: a test that would skip for want of a tool fails instead. */
export const NO_SKIP = process.env.TCP_KEEPALIVE_NO_SKIP === '1';

/**
 * Whether `tool` is usable. When it is not: fails (throws) under
 * TCP_KEEPALIVE_NO_SKIP=1, otherwise says loudly what is missing so the skip
 * that follows is never silent.
 */
export function have(tool: string, check: () => boolean, howToGet: string): boolean {
  let ok = false;
  try {
    ok = check();
  } catch {
    ok = false;
  }
  if (ok) return true;
  const message = `${tool} is not available: ${howToGet}`;
  if (NO_SKIP) throw new Error(`${message} (TCP_KEEPALIVE_NO_SKIP=1 forbids skipping)`);
  console.warn(`SKIPPING tests that need ${message}`);
  return false;
}

/**
 * Whether this platform can run what a test checks at all. Unlike have() (a
 * tool this machine lacks and could install), a platform never can: the
 * test skips and says why, also under TCP_KEEPALIVE_NO_SKIP (CI runs the
 * suite on macOS and Windows too: .github/workflows/ci.yml). On Linux these
 * are true, and every have() after them still fails there when its tool is
 * missing.
 */
function platformRuns(runs: boolean, why: string): boolean {
  if (!runs) console.warn(`SKIPPING on ${process.platform}-${process.arch}: ${why}`);
  return runs;
}

/** Linux only: the test needs or checks what Linux alone has (namespaces, strace, /proc, Linux's option names and units). */
export const linuxOnly = (why: string): boolean => platformRuns(process.platform === 'linux', `Linux only: ${why}`);

/** Linux x64 only: the test runs a program that npm ships for Linux x64 alone here. */
export const linuxX64Only = (why: string): boolean =>
  platformRuns(process.platform === 'linux' && process.arch === 'x64', `Linux x64 only: ${why}`);

/**
 * Not on Windows: there the library has no addon (libuv holds a SOCKET and
 * `_handle.fd` is always -1) and takes Node's own socket.setKeepAlive, which
 * sets enable and idle (interval and count on Node 24.21+) and reads nothing
 * back (lib/kernel/index.ts); test/windows.test.ts tests that path.
 */
export const notOnWindows = (why: string): boolean =>
  platformRuns(process.platform !== 'win32', `not on Windows, which has no addon (Node's own setKeepAlive, no reads): ${why}`);

/** Windows only: what the test checks is the library without its addon on a Windows kernel. */
export const windowsOnly = (why: string): boolean => platformRuns(process.platform === 'win32', `Windows only: ${why}`);

export const runs = (cmd: string, args: string[]) => () => {
  execFileSync(cmd, args, { stdio: 'ignore' });
  return true;
};

/** A real Node binary of that major: this one, or the npm package's via scripts/runtime.sh. */
export function nodeOf(major: number): string {
  if (Number(process.versions.node.split('.')[0]) === major) return process.execPath;
  const dir = execFileSync('bash', [path.join(__dirname, '..', 'scripts', 'runtime.sh'), `node-linux-${process.arch}@${major}`], { encoding: 'utf8' });
  return path.join(dir.trim(), 'bin', 'node');
}

/** Whether Node `major` can be had (see have()). */
export const haveNode = (major: number): boolean =>
  linuxOnly(`Node ${major} comes from npm node-linux-${process.arch}`) &&
  have(`Node ${major}`, () => nodeOf(major) !== '', `scripts/runtime.sh node-linux-${process.arch}@${major} fetches it from npm`);

export interface Pair {
  client: net.Socket;
  accepted: net.Socket;
  server: net.Server;
  close(): Promise<void>;
}

/** A connected client/server socket pair on 127.0.0.1. */
export async function connectedPair(host = '127.0.0.1'): Promise<Pair> {
  const server = net.createServer();
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  const acceptedP = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect(port, host);
  await once(client, 'connect');
  const [accepted] = await acceptedP;
  return {
    client,
    accepted,
    server,
    close: () => closeAll([client, accepted], server),
  };
}

/**
 * connectedPair for a test file whose pairs are closed after each test:
 * call at the file's top level, and take pairs from what it returns.
 */
export function pairsClosedAfterEach(): () => Promise<Pair> {
  let open: Pair[] = [];
  afterEach(async () => {
    await Promise.all(open.map((p) => p.close()));
    open = [];
  });
  return async () => {
    const p = await connectedPair();
    open.push(p);
    return p;
  };
}

export async function closeAll(sockets: net.Socket[], server?: net.Server): Promise<void> {
  for (const s of sockets) s.destroy();
  if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The five options as the kernel reports them, in its own units. */
export interface KernelView {
  keepalive: number;
  idleSeconds: number;
  intervalSeconds: number;
  count: number;
  userTimeoutMs: number;
}

// python3: prints the five options of socket `s` as a KernelView (JSON). One
// fragment for every independent reader below, so they all read the same way.
const PY_PRINT_VIEW = `
def print_view(s):
    g = s.getsockopt
    print(json.dumps({
        "keepalive": g(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        "idleSeconds": g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        "intervalSeconds": g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
        "count": g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        "userTimeoutMs": g(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
    }))
`;

/** python3 source that prints the five options of its fd 3 as a KernelView (JSON). */
export const PY_READ = `
import json, socket
${PY_PRINT_VIEW}
s = socket.socket(fileno=3)
try:
    print_view(s)
finally:
    s.detach()
`;

const PY_WRITE = `
import json, socket, sys
v = json.loads(sys.argv[1])
s = socket.socket(fileno=3)
try:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, v["keepalive"])
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, v["idleSeconds"])
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, v["intervalSeconds"])
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, v["count"])
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, v["userTimeoutMs"])
finally:
    s.detach()
`;

/**
 * python3 source that reads the five options of a socket another process
 * holds, where that process shows no fd (Deno): argv[1] is the pid, argv[2]
 * the socket's local TCP port. It finds the socket's inode in /proc/net/tcp,
 * the fd with that inode in /proc/<pid>/fd, takes a copy of it with
 * pidfd_getfd(2) (same user, Linux 5.6+) and prints a KernelView (JSON).
 */
export const PY_PEEK = `
import ctypes, json, os, socket, sys
${PY_PRINT_VIEW}
pid, port = int(sys.argv[1]), int(sys.argv[2])
inodes = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(table).read().splitlines()[1:]:
        f = line.split()
        if int(f[1].split(":")[1], 16) == port and f[3] == "01":  # local port, ESTABLISHED
            inodes.add(f[9])
fds = [int(n) for n in os.listdir(f"/proc/{pid}/fd") if os.readlink(f"/proc/{pid}/fd/{n}") in {f"socket:[{i}]" for i in inodes}]
if len(fds) != 1: sys.exit(f"expected one socket with local port {port} in process {pid}, found {len(fds)}")
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.syscall(438, os.pidfd_open(pid), fds[0], 0)  # pidfd_getfd
if fd < 0: sys.exit(f"pidfd_getfd: {os.strerror(ctypes.get_errno())}")
print_view(socket.socket(fileno=fd))
`;

export const havePython = () =>
  linuxOnly("python3 reads the options with Linux's socket constants (TCP_KEEPIDLE, TCP_USER_TIMEOUT in ms)") &&
  have('python3', runs('python3', ['-c', 'import socket; socket.TCP_USER_TIMEOUT']), 'install python3');

function fdOf(target: net.Socket | net.Server): number {
  const fd = (target as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('test target has no fd');
  return fd;
}

async function python(code: string, fd: number, args: string[] = []): Promise<string> {
  // The socket's fd is handed to python as its fd 3: a second process, another
  // language's socket module, the same kernel socket.
  const child = spawn('python3', ['-c', code, ...args], { stdio: ['ignore', 'pipe', 'pipe', fd] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const [status] = (await once(child, 'close')) as [number];
  if (status !== 0) throw new Error(`python3 failed (${status}): ${err}`);
  return out;
}

/** Reads the options through python3's socket module, independently of the addon. */
export async function kernelView(target: net.Socket | net.Server): Promise<KernelView> {
  return JSON.parse(await python(PY_READ, fdOf(target))) as KernelView;
}

/** Sets the options through python3's socket module, independently of the addon. */
export async function kernelSet(target: net.Socket | net.Server, view: KernelView): Promise<void> {
  await python(PY_WRITE, fdOf(target), [JSON.stringify(view)]);
}

export const haveSs = () =>
  linuxOnly("ss (iproute2) shows Linux's keepalive timer") && have('ss', runs('ss', ['-V']), 'install iproute2 (apt-get install -y iproute2)');

export const haveStrace = () =>
  linuxOnly('strace counts the syscalls') && have('strace', runs('strace', ['-V']), 'install strace (apt-get install -y strace)');

/**
 * The keepalive timer `ss -tion` shows for the connection whose local port is
 * `localPort`, in seconds left (undefined when the socket has no keepalive timer).
 */
export function ssKeepaliveTimer(localPort: number): number | undefined {
  return parseKeepaliveTimer(
    execFileSync('ss', ['-tion', 'state', 'established', `( sport = :${localPort} )`], { encoding: 'utf8' }),
  );
}

export const haveOpenssl = () => have('openssl', runs('openssl', ['version']), 'install openssl (apt-get install -y openssl)');

/** A throwaway self-signed certificate for localhost, made with openssl. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-cert-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh path for a Unix-domain socket. */
export function unixSocketPath(): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-unix-')), 'sock');
}

/** The error a call throws (fails the test when it does not throw). */
export function thrownBy(call: () => unknown): Error & Record<string, unknown> {
  try {
    call();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to throw');
}

/** Whether private user + network namespaces can be made here (for outage tests). */
export function haveNamespaces(): boolean {
  if (!linuxOnly('a peer is made to vanish inside a private network namespace (unshare --net) with a blackhole route')) return false;
  const tools = outageTools();
  return have(
    'a private user + network namespace',
    () => !isUnavailable(tools),
    isUnavailable(tools) ? `${tools.missing}; ${tools.fix}` : '',
  );
}
