// The addon loaded the ways users load it: require, import, worker threads
// (several at once) and a forked child. Uses the compiled package by name
// (`npm test` compiles first).
import { describe, expect, it } from 'vitest';
import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import path = require('node:path');
import { Worker } from 'node:worker_threads';
import { notOnWindows } from './helpers';

const root = path.join(__dirname, '..');
const cjs = path.join(__dirname, 'fixtures', 'roundtrip.cjs');
const esm = path.join(__dirname, 'fixtures', 'roundtrip.mjs');
const expected = (idle: number) => ({ enable: true, idle, interval: 2000, count: 3, userTimeout: idle + 6000 });

describe.runIf(notOnWindows('each way of loading round-trips the options through the addon'))('loading', () => {
  it("require('tcp-keepalive')", () => {
    const out = execFileSync(process.execPath, [cjs, '5000'], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(expected(5000));
  });

  it("import { setKeepAlive } from 'tcp-keepalive'", () => {
    const out = execFileSync(process.execPath, [esm, '6000'], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      state: expected(6000),
      DEFAULTS: { idle: 60_000, interval: 10_000, count: 6, userTimeout: 120_000 },
      supported: { enable: true, idle: true, interval: true, count: true, userTimeout: true },
    });
  });

  it('in four worker threads at once, and again after they exit', async () => {
    for (const round of [0, 1]) {
      const workers = [1, 2, 3, 4].map((i) => new Worker(cjs, { workerData: (i + round * 4) * 1000 }));
      const exits = workers.map((w) => once(w, 'exit'));
      const results = await Promise.all(workers.map((w) => once(w, 'message')));
      expect(results.map(([state]) => state)).toEqual([1, 2, 3, 4].map((i) => expected((i + round * 4) * 1000)));
      expect((await Promise.all(exits)).map(([code]) => code)).toEqual([0, 0, 0, 0]);
    }
  });

  it('in a forked child', async () => {
    const child = fork(cjs, ['9000'], { cwd: root });
    const [state] = await once(child, 'message');
    expect(state).toEqual(expected(9000));
    await once(child, 'exit');
  });
});
