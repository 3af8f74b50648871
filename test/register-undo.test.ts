// register()'s undo, and what the process-wide mode makes of reconnects and
// listens (issue #27), in a process of its own (test/fixtures/register-undo.cjs):
// unregister() gives back every function it replaced, after it a socket
// behaves as in plain Node, a reconnect costs no call of Node's own, and a
// server that listens at once is configured once.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path = require('node:path');

const root = path.join(__dirname, '..');
const DEFAULT = { enable: true, idle: 5000, interval: 1000, count: 3, userTimeout: 8000 };
let out: Record<string, unknown>;

beforeAll(() => {
  const clean = { ...process.env };
  delete clean.NODE_OPTIONS;
  const run = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'register-undo.cjs')], { cwd: root, encoding: 'utf8', env: clean, timeout: 20_000 });
  if (run.status !== 0) throw new Error(run.stderr);
  out = JSON.parse(run.stdout) as Record<string, unknown>;
});

describe('register() and its undo', () => {
  it('a server that listens at once is configured once (5 setsockopt, not 10)', () => {
    expect(out.listenConfigurations).toBe(1);
  });

  it("a process-wide socket connected again holds the default, and Node's own setKeepAlive never reaches libuv for it", () => {
    expect(out.registered).toEqual(DEFAULT);
    expect(out.reconnected).toEqual(DEFAULT);
    expect(out.reconnectReachedLibuv).toBe(0);
  });

  it('unregister() gives back every function it replaced, and the listeners and callbacks of listening servers', () => {
    expect(out.restored).toEqual({
      'net.Socket.prototype.connect': true,
      'net.Socket.prototype.setKeepAlive': true,
      'net.Server.prototype.listen': true,
      'net.Socket.prototype._destroy': true, // the dead-peer hook
      'TCP.prototype.setKeepAlive': true,
    });
    expect(out.serverListeners).toEqual([1, 0]); // the application's own 'connection' listener only
  });

  it('after unregister(), a socket the mode configured connects again as in plain Node: keepalive off', () => {
    expect(out.plainRegistered).toBe(true);
    expect(out.plainAfterUnregister).toBe(false);
  });

  it('an explicit configuration made after it is sticky still', () => {
    expect(out.explicitSticky).toBe(7000);
  });
});
