// `npm run bench` end to end, small. The bench verifies every method by
// reading the sockets back and throws on a wrong value; this test only checks
// that a whole run completes and reports every method, the floor and the
// server path. It asserts no timing: timings in unit tests are noise, and
// the bench is its own command.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import net = require('node:net');
import path = require('node:path');
import { have, haveStrace, linuxOnly, runs } from './helpers';

const root = path.join(__dirname, '..');
const tools =
  linuxOnly("the bench's floor is C against Linux's TCP_INFO, and it pins a CPU with taskset") &&
  have('cc', runs('cc', ['--version']), 'install a C compiler (apt-get install -y gcc)') &&
  haveStrace() &&
  have('taskset', runs('taskset', ['-V']), 'install util-linux (apt-get install -y util-linux)');

// Node 24.21+ and 26 take setKeepAlive(enable, delay, interval, count): the
// bench then also times the built-in at its best.
const fourArguments = net.Socket.prototype.setKeepAlive.length >= 4;

describe.runIf(tools)('npm run bench', () => {
  it(`runs end to end on 50 sockets: every method verified and timed (getTcpInfo too), the floor beside them, the server path counted, inspect timed; Node's own call ${fourArguments ? 'also with interval and count (Node 24.21+, 26)' : 'with the idle time only (Node 20, 22)'}`, () => {
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', 'bench/bench.mjs', '--sockets', '50', '--rounds', '5', '--rss-ops', '500', '--accept', '20', '--connections', '50', '--rate-rounds', '3', '--startup-rounds', '3', '--inspect-connections', '100', '--inspect-runs', '2', '--json'],
      // Room for a loaded CI machine; a small run takes seconds (22 s under AddressSanitizer).
      { cwd: root, encoding: 'utf8', timeout: 300_000 },
    );
    const report = JSON.parse(out);
    expect(report.pinnedCpu).not.toBeNull();
    const methods = ['ours', 'native', 'nativeViaHandle', 'node', ...(fourArguments ? ['nodeFour'] : []), 'netKeepAlive', 'oursRead', 'oursTcpInfo', 'netKeepAliveRead'];
    expect('nodeFour' in report.ns).toBe(fourArguments);
    const floors = ['single', 'threaded'].flatMap((mode) => ['set5', 'set4', 'get5', 'info'].map((m) => `floor:${mode}:${m}`));
    for (const key of [...methods, ...floors]) {
      expect(report.ns[key], key).toBeGreaterThan(0);
      // 5 rounds of 3 timed passes each.
      expect(report.samples[key].flatMap((block: { passes: number[] }) => block.passes), key).toHaveLength(15);
    }
    for (const pair of Object.values(report.ratios).flat()) expect(Number.isFinite(pair) && (pair as number) > 0).toBe(true);
    for (const key of ['ours', 'node', ...(fourArguments ? ['nodeFour'] : []), 'netKeepAlive', 'oursRead', 'oursTcpInfo', 'netKeepAliveRead']) expect(Number.isFinite(report.rssMiB[key]), key).toBe(true);
    // getTcpInfo against C's getsockopt(TCP_INFO), single-threaded and threaded.
    expect(report.ratios.oursTcpInfo).toHaveLength(2);
    expect(report.server).toMatchObject({
      accepted: 20,
      strace: true,
      server: { configured: 20, keepaliveSetsockopt: 5 },
      'per-socket': { configured: 20, keepaliveSetsockopt: 100 },
    });
    // The process-wide mode's connection rate: 3 rounds, with, without, and the C shim (LD_PRELOAD).
    expect(report.connectionRate.connections).toBe(50);
    expect(report.connectionRate.samples).toHaveLength(3);
    for (const clock of ['wall', 'cpu']) {
      for (const key of ['with', 'without', 'shim', 'ratio', 'shimRatio', 'ofShim']) {
        expect(report.connectionRate[clock][key], `${clock} ${key}`).toBeGreaterThan(0);
      }
    }
    // Start-up: 3 rounds of bare node, the preload and require('tcp-keepalive').
    expect(report.startup.samples).toHaveLength(3);
    for (const key of ['bare', 'net', 'register', 'http', 'registerHttp', 'registerHttpByPath', 'resolveHttp', 'require']) {
      expect(report.startup.ms[key], key).toBeGreaterThan(0);
    }
    for (const key of ['register', 'require']) expect(report.startup.ratios[key], key).toBeGreaterThan(0);
    // inspect: a process holding 100 connections, inspected twice (the bench checks each run found all 100).
    expect(report.inspect.connections).toBe(100);
    expect(report.inspect.runs).toHaveLength(2);
    expect(report.inspect.median).toBeGreaterThan(0);
  }, 320_000);
});
