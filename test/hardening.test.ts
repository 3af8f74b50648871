// Hardening: the raw binding under arbitrary arguments, sockets that never
// connect, and a configuration that fails part-way on a real kernel socket.
// (A destroyed socket whose fd number is reused is in targets.test.ts; the
// property tests over options and targets are in properties.test.ts.)
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net = require('node:net');
import { tmpdir } from 'node:os';
import path = require('node:path');
import { setKeepAlive } from '../lib';
import { binding as loaded } from '../lib/kernel';
import { slotsOf } from '../lib/kernel/addon';

const binding = loaded!;
import { have, havePython, haveStrace, linuxOnly, notOnWindows } from './helpers';

const root = path.join(__dirname, '..');
const fixture = (name: string) => path.join(__dirname, 'fixtures', name);

describe.runIf(notOnWindows('there is no native binding there'))('the raw native binding', () => {
  it('20 000 calls with arbitrary arguments: coded TypeErrors and RangeErrors or failure results, never a crash', () => {
    const child = spawnSync(process.execPath, [fixture('fuzz-binding.cjs')], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(child.signal).toBeNull();
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const seen = JSON.parse(child.stdout);
    // Every kind of outcome was reached, not just the argument checks.
    expect(seen.returned).toBeGreaterThan(0); // applied to a real socket
    expect(seen.failure).toBeGreaterThan(0); // EBADF, ENOTSOCK, ...
    expect(seen.thrown.ERR_INVALID_ARG_TYPE).toBeGreaterThan(0);
    expect(seen.thrown.ERR_OUT_OF_RANGE).toBeGreaterThan(0);
  }, 120_000);

  const major = Number(process.versions.node.split('.')[0]);
  it.runIf(linuxOnly("a read lands as Linux's TCP state number for ESTABLISHED (1)"))(`its slots cannot be pulled from under it once in use: transferring their buffer ${major >= 22 ? 'throws DataCloneError (Node 22+)' : 'copies it (Node 20)'}, the memory stays attached`, async () => {
    // The slots as the library uses them: marked untransferable before the
    // first native call that uses them (node:worker_threads is loaded then).
    const slots = slotsOf(binding);
    const { tcpInfoSlots } = binding;
    const { port1, port2 } = new MessageChannel();
    const transfers = [slots, tcpInfoSlots].flatMap((array) => [
      () => structuredClone(array, { transfer: [array.buffer] }),
      () => port1.postMessage(array, [array.buffer]),
    ]);
    try {
      for (const transfer of transfers) {
        if (major >= 22) expect(transfer).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
        else expect(transfer).not.toThrow();
      }
    } finally {
      port1.close();
      port2.close();
    }
    expect(slots.buffer.byteLength).toBe(20); // still attached
    expect(tcpInfoSlots.buffer.byteLength).toBe(12 * 8);
    expect(binding.slots).toBe(slots);
    // ...and still the memory the addon writes: a read lands in it.
    const server = net.createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      setKeepAlive(socket, { idle: 7000, interval: 3000, count: 4, userTimeout: 9000 });
      slots.fill(-1);
      expect(binding.read((socket as unknown as { _handle: { fd: number } })._handle.fd)).toBeUndefined();
      expect([...slots]).toEqual([1, 7, 3, 4, 9000]);
      tcpInfoSlots.fill(-1);
      expect(binding.tcpInfo((socket as unknown as { _handle: { fd: number } })._handle.fd)).toBeUndefined();
      expect(tcpInfoSlots[0]).toBe(1); // TCP_ESTABLISHED
    } finally {
      socket.destroy();
      server.close();
    }
  });
});

describe.runIf(haveStrace())(
  'sockets that never connect, configured while connecting',
  () => {
    it('refused, DNS failure, user timeout: their own error, no listener of ours left, no keepalive syscall at all', () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-failed-'));
      try {
        const trace = path.join(dir, 'trace');
        const out = execFileSync('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=setsockopt,getsockopt', process.execPath, fixture('failed-connects.cjs')], {
          cwd: root,
          encoding: 'utf8',
          timeout: 30_000,
        });
        expect(JSON.parse(out)).toEqual({
          results: [
            { name: 'refused', code: 'ECONNREFUSED', connectListeners: 0, closeListeners: 0 },
            { name: 'dns', code: 'ENOTFOUND', connectListeners: 0, closeListeners: 0 },
            { name: 'timeout', code: 'ETIMEDOUT', connectListeners: 0, closeListeners: 0 },
          ],
          uncaught: [],
        });
        const keepalive = readFileSync(trace, 'utf8').split('\n').filter((l) => /SO_KEEPALIVE|TCP_KEEP|TCP_USER_TIMEOUT/.test(l));
        expect(keepalive).toEqual([]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

const mptcp =
  havePython() &&
  have('MPTCP sockets', () => spawnSync('python3', ['-c', 'import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)']).status === 0, 'a kernel with MPTCP (sysctl net.mptcp.enabled=1)');

describe.runIf(mptcp)('a configuration that fails part-way (an MPTCP socket refuses TCP_USER_TIMEOUT)', () => {
  it('names the failing option, and leaves what came before applied and SO_KEEPALIVE as it was', () => {
    const out = execFileSync('python3', [fixture('mptcp-launch.py'), process.execPath, fixture('partial-failure.cjs')], {
      cwd: root,
      encoding: 'utf8',
    });
    const r = JSON.parse(out);
    // [SO_KEEPALIVE, TCP_KEEPIDLE s, TCP_KEEPINTVL s, TCP_KEEPCNT], read by python3 on the same socket.
    expect(r.before[0]).toBe(0);
    expect(r.setError).toEqual({ code: 'ENOPROTOOPT', errno: -92, syscall: 'setsockopt', option: 'TCP_USER_TIMEOUT', message: 'setsockopt ENOPROTOOPT' });
    expect(r.afterSet).toEqual([0, 7, 2, 4]);
    expect(r.getError).toMatchObject({ syscall: 'getsockopt', option: 'TCP_USER_TIMEOUT' });
    expect(r.nodeOn[0]).toBe(1);
    expect(r.afterDisable[0]).toBe(0);
  });
});
