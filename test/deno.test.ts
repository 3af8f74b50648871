// Deno: its node:net sockets show no file descriptor, so the package does not
// load the addon there (no --allow-ffi needed) and takes the platform
// fallback: Deno's own socket.setKeepAlive, which sets SO_KEEPALIVE and the
// idle time and nothing else. Run by a real Deno (npm: @deno/linux-x64-glibc)
// on a smoke script; python3 reads the kernel's values from outside.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');
import { have, havePython, linuxX64Only, PY_PEEK } from './helpers';

const root = path.join(__dirname, '..');
const DENO = '@deno/linux-x64-glibc@2.9';

function deno(): string {
  const dir = execFileSync('bash', [path.join(root, 'scripts', 'runtime.sh'), DENO], { encoding: 'utf8' }).trim();
  return path.join(dir, 'deno');
}

const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8'));
// Read when the test runs: /proc/sys is Linux's.
const hostIntervalCount = () => ({ intervalSeconds: sysctl('tcp_keepalive_intvl'), count: sysctl('tcp_keepalive_probes') });

const runsDeno =
  linuxX64Only(`the Deno it runs is npm's ${DENO}`) && havePython() && have('Deno 2.9', () => deno() !== '', `scripts/runtime.sh ${DENO} fetches it from npm`);

describe.runIf(runsDeno)('Deno 2.9', () => {
  let denoDir: string;
  beforeAll(() => {
    denoDir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-deno-'));
  });
  afterAll(() => rmSync(denoDir, { recursive: true, force: true }));

  it('loads without --allow-ffi and applies enable and idle through Deno\'s own setKeepAlive; refuses interval, count and userTimeout by name; reads nothing', () => {
    const out = JSON.parse(
      execFileSync(
        deno(),
        ['run', '--quiet', '--allow-read', '--allow-env', '--allow-net=127.0.0.1', '--allow-run=python3',
          path.join(__dirname, 'fixtures', 'deno-smoke.cjs'), root, PY_PEEK],
        // A cache of its own each run: Deno 2.9.6 ran its cached V8 compile of the old
        // dist/tcp-keepalive.js after a rebuild changed the file but not its length (a
        // SyntaxError, 'Unexpected identifier', in the middle of an identifier; the Deno bug
        // of denoland/deno#36413). A fresh install starts with an empty cache too.
        { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DENO_DIR: denoDir } },
      ),
    );
    expect(out.deno).toMatch(/^2\.9\./);
    expect(out.fd).toBeNull(); // Deno's handle has no fd: the addon could reach nothing
    expect(out.supported).toEqual({ enable: true, idle: true, interval: false, count: false, userTimeout: false });
    const where = `Deno ${out.deno}, where no socket shows its file descriptor: the only way to the socket is the runtime's own socket.setKeepAlive`;
    const unsupported = (message: string) => ({ code: 'ERR_KEEPALIVE_UNSUPPORTED', message: `${message} (platform: linux)` });
    const kernel = (keepalive: number, idleSeconds: number) => ({ keepalive, idleSeconds, ...hostIntervalCount(), userTimeoutMs: 0 });

    // The defaults never throw: on and 60 s idle; Deno leaves interval and
    // count at the host's values, and the derived user timeout is skipped.
    expect(out.before.keepalive).toBe(0);
    expect(out.defaults).toEqual({ result: 'no error', kernel: kernel(1, 60) });
    expect(out.get).toEqual(
      unsupported(`keepalive options cannot be read on Deno ${out.deno}, where no socket shows its file descriptor: the runtime's own socket.setKeepAlive is the only way to the socket, and it has no getter`),
    );
    expect(out.disable).toEqual({ result: 'no error', kernel: kernel(0, 60) });

    // Explicit options Deno cannot set are refused, and nothing changes.
    expect(out.interval).toEqual({
      result: unsupported(`options.interval cannot be set on ${where}, and Deno ${out.deno}'s takes only (enable, delay); interval and count need the four-argument form that Node 24.21 added`),
      kernel: out.before,
    });
    expect(out.userTimeout).toEqual({
      result: unsupported(`options.userTimeout cannot be set on ${where}, and it has no user timeout (TCP_USER_TIMEOUT)`),
      kernel: out.before,
    });
    expect(out.idle).toEqual({ result: 'no error', kernel: kernel(1, 7) });
    expect(out.connecting).toEqual(kernel(1, 11));
    expect(out.server).toEqual(kernel(1, 14));
  }, 120_000);
});
