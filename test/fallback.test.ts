// The platform fallback (lib/kernel/node.ts), built and run on Linux: with
// -Dkeepalive_platform=none the addon is src/keepalive_unsupported.cc, what
// FreeBSD and every platform without a port builds, so every configuration
// goes through Node's own socket.setKeepAlive. python3 reads back on the same
// fd what Node applied, on real binaries of Node 20, 22, 24 and 26, whose
// setKeepAlive differs (two arguments before 24.21, four since). Windows and
// Deno take the same path (test/windows.test.ts, test/deno.test.ts).
// And systemDefaults where the sysctls are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');
import { have, haveNode, haveOpenssl, havePython, linuxOnly, nodeOf, PY_READ, runs, selfSignedCert } from './helpers';

const root = path.join(__dirname, '..');
let copy: string;

const kernel = (keepalive: number, idleSeconds: number, intervalSeconds: number, count: number) => ({
  keepalive,
  idleSeconds,
  intervalSeconds,
  count,
  userTimeoutMs: 0, // Node never sets TCP_USER_TIMEOUT: the derived one is skipped
});
const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8'));
// A fresh socket reads this host's sysctls (7200 s, 75 s, 9 by default); read
// when a test runs, as /proc/sys is Linux's.
const untouched = () => kernel(0, sysctl('tcp_keepalive_time'), sysctl('tcp_keepalive_intvl'), sysctl('tcp_keepalive_probes'));

