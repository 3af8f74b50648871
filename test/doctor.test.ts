// `tcp-keepalive doctor`, run as a user runs it, checked against /proc.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path = require('node:path');
import { planKeepAlive } from '../lib';
import { haveNamespaces, linuxOnly } from './helpers';

const cli = path.join(__dirname, '..', 'dist', 'tools', 'cli.js');
const namespaces = haveNamespaces();

function run(args: string[], cmd = process.execPath): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const doctor = (...args: string[]) => run([cli, 'doctor', ...args]);
const proc = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8'));

describe.runIf(linuxOnly("doctor reads and explains the Linux sysctls (/proc/sys/net/ipv4), and names the Linux addon it loaded"))('tcp-keepalive doctor', () => {
  it('--json reports the host defaults as /proc has them, and what they mean', async () => {
    const { code, stdout } = await doctor('--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    const [time, intvl, probes] = [proc('tcp_keepalive_time'), proc('tcp_keepalive_intvl'), proc('tcp_keepalive_probes')];
    expect(report.system).toEqual({ idle: time * 1000, interval: intvl * 1000, count: probes, retries2: proc('tcp_retries2') });
    expect(report.idleDeadPeerMs).toBe((time + intvl * probes) * 1000);
    expect(report.plan).toBeNull();
  });

  it('says it in plain words', async () => {
    const { code, stdout } = await doctor();
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`net\\.ipv4\\.tcp_keepalive_time\\s+${proc('tcp_keepalive_time')} s`));
    expect(stdout).toMatch(new RegExp(`net\\.ipv4\\.tcp_retries2\\s+${proc('tcp_retries2')}\\s`));
    expect(stdout).toMatch(/A peer that vanishes while the connection is idle goes unnoticed for /);
    expect(stdout).toMatch(/Data the peer never acknowledges is retransmitted for at least /);
    expect(stdout).toMatch(/doctor --within 30s/);
  });

  it('--within 30s --idle-below 240s prints the plan and the line of code', async () => {
    const { code, stdout } = await doctor('--within', '30s', '--idle-below', '240s');
    expect(code).toBe(0);
    expect(stdout).toMatch(/To notice a dead peer within 30 s, with no idle gap of 4 min or more:/);
    expect(stdout).toMatch(/idle 15 s, then 5 probes 3 s apart: an idle dead peer is dropped after 30 s;/);
    expect(stdout).toMatch(/^ {2}setKeepAlive\(socket, \{ idle: 15_000, interval: 3_000, count: 5, userTimeout: 30_000 \}\);$/m);
  });

  it('accepts 30s, 5m, 1h, 1500ms and plain ms, and its plan is planKeepAlive', async () => {
    const texts = [['30s', 30_000], ['5m', 300_000], ['1h', 3_600_000], ['1500ms', 1500], ['45000', 45_000], ['2.5s', 2500]] as const;
    const results = await Promise.all(texts.map(([text]) => doctor('--within', text, '--idle-below', '4m', '--json')));
    for (const [i, [text, ms]] of texts.entries()) {
      const { code, stdout } = results[i]!;
      if (ms < 2000) {
        expect(code).toBe(2);
        continue;
      }
      expect(code, text).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.plan.detectWithin).toBe(ms);
      expect(report.plan.options).toEqual(planKeepAlive({ detectWithin: ms, idleBelow: 240_000 }));
    }
  }, 120_000);

  it('bad arguments: one line, exit 2', async () => {
    const cases: Array<[string[], string]> = [
      [['--within', '1s'], 'tcp-keepalive doctor: --within must be at least 2s (got 1s)\n'],
      [['--within', '30x'], "tcp-keepalive doctor: '30x' is not a duration (use 30s, 5m, 1h, 1500ms or whole milliseconds)\n"],
      [['--within=-5s'], "tcp-keepalive doctor: '-5s' is not a duration (use 30s, 5m, 1h, 1500ms or whole milliseconds)\n"],
      [['--within', '-5s'], "tcp-keepalive doctor: '-5s' is not a duration (use 30s, 5m, 1h, 1500ms or whole milliseconds)\n"],
      [['--within', '30'], 'tcp-keepalive doctor: --within must be at least 2s (got 30: a plain number is milliseconds; 30 seconds is 30s)\n'],
      [['--within', '30s', '--idle-below', '240'], 'tcp-keepalive doctor: --idle-below must be more than 1s (got 240: a plain number is milliseconds; 240 seconds is 240s)\n'],
      [['--within', '30s', '--within', '40s'], 'tcp-keepalive doctor: --within is given more than once; give it once (see --help)\n'],
      [['--json', '--within', '30s', '--json'], 'tcp-keepalive doctor: --json is given more than once; give it once (see --help)\n'],
      [['--within', '--json'], 'tcp-keepalive doctor: --within needs a duration: 30s, 5m, 1h, 1500ms or whole milliseconds (see --help)\n'],
      [['--idle-below', '4m'], 'tcp-keepalive doctor: --idle-below needs --within\n'],
      [['--within', '30s', '--idle-below', '1s'], 'tcp-keepalive doctor: --idle-below must be more than 1s (got 1s)\n'],
      [['--bogus'], "tcp-keepalive doctor: Unknown option '--bogus' (see --help)\n"],
      [['--within'], 'tcp-keepalive doctor: --within needs a duration: 30s, 5m, 1h, 1500ms or whole milliseconds (see --help)\n'],
      [['extra'], "tcp-keepalive doctor: Unexpected argument 'extra'. This command does not take positional arguments (see --help)\n"],
    ];
    // Each a process of its own, as a user runs it, all at once: one after
    // another they took over 30 s under test:asan on a loaded machine.
    const results = await Promise.all(cases.map(([args]) => doctor(...args)));
    cases.forEach(([args, message], i) => {
      const { code, stdout, stderr } = results[i]!;
      expect({ args, code, stdout, stderr }).toEqual({ args, code: 2, stdout: '', stderr: message });
    });
  }, 120_000);

  it("--json has the keys docs/cli.md shows, with and without --within", async () => {
    const doc = readFileSync(path.join(__dirname, '..', 'docs', 'cli.md'), 'utf8');
    const example = /`doctor --within 30s --idle-below 240s --json` here:\n\n```json\n([\s\S]*?)\n```/.exec(doc);
    expect(example, 'docs/cli.md shows doctor --json').not.toBeNull();
    const documented = JSON.parse(example![1]!);
    // The keys, all the way down: the values are this host's.
    const shape = (value: unknown): unknown =>
      typeof value === 'object' && value !== null
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]))
        : typeof value;
    const withPlan = JSON.parse((await doctor('--within', '30s', '--idle-below', '240s', '--json')).stdout);
    expect(shape(withPlan)).toEqual(shape(documented));
    expect(withPlan.plan).toEqual(documented.plan); // the plan is arithmetic, the same on every host
    const without = JSON.parse((await doctor('--json')).stdout);
    expect(shape(without)).toEqual({ ...(shape(documented) as object), plan: 'object' });
    expect(without.plan).toBeNull();
  });

  it('says how tcp-keepalive reaches the kernel here: its addon, by file (the fallback: test/package.test.ts)', async () => {
    const addon = path.join(__dirname, '..', 'build', 'Release', 'tcp_keepalive.node'); // what a clone loads
    const platform = `${process.platform}-${process.arch}-${process.env.LIBC || 'glibc'}`;
    const { stdout } = await doctor();
    expect(stdout).toContain(
      `\nHow tcp-keepalive reaches the kernel here (${platform}, Node ${process.version}):\n  its native addon, ${addon}: all five options, set and read back.\n`,
    );
    const report = JSON.parse((await doctor('--json')).stdout);
    expect(report.kernel).toEqual({
      way: 'addon',
      platform,
      runtime: `Node ${process.version}`,
      addon,
      reason: null,
      supported: { enable: true, idle: true, interval: true, count: true, userTimeout: true },
    });
  });

  it("names the Node internals it found, and where one is missing, the slower path taken (the behaviour: test/internals-missing.test.ts)", async () => {
    const { stdout } = await doctor();
    expect(stdout).toMatch(/\n\nNode internals: kHandle, owner_symbol, kSetKeepAlive found \(fast path\)\.\n$/);
    const found = { found: true, instead: null };
    expect(JSON.parse((await doctor('--json')).stdout).internals).toEqual({ kHandle: found, owner_symbol: found, kSetKeepAlive: found });
    // Taken away for real: a later Node that renamed it, as far as the library can tell.
    const hide = path.join(__dirname, 'fixtures', 'hide-internal.cjs');
    const env = { ...process.env, TCP_KEEPALIVE_HIDE: 'owner_symbol' };
    const hidden = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--require', hide, cli, 'doctor'], { encoding: 'utf8', env }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    expect(hidden).toContain('\nNode internals: kHandle, kSetKeepAlive found; owner_symbol not found (slower path):\n    a socket configured with setKeepAlive');
    expect(hidden).toMatch(/net\.Socket\.prototype\.connect/);
  });

  it('--help explains every option', async () => {
    const { code, stdout } = await doctor('--help');
    expect(code).toBe(0);
    for (const option of ['--within', '--idle-below', '--json', '--help', '30s, 5m, 1h, 1500ms']) expect(stdout).toContain(option);
  });

  it.runIf(namespaces)('reads the live values: a namespace with its own sysctls', async () => {
    // Keepalive sysctls are per network namespace, and a private one may set its own.
    const script =
      'echo 123 > /proc/sys/net/ipv4/tcp_keepalive_time && echo 11 > /proc/sys/net/ipv4/tcp_keepalive_intvl && ' +
      'echo 4 > /proc/sys/net/ipv4/tcp_keepalive_probes && echo 8 > /proc/sys/net/ipv4/tcp_retries2 && ' +
      `exec "${process.execPath}" "${cli}" doctor --json`;
    const { code, stdout, stderr } = await run(['--user', '--map-root-user', '--net', 'sh', '-c', script], 'unshare');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.system).toEqual({ idle: 123_000, interval: 11_000, count: 4, retries2: 8 });
    expect(report.idleDeadPeerMs).toBe(167_000);
    expect(report.unacknowledgedDataMs).toBe(102_200);
  });
});

describe('the tcp-keepalive command', () => {
  it('--version and -v print the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      expect(await run([cli, flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('-h, --help and help print the usage and exit 0; no command prints it and exits 2', async () => {
    for (const flag of ['-h', '--help', 'help']) {
      const { code, stdout } = await run([cli, flag]);
      expect({ flag, code }).toEqual({ flag, code: 0 });
      expect(stdout).toMatch(/^Usage: tcp-keepalive <command>[\s\S]*-v, --version/);
    }
    const bare = await run([cli]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toMatch(/^Usage: tcp-keepalive <command>/);
  });

  it('demo --help and -h explain the demo (no demo is run); anything else is a one-line error', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await run([cli, 'demo', flag]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toMatch(/^Usage: tcp-keepalive demo\n/);
      expect(stdout).toMatch(/Exit status: 0 when/);
    }
    expect(await run([cli, 'demo', '--fast'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "tcp-keepalive demo: unexpected argument '--fast' (see tcp-keepalive demo --help)\n",
    });
  });
});
