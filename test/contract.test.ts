// The contract between the process-wide configuration, a client library's
// automatic socket.setKeepAlive calls and the application's own choice for
// one socket or server: each row of the table in docs/process-wide.md, in a
// real process started with --require tcp-keepalive/register.
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path = require('node:path');
import { linuxOnly, notOnWindows } from './helpers';

const root = path.join(__dirname, '..');
const DEFAULT = { enable: true, idle: 10_000, interval: 2000, count: 3, userTimeout: 16_000 };
const EXPLICIT = { enable: true, idle: 20_000, interval: 5000, count: 4, userTimeout: 40_000 };
const OFF = { enable: false };

let rows: Record<string, unknown>;
beforeAll(() => {
  const out = spawnSync(process.execPath, ['--require', 'tcp-keepalive/register', path.join(__dirname, 'fixtures', 'contract.cjs')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TCP_KEEPALIVE: 'idle=10s,interval=2s,count=3' },
    timeout: 30_000,
  });
  if (out.status !== 0) throw new Error(`contract fixture failed: ${out.stderr}`);
  rows = JSON.parse(out.stdout) as Record<string, unknown>;
});

describe.runIf(notOnWindows('each row is read back with getKeepAlive'))('who wins (docs/process-wide.md)', () => {
  it('nothing said about a socket: the process-wide configuration', () => {
    expect(rows.default).toEqual(DEFAULT);
  });

  it("a client library's own socket.setKeepAlive(true, ms), in its 'connect' listener or later, changes nothing", () => {
    expect(rows.clientCallInConnect).toEqual(DEFAULT);
    // An application's call through Node's API is the same call: to choose otherwise for one socket, see below.
    expect(rows.nodeCallOnConfigured).toEqual(DEFAULT);
  });

  it("the application's setKeepAlive(socket, options), before or after the connect, wins, also when the same object connects again", () => {
    expect(rows.explicitBeforeConnect).toEqual(EXPLICIT);
    expect(rows.explicitAfterReconnect).toEqual(EXPLICIT);
    expect(rows.explicitAfterConnect).toEqual(EXPLICIT);
  });

  it('setKeepAlive(socket, false) opts one socket out, also when it connects again', () => {
    expect(rows.optOutByLibrary).toEqual(OFF);
    expect(rows.optOutByLibraryReconnected).toEqual(OFF);
  });

  it.runIf(linuxOnly("Node's setKeepAlive sets interval 1 s and count 10, as libuv does on Linux"))("socket.setKeepAlive(false) (Node's own) opts it out too, and from then on the socket is Node's: its later calls apply, the process-wide one no more", () => {
    expect(rows.optOutByNode).toEqual(OFF);
    // Node sets idle and forces 1 s x 10; it never touches the user timeout, which keeps ours until the connection ends.
    expect(rows.nodeValuesAfterOptOut).toEqual({ enable: true, idle: 2000, interval: 1000, count: 10, userTimeout: 16_000 });
    expect(rows.nodeValuesAfterReconnect).toEqual({ enable: true, idle: 2000, interval: 1000, count: 10, userTimeout: 0 });
  });

  it("servers: accepted connections hold the process-wide configuration; Node's keepAlive server option reads as the application set it, and does not undo ours", () => {
    expect(rows.acceptedByDefault).toEqual(DEFAULT);
    expect(rows.serverKeepAliveProperty).toBe(true);
    expect(rows.acceptedWithNodeOption).toEqual(DEFAULT);
  });

  it.runIf(linuxOnly("Node's setKeepAlive sets interval 1 s and count 10, as libuv does on Linux"))("setKeepAlive(server, options) wins for its connections; setKeepAlive(server, false) gives them to Node's own server option", () => {
    expect(rows.acceptedByExplicitServer).toEqual(EXPLICIT);
    expect(rows.acceptedByOptedOutServer).toEqual({ enable: true, idle: 7000, interval: 1000, count: 10, userTimeout: 0 });
  });
});