describe.runIf(havePython() && haveOpenssl())('the fallback: a build for a platform without a port', () => {
  let cert: { key: string; cert: string };
  beforeAll(() => {
    cert = selfSignedCert();
    copy = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-fallback-'));
    for (const entry of ['package.json', 'binding.gyp', 'src', 'lib', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    const nodeGyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    execFileSync(process.execPath, [nodeGyp, 'rebuild', '--', '-Dkeepalive_platform=none'], { cwd: copy, stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: copy, stdio: 'pipe' });
  }, 180_000);
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('the preload where the kernel way cannot take TCP_KEEPALIVE (userTimeout on the fallback): one TCP_KEEPALIVE_NOT_APPLIED warning at the first connect, nothing configured, the app runs on', async () => {
    // The way is known only once the addon is loaded, at the first connect or listen (not before the app runs).
    const app = `
      const net = require('node:net');
      const server = net.createServer((s) => s.end()).listen(0, '127.0.0.1', () => {
        const client = net.connect(server.address().port, '127.0.0.1', () => {
          // python3 reads the options on the same fd: another process, the same kernel socket.
          const py = require('node:child_process').spawnSync('python3', ['-c', process.argv[1]], { stdio: ['ignore', 'pipe', 'inherit', client._handle.fd], encoding: 'utf8' });
          console.log(py.stdout.trim());
          client.destroy(); server.close();
        });
      });`;
    const run = (value: string) =>
      promisify(execFile)(process.execPath, ['--require', path.join(copy, 'dist', 'integrations', 'register.js'), '-e', app, PY_READ], {
        encoding: 'utf8',
        env: { ...process.env, TCP_KEEPALIVE: value },
      });
    const refused = await run('idle=10s,interval=2s,count=3,userTimeout=5s');
    expect(refused.stderr).toContain('[TCP_KEEPALIVE_NOT_APPLIED]');
    expect(refused.stderr).toContain('TCP_KEEPALIVE="idle=10s,interval=2s,count=3,userTimeout=5s" cannot be applied here');
    expect(refused.stderr.split('TCP_KEEPALIVE_NOT_APPLIED').length - 1).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ keepalive: 0 }); // nothing configured
    // What the fallback can take is taken, with no warning.
    const taken = await run('idle=10s');
    expect(taken.stderr).not.toContain('TCP_KEEPALIVE_NOT_APPLIED');
    expect(JSON.parse(taken.stdout)).toMatchObject({ keepalive: 1, idleSeconds: 10 });
  }, 60_000);

  for (const major of [20, 22, 24, 26]) {
    const four = major >= 24; // what each real binary has: checked below against the method's own length
    // Concurrent: each waits on its own child process.
    it.runIf(haveNode(major))(
      `Node ${major}: applies what Node's setKeepAlive can (${four ? 'enable, idle, interval, count' : 'enable and idle'}), refuses the rest by name, reads nothing`,
      { concurrent: true, timeout: 120_000 },
      async () => {
        const { stdout } = await promisify(execFile)(nodeOf(major), [path.join(__dirname, 'fixtures', 'fallback.cjs'), copy, PY_READ], {
          encoding: 'utf8',
          env: { ...process.env, TLS_CERT: JSON.stringify(cert) },
        });
        const out = JSON.parse(stdout);
        expect(out.version).toMatch(new RegExp(`^v${major}\\.`));
        expect(out.length).toBe(four ? 4 : 2);
        expect(out.supported).toEqual({ enable: true, idle: true, interval: four, count: four, userTimeout: false });
        const where = `this platform, which tcp-keepalive has no native port for: the only way to the socket is the runtime's own socket.setKeepAlive`;
        const unsupported = (message: string) => ({ code: 'ERR_KEEPALIVE_UNSUPPORTED', message });

        // The defaults never throw. Where Node has only (enable, delay), interval
        // and count are what Node itself forces (1 s x 10, libuv); with four
        // arguments, ours.
        expect(out.defaults).toEqual({ result: 'no error', kernel: four ? kernel(1, 60, 10, 6) : kernel(1, 60, 1, 10), unchanged: false });
        expect(out.idleOnly.kernel).toEqual(four ? kernel(1, 7, 10, 6) : kernel(1, 7, 1, 10));
        if (four) {
          expect(out.full).toEqual({ result: 'no error', kernel: kernel(1, 5, 2, 3), unchanged: false });
        } else {
          expect(out.full).toEqual({
            result: unsupported(
              `options.interval, options.count cannot be set on ${where}, and Node ${out.version}'s takes only (enable, delay); interval and count need the four-argument form that Node 24.21 added (platform: linux)`,
            ),
            kernel: untouched(),
            unchanged: true,
          });
        }
        // An explicit user timeout is refused before anything changes; 0 (the
        // system's behaviour, what the socket has anyway) is not.
        expect(out.userTimeout).toEqual({
          result: unsupported(`options.userTimeout cannot be set on ${where}, and it has no user timeout (TCP_USER_TIMEOUT) (platform: linux)`),
          kernel: untouched(),
          unchanged: true,
        });
        // So do the client helpers and register, when attached, not per connection.
        for (const entry of [out.helper, out.register]) {
          expect(entry).toEqual(out.userTimeout.result);
        }
        expect(out.userTimeoutZero).toEqual({ result: 'no error', kernel: four ? kernel(1, 8, 10, 6) : kernel(1, 8, 1, 10), unchanged: false });

        expect(out.disable.result).toBe('no error');
        expect(out.disable.kernel.keepalive).toBe(0);
        const noGetter = unsupported(
          `keepalive options cannot be read on this platform, which tcp-keepalive has no native port for: the runtime's own socket.setKeepAlive is the only way to the socket, and it has no getter (platform: linux)`,
        );
        expect(out.get).toEqual(noGetter);
        expect(out.serverGet).toEqual(noGetter);
        // Nor the live state, nor another process's sockets: said so, before any syscall.
        expect(out.tcpInfo).toEqual(
          unsupported(
            "the live state of a connection (TCP_INFO) cannot be read on this platform, which tcp-keepalive has no native port for: the runtime's own socket.setKeepAlive is the only way to the socket, and the runtime has no way to read it (platform: linux)",
          ),
        );
        expect(out.inspect).toEqual(
          unsupported(
            "another process's sockets cannot be read on this platform, which tcp-keepalive has no native port for: that takes the native addon, which is not used here (platform: linux)",
          ),
        );

        // Deferred to the connect, and applied before the caller's own listener.
        expect(out.connecting).toEqual(four ? kernel(1, 11, 10, 6) : kernel(1, 11, 1, 10));
        // A server: every accepted connection, the last configuration; one listener of ours (the test's own once-listener is off by then).
        expect(out.server).toEqual({ kernel: four ? kernel(1, 14, 10, 6) : kernel(1, 14, 1, 10), listeners: 1 });
        expect(out.tls).toEqual({
          server: four ? kernel(1, 15, 10, 6) : kernel(1, 15, 1, 10),
          client: four ? kernel(1, 16, 10, 6) : kernel(1, 16, 1, 10),
        });
        expect(out.destroyed.code).toBe('ERR_SOCKET_CLOSED');
        expect(out.unix).toEqual({
          code: 'ERR_SOCKET_NOT_TCP',
          message: `The socket is not a TCP socket (Node ${out.version}'s setKeepAlive has no TCP handle to set); keepalive options apply to TCP only`,
        });

        expect(out.raw).toEqual({ errno: -38, option: 1, syscall: 'setsockopt', notTcp: false });
        expect(out.rawTcpInfo).toEqual({ errno: -38, option: 6, syscall: 'getsockopt', notTcp: false });
        // (rows: an empty Float64Array, which JSON writes as {})
        expect(out.rawPeek).toEqual({ errno: -38, syscall: 'pidfd_open', exited: false, cmdline: '', comm: '', uid: -1, netns: '', rows: {}, failures: [] });
        expect(out.plan).toEqual({ enable: true, idle: 15_000, interval: 3_000, count: 5, userTimeout: 30_000 });
      },
    );
  }
});

const unshare = linuxOnly('a mount namespace (unshare --mount) hides the Linux sysctls') && have('unshare', runs('unshare', ['--version']), 'install util-linux');

describe.runIf(unshare)('systemDefaults without the sysctls', () => {
  it('throws ERR_KEEPALIVE_UNSUPPORTED (a mount namespace hides /proc/sys/net/ipv4)', () => {
    const script = `try { require(${JSON.stringify(path.join(root, 'dist'))}).systemDefaults(); console.log('no error') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`;
    const out = execFileSync(
      'unshare',
      ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs none /proc/sys/net/ipv4 && exec "$0" -e "$1"', process.execPath, script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({
      code: 'ERR_KEEPALIVE_UNSUPPORTED',
      message: `systemDefaults needs /proc/sys/net/ipv4/tcp_keepalive_time, which this system does not have (platform: ${process.platform})`,
    });
  });
});
