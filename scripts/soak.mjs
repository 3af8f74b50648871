#!/usr/bin/env node
// npm run soak: 10 000 connected sockets, each configured and read back 100
// times, in the main thread and in two worker threads at once. Ends with one
// summary line and exit 0 (PASS) or 1 (FAIL): every read matched what was
// set, RSS stayed bounded, the main event loop stayed responsive, and no
// handle was left open.
//
//   node --expose-gc scripts/soak.mjs [--sockets 10000] [--rounds 100]
//
// The process may hold 20 000 fds here, so the peer side of every
// connection lives in a child process: this process holds only its 10 000
// client sockets, split 2:1:1 between the main thread and the two workers.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { setKeepAlive, getKeepAlive } = require('../dist/index.js');

// Growth from after setup to the end, after GC. Measured 12-16 MiB for 100
// rounds and the same for 400: the two workers' heaps and allocator arenas,
// not a per-call cost.
const RSS_BOUND_MIB = 32;
const LAG_BOUND_MS = 20; // p99 of the main thread's event-loop lag
const CONFIGS = [
  { enable: true, idle: 60_000, interval: 10_000, count: 6, userTimeout: 120_000 },
  { enable: true, idle: 31_000, interval: 7_000, count: 5, userTimeout: 66_000 },
];

async function connectAll(port, count) {
  const sockets = [];
  for (let start = 0; start < count; start += 500) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + 500); i++) batch.push(net.connect(port, '127.0.0.1'));
    await Promise.all(batch.map((s) => once(s, 'connect')));
    sockets.push(...batch);
  }
  return sockets;
}

// Runs the rounds over the sockets in slices of SLICE, yielding between
// slices as a service would, so the event loop keeps turning. A slice is
// 2 x SLICE native calls of five syscalls each; on this VM those five took
// from 1.2 to 8 us on different days (the C floor), so a slice of 500 could
// hold the loop for 8 ms by itself and the lag bound would measure the host.
const SLICE = 100;
async function soak(sockets, rounds) {
  let reads = 0;
  for (let r = 0; r < rounds; r++) {
    const config = CONFIGS[r & 1];
    for (let start = 0; start < sockets.length; start += SLICE) {
      const slice = sockets.slice(start, start + SLICE);
      for (const s of slice) setKeepAlive(s, config);
      for (const s of slice) {
        const state = getKeepAlive(s);
        if (state.idle !== config.idle || state.interval !== config.interval || state.count !== config.count || state.userTimeout !== config.userTimeout || !state.enable) {
          throw new Error(`round ${r}: a socket read back ${JSON.stringify(state)}`);
        }
        reads++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return reads;
}

const openHandles = () =>
  process.getActiveResourcesInfo().filter((name) => name.startsWith('TCP')).length;

async function closeAll(sockets) {
  const closed = sockets.map((s) => new Promise((resolve) => s.once('close', resolve)));
  for (const s of sockets) s.destroy();
  await Promise.all(closed);
}

if (!isMainThread) {
  const { port, count, rounds } = workerData;
  const sockets = await connectAll(port, count);
  const reads = await soak(sockets, rounds);
  await closeAll(sockets);
  parentPort.postMessage({ reads, openHandles: openHandles() });
} else if (process.argv[2] === '--peer') {
  // The peer: accepts and holds every connection until told to stop.
  const held = [];
  const server = net.createServer((s) => held.push(s)).listen(0, '127.0.0.1', 4096, () => process.send(server.address().port));
  process.on('message', () => {
    for (const s of held) s.destroy();
    server.close();
    process.disconnect();
  });
} else {
  const { values } = parseArgs({ options: { sockets: { type: 'string', default: '10000' }, rounds: { type: 'string', default: '100' } } });
  const total = Number(values.sockets);
  const rounds = Number(values.rounds);
  if (typeof globalThis.gc !== 'function') {
    console.error('soak: run it with node --expose-gc (npm run soak does)');
    process.exit(2);
  }
  const mib = (bytes) => bytes / 2 ** 20;
  const started = Date.now();

  const peer = fork(fileURLToPath(import.meta.url), ['--peer'], { stdio: 'inherit' });
  const [port] = await once(peer, 'message');
  const share = [Math.ceil(total / 2), Math.floor(total / 4), total - Math.ceil(total / 2) - Math.floor(total / 4)];
  const sockets = await connectAll(port, share[0]);
  globalThis.gc();
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 100);
  // The histogram records the time between ticks of a 1 ms timer; the lag is
  // what exceeds that millisecond.
  const RESOLUTION_MS = 1;
  const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  lag.enable();

  const workers = share.slice(1).map((count) => new Worker(fileURLToPath(import.meta.url), { workerData: { port, count, rounds } }));
  const workerResults = workers.map((w) => new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  }));
  const workerExits = workers.map((w) => once(w, 'exit'));
  const mainReads = await soak(sockets, rounds);
  const results = await Promise.all(workerResults);
  await Promise.all(workerExits);
  lag.disable();
  clearInterval(sampler);

  await closeAll(sockets);
  peer.send('stop');
  await once(peer, 'exit');
  await new Promise((r) => setTimeout(r, 100));
  globalThis.gc();
  const rssEnd = process.memoryUsage().rss;
  const handles = openHandles() + results.reduce((n, r) => n + r.openHandles, 0);
  if (handles) console.error('soak: still open:', process.getActiveResourcesInfo());
  const reads = mainReads + results.reduce((n, r) => n + r.reads, 0);

  const growth = mib(rssEnd - rssStart);
  const p99 = Math.max(0, lag.percentile(99) / 1e6 - RESOLUTION_MS);
  const max = Math.max(0, lag.max / 1e6 - RESOLUTION_MS);
  const pass = reads === total * rounds && growth < RSS_BOUND_MIB && p99 < LAG_BOUND_MS && handles === 0;
  console.log(
    `soak: ${pass ? 'PASS' : 'FAIL'} ${total} sockets x ${rounds} rounds of set + read in the main thread and 2 workers: ` +
      `${(2 * reads).toLocaleString('en')} calls, every read verified, in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
      `RSS ${mib(rssStart).toFixed(0)} -> peak ${mib(rssPeak).toFixed(0)} -> end ${mib(rssEnd).toFixed(0)} MiB ` +
      `(growth ${growth.toFixed(1)} MiB, bound ${RSS_BOUND_MIB}); event-loop lag p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms ` +
      `(bound p99 ${LAG_BOUND_MS}); TCP handles open at the end: ${handles}`,
  );
  process.exitCode = pass ? 0 : 1;
}
