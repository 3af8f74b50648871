// Issue #27: what the lifecycle engine relies on of Node's internals
// (kHandle, owner_symbol, kSetKeepAlive, found by name) may be renamed by a
// later Node. Each is taken away for real, in a child process whose
// Object.getOwnPropertySymbols no longer shows it to the library
// (test/fixtures/hide-internal.cjs): a socket configured with setKeepAlive
// still holds ours when the same object connects again, sticky, and doctor
// names what is missing.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path = require('node:path');
import { notOnWindows } from './helpers';

const root = path.join(__dirname, '..');
const A = { enable: true, idle: 7000, interval: 2000, count: 4, userTimeout: 15_000 };
const B = { enable: true, idle: 9000, interval: 3000, count: 5, userTimeout: 24_000 };

interface Internal {
  found: boolean;
  instead: string | null;
}
interface Out {
  connected: unknown;
  pending: unknown;
  offAtOnce: boolean;
  offOverNode: { now: boolean; again: boolean };
  socketHooks: { connect: boolean; setKeepAlive: boolean };
  internals: Record<string, Internal>;
}

function run(hide: string, first: 'pending' | 'connected'): Out {
  const env: NodeJS.ProcessEnv = { ...process.env, TCP_KEEPALIVE_HIDE: hide };
  delete env.NODE_OPTIONS;
  const child = spawnSync(
    process.execPath,
    ['--require', path.join(__dirname, 'fixtures', 'hide-internal.cjs'), path.join(__dirname, 'fixtures', 'internals-missing.cjs'), first],
    { cwd: root, encoding: 'utf8', env, timeout: 20_000 },
  );
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as Out;
}

const FOUND = { found: true, instead: null };

describe.runIf(notOnWindows('it reads the options back with getKeepAlive'))('a Node internal the library cannot find', () => {
  for (const hide of ['none', 'kHandle', 'owner_symbol', 'kSetKeepAlive'] as const) {
    for (const first of ['pending', 'connected'] as const) {
      it(`${hide === 'none' ? 'none hidden' : `${hide} hidden`}, the first socket configured ${first === 'pending' ? 'before it has a handle' : 'connected'}: ours follows the socket through a reconnect, sticky; false is honoured, ours over Node's own too`, () => {
        const out = run(hide, first);
        const again = (state: object) => ({ seen: state, listeners: [0, 0] }); // no listener of ours left
        expect(out.connected).toEqual({ first: B, again: again(B), sticky: B });
        expect(out.pending).toEqual({ first: A, again: again(A), sticky: A, off: false, offAgain: false });
        expect(out.offAtOnce).toBe(false);
        expect(out.offOverNode).toEqual({ now: false, again: false }); // ours, false, over Node's own "on", also after a reconnect
        for (const name of ['kHandle', 'owner_symbol', 'kSetKeepAlive']) {
          if (name === hide) expect(out.internals[name], name).toEqual({ found: false, instead: expect.any(String) });
          else expect(out.internals[name], name).toEqual(FOUND);
        }
        // The slower path keeps the socket hooks; the fast path needs none, once a handle has shown owner_symbol.
        const slower = hide === 'owner_symbol' || hide === 'kSetKeepAlive';
        if (slower) expect(out.internals[hide]!.instead).toMatch(/net\.Socket\.prototype\.connect/);
        expect(out.socketHooks).toEqual(slower || first === 'pending' ? { connect: true, setKeepAlive: true } : { connect: false, setKeepAlive: false });
      });
    }
  }
});
