// Windows: the library on a real Windows kernel, where it has no addon
// (libuv holds a SOCKET, `_handle.fd` is always -1) and takes Node's own
// socket.setKeepAlive (lib/kernel/index.ts). test/fixtures/windows-smoke.cjs
// checks what it promises there: it loads, `supported` is what this Node's
// setKeepAlive can do, the defaults apply, what it cannot set or read throws
// ERR_KEEPALIVE_UNSUPPORTED before anything changes, and a configured
// server's connections get the configuration, each read from Node's own
// record of its last setKeepAlive on the socket. On Linux the same script
// runs under wine (scripts/test-windows.sh), where a reader outside reads one
// socket it holds; here nothing outside can read a Windows socket, so the
// test answers the script's wait for that at once.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');
import { windowsOnly } from './helpers';

const smoke = path.join(__dirname, 'fixtures', 'windows-smoke.cjs');

describe.runIf(windowsOnly('the fallback on a Windows kernel (on Linux: under wine, scripts/test-windows.sh)'))('Windows', () => {
  it('the package loads without its addon and does what Node on Windows can: test/fixtures/windows-smoke.cjs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-windows-'));
    try {
      // The script loads the package by its name, from its own folder; it
      // writes held-port.txt in its working folder and waits for held-read.txt.
      const child = spawn(process.execPath, [smoke], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d));
      child.stderr.on('data', (d: Buffer) => (output += d));
      const exited = once(child, 'exit') as Promise<[number | null]>;
      const held = path.join(dir, 'held-port.txt');
      let code: number | null | undefined;
      void exited.then(([c]) => (code = c));
      while (code === undefined && !existsSync(held)) await new Promise((r) => setTimeout(r, 50));
      if (existsSync(held)) writeFileSync(path.join(dir, 'held-read.txt'), '');
      const [status] = await exited;
      expect(status, output).toBe(0);
      expect(output).toMatch(new RegExp(`^windows smoke: ok on Node ${process.version.replace(/\./g, '\\.')} \\(win32-${process.arch}\\): loaded without the addon`, 'm'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
