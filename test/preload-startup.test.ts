// What the preload (tcp-keepalive/register) costs a process before its
// application runs, in kind rather than in time (the times are the bench's,
// docs/performance.md): it starts only its own bundle, loads no addon until the
// first connect or listen, and prints nothing, not even under Node's
// strictest deprecation flags.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path = require('node:path');
import { linuxOnly } from './helpers';

const root = path.join(__dirname, '..');
const env = { ...process.env, TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3', NODE_OPTIONS: '' };

// Before its first connection: which of our files are loaded, and whether the
// addon is mapped. Then a connection to a server of its own, read back.
const app = `
const fs = require('node:fs');
const addonMapped = () => fs.readFileSync('/proc/self/maps', 'utf8').includes('tcp_keepalive.node') || fs.readFileSync('/proc/self/maps', 'utf8').includes('tcp-keepalive.node');
const before = { files: Object.keys(require.cache).map((f) => require('node:path').relative(${JSON.stringify(root)}, f)).sort(), addon: addonMapped() };
const net = require('node:net');
const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
  const c = net.connect(server.address().port, '127.0.0.1', () => {
    const { getKeepAlive } = require(${JSON.stringify(root)});
    console.log(JSON.stringify({ before, after: { addon: addonMapped(), client: getKeepAlive(c), server: getKeepAlive(server) } }));
    c.destroy();
    server.close();
  });
});
`;

const run = (args: string[]) => spawnSync(process.execPath, [...args, '-e', app], { cwd: root, encoding: 'utf8', env, timeout: 20_000 });

describe.runIf(linuxOnly('it reads /proc/self/maps to see whether the addon is loaded'))('the preload before the application runs', () => {
  it('starts its own bundle only and loads no addon until the first listen; then every socket holds TCP_KEEPALIVE', () => {
    const out = run(['--require', 'tcp-keepalive/register']);
    expect(out.stderr).toBe('');
    const { before, after } = JSON.parse(out.stdout);
    expect(before).toEqual({ files: ['dist/integrations/register.js', 'dist/tcp-keepalive-preload.js'], addon: false });
    const held = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };
    expect(after).toEqual({ addon: true, client: held, server: held });
  });

  for (const flag of ['--pending-deprecation', '--throw-deprecation']) {
    for (const how of ['--require', '--import']) {
      it(`prints nothing under ${flag} (${how})`, () => {
        const out = run([flag, how, 'tcp-keepalive/register']);
        expect({ status: out.status, stderr: out.stderr }).toEqual({ status: 0, stderr: '' });
        expect(JSON.parse(out.stdout).after.client.idle).toBe(10_000);
      });
    }
  }

  // The preload's registration is made at the first connect or listen; one
  // that code makes before then (register()) is newer, and ending it gives the
  // process the preload's default again, whichever was made first.
  for (const first of ['the preload', 'the library'] as const) {
    it(`keeps the preload's registration under one made after it, when ${first} comes first`, () => {
      const script = `
        const net = require('node:net');
        const { register, getKeepAlive } = require('tcp-keepalive');
        const load = { preload: () => require('tcp-keepalive/register'), library: () => register({ idle: 20_000 }) };
        const undo = [load.${first === 'the preload' ? 'preload' : 'library'}(), load.${first === 'the preload' ? 'library' : 'preload'}()].find((f) => typeof f === 'function');
        const idle = (then) => {
          const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1', () => {
            const c = net.connect(server.address().port, '127.0.0.1', () => {
              const { idle } = getKeepAlive(c);
              c.destroy();
              server.close(() => then(idle));
            });
          });
        };
        idle((before) => {
          undo();
          idle((after) => console.log(JSON.stringify({ before, after })));
        });
      `;
      const out = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env, timeout: 20_000 });
      expect(out.stderr).toBe('');
      // The newest registration applies: the library's, made after the
      // preload's, or the preload's own default, made at the first connect
      // after the library's; ending the library's leaves the preload's.
      const before = first === 'the preload' ? 20_000 : 10_000;
      expect(JSON.parse(out.stdout)).toEqual({ before, after: 10_000 });
    });
  }
});
