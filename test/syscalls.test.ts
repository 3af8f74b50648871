// Exactly the syscalls the contract promises, counted with strace: five
// setsockopt per configuration, five getsockopt per read, no protocol check
// on the normal path, none at all for connections a configured server accepts,
// and none when a client calls Node's socket.setKeepAlive on a configured socket.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');
import { haveStrace } from './helpers';

const strace = haveStrace();

let phases: string[][] = [];
let result: { inherited: boolean; accepted: number };

describe.runIf(strace)('syscalls per operation (strace)', () => {
  beforeAll(() => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-strace-'));
    const log = path.join(dir, 'trace');
    try {
      const out = execFileSync(
        'strace',
        ['-f', '-qq', '-o', log, '-e', 'trace=setsockopt,getsockopt,kill', process.execPath, path.join(__dirname, 'fixtures', 'syscalls.cjs')],
        { cwd: path.join(__dirname, '..'), encoding: 'utf8' },
      );
      result = JSON.parse(out);
      // One list of "setsockopt TCP_KEEPIDLE"-style entries per fenced phase.
      phases = [[]];
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (/\bkill\(\d+, 0\)/.test(line)) phases.push([]);
        const m = /\b(setsockopt|getsockopt)\(\d+, \w+, (\w+)/.exec(line);
        if (m) phases[phases.length - 1]!.push(`${m[1]} ${m[2]}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('setKeepAlive: five setsockopt, TCP-level first, SO_KEEPALIVE last', () => {
    expect(phases[1]).toEqual([
      'setsockopt TCP_KEEPIDLE',
      'setsockopt TCP_KEEPINTVL',
      'setsockopt TCP_KEEPCNT',
      'setsockopt TCP_USER_TIMEOUT',
      'setsockopt SO_KEEPALIVE',
    ]);
  });

  it('getKeepAlive: five getsockopt', () => {
    expect(phases[2]).toEqual([
      'getsockopt TCP_KEEPIDLE',
      'getsockopt TCP_KEEPINTVL',
      'getsockopt TCP_KEEPCNT',
      'getsockopt TCP_USER_TIMEOUT',
      'getsockopt SO_KEEPALIVE',
    ]);
  });

  it('disable: the protocol check, then the user timeout back to 0 and SO_KEEPALIVE off', () => {
    expect(phases[3]).toEqual(['getsockopt SO_PROTOCOL', 'setsockopt TCP_USER_TIMEOUT', 'setsockopt SO_KEEPALIVE']);
  });

  it('a configured server: five calls once, none for the connections it accepts', () => {
    expect(phases[4]).toHaveLength(5);
    const keepalive = /SO_KEEPALIVE|TCP_KEEP|TCP_USER_TIMEOUT/;
    expect(phases[5]!.filter((call) => keepalive.test(call))).toEqual([]);
    expect(result).toMatchObject({ inherited: true, accepted: 20 });
  });

  it("Node's own socket.setKeepAlive on configured sockets (sticky): no syscall, ours kept", () => {
    expect(phases[7]).toEqual([]);
    expect(result).toMatchObject({ sticky: true });
  });

  it("a configured server created with Node's keepAlive option: none for the connections it accepts either", () => {
    const keepalive = /SO_KEEPALIVE|TCP_KEEP|TCP_USER_TIMEOUT/;
    expect(phases[9]!.filter((call) => keepalive.test(call))).toEqual([]);
    expect(result).toMatchObject({ withOption: true });
  });
});
