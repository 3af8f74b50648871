#!/usr/bin/env node
// npm run bench: the cost of one keepalive configuration (and one read) per
// socket, for tcp-keepalive, Node's built-in setKeepAlive and net-keepalive,
// against the syscall floor: a C program making the same calls, interleaved
// round by round with the Node methods so drift on a shared machine hits all
// alike. Every pass is verified by reading the values back, untimed.
//
//   node --expose-gc bench/bench.mjs [--sockets 1000] [--rounds 15] [--rss-ops 1000000] [--accept 1000] [--json]
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { setKeepAlive, getKeepAlive } = require(root);
const netKeepAlive = require('net-keepalive');

const { values: flags } = parseArgs({
  options: {
    sockets: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '15' },
    'rss-ops': { type: 'string', default: '1000000' },
    accept: { type: 'string', default: '1000' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(flags.sockets);
const ROUNDS = Math.max(5, Number(flags.rounds));
const RSS_OPS = Number(flags['rss-ops']);
const ACCEPT = Number(flags.accept);
const WARMUP = 3;
if (typeof globalThis.gc !== 'function') {
  console.error('bench: run with node --expose-gc (npm run bench does)');
  process.exit(2);
}
const log = (line) => process.stderr.write(`${line}\n`);

// ---- the C floor, compiled here -------------------------------------------
const work = mkdtempSync(path.join(os.tmpdir(), 'tcp-keepalive-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const floorBinary = path.join(work, 'floor');
try {
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-o', floorBinary, path.join(root, 'bench', 'floor.c')], { stdio: 'inherit' });
} catch {
  console.error('bench: could not compile bench/floor.c (set CC or install a C compiler)');
  process.exit(2);
}
const floor = spawn(floorBinary, [String(N)], { stdio: ['pipe', 'pipe', 'inherit'] });
const floorLines = readline.createInterface({ input: floor.stdout })[Symbol.asyncIterator]();
async function floorCommand(command) {
  floor.stdin.write(`${command}\n`);
  const { value } = await floorLines.next();
  const fields = String(value).split(' ');
  if (fields.pop() !== 'ok') throw new Error(`floor: ${value}`);
  return fields.map(Number);
}
if ((await floorLines.next()).value !== 'ready') throw new Error('floor did not start');

// ---- N connected loopback pairs ---------------------------------------------
async function openPairs(count) {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = [];
  server.on('connection', (s) => accepted.push(s));
  const clients = [];
  for (let i = 0; i < count; i++) clients.push(net.connect(server.address().port, '127.0.0.1'));
  await Promise.all(clients.map((c) => once(c, 'connect')));
  while (accepted.length < count) await new Promise((r) => setImmediate(r));
  return {
    clients,
    close: () => {
      for (const s of [...clients, ...accepted]) s.destroy();
      server.close();
    },
  };
}
const pairs = await openPairs(N);
const sockets = pairs.clients;

// ---- the methods ------------------------------------------------------------
// Every method gets PASSES back-to-back passes over all sockets per round,
// exactly like the floor (bench/floor.c): a set alternates between its values
// and the same plus SHIFT, ending on its own. Each pass of a round writes
// values no other method's pass wrote, so a method that did nothing would
// fail its verification instead of looking fast.
const PASSES = 3;
const SHIFT = 16;
const valuesFor = (round, slot) => {
  const k = (round & 1) * 8 + slot;
  return { idle: 60 + k, interval: 10 + k, count: 3 + k, userTimeout: 100_000 + k };
};
const shifted = (v, pass) =>
  (PASSES - 1 - pass) % 2
    ? { idle: v.idle + SHIFT, interval: v.interval + SHIFT, count: v.count + SHIFT, userTimeout: v.userTimeout + SHIFT }
    : v;

function verify(name, expect) {
  for (const s of sockets) {
    const got = getKeepAlive(s);
    for (const key of Object.keys(expect)) {
      if (got[key] !== expect[key]) throw new Error(`${name}: a socket holds ${key}=${got[key]}, expected ${expect[key]}`);
    }
  }
}

// Runs `pass(values)` PASSES times, each over every socket; ns per socket of each.
function passes(v, pass) {
  const ns = [];
  for (let p = 0; p < PASSES; p++) {
    const w = shifted(v, p);
    const t0 = process.hrtime.bigint();
    pass(w);
    ns.push(Number(process.hrtime.bigint() - t0) / N);
  }
  return ns;
}

const toOptions = (w) => ({ idle: w.idle * 1000, interval: w.interval * 1000, count: w.count, userTimeout: w.userTimeout });

const setMethods = {
  floor5: {
    run: (v) => floorCommand(`set5 ${v.idle} ${v.interval} ${v.count} ${v.userTimeout}`),
  },
  ours: {
    run: (v) => {
      const ns = passes(v, (w) => {
        const options = toOptions(w);
        for (const s of sockets) setKeepAlive(s, options);
      });
      verify('tcp-keepalive', { enable: true, ...toOptions(v) });
      return ns;
    },
  },
  floor4: {
    run: (v) => floorCommand(`set4 ${v.idle} 1 10`),
  },
  node: {
    run: (v) => {
      const ns = passes(v, (w) => {
        const ms = w.idle * 1000;
        for (const s of sockets) s.setKeepAlive(true, ms);
      });
      verify('Node', { enable: true, idle: v.idle * 1000, interval: 1000, count: 10 });
      return ns;
    },
  },
  netKeepAlive: {
    run: (v) => {
      const ns = passes(v, (w) => {
        const o = toOptions(w);
        for (const s of sockets) {
          s.setKeepAlive(true, o.idle);
          netKeepAlive.setKeepAliveInterval(s, o.interval);
          netKeepAlive.setKeepAliveProbes(s, o.count);
          netKeepAlive.setUserTimeout(s, o.userTimeout);
        }
      });
      verify('net-keepalive', { enable: true, ...toOptions(v) });
      return ns;
    },
  },
};

// Reads run after tcp-keepalive and the floor have both set `v`, and check what they read.
const readMethods = {
  floor5: { run: () => floorCommand('get5') },
  ours: {
    run: (v) => {
      let bad = 0;
      const ns = passes(v, () => {
        for (const s of sockets) if (getKeepAlive(s).count !== v.count) bad++;
      });
      if (bad) throw new Error(`tcp-keepalive read: ${bad} reads were wrong`);
      return ns;
    },
  },
  netKeepAlive: {
    run: (v) => {
      let bad = 0;
      const expected = v.interval * 1000 + v.count + v.userTimeout;
      const ns = passes(v, () => {
        for (const s of sockets) {
          const sum = netKeepAlive.getKeepAliveInterval(s) + netKeepAlive.getKeepAliveProbes(s) + netKeepAlive.getUserTimeout(s);
          if (sum !== expected) bad++;
        }
      });
      if (bad) throw new Error(`net-keepalive read: ${bad} reads were wrong`);
      return ns;
    },
  },
};

// ---- rounds -----------------------------------------------------------------
const samples = { set: {}, read: {} };
for (const k of Object.keys(setMethods)) samples.set[k] = [];
for (const k of Object.keys(readMethods)) samples.read[k] = [];
const setKeys = Object.keys(setMethods);
const readKeys = Object.keys(readMethods);

log(`bench: ${N} loopback sockets, ${WARMUP} warm-up + ${ROUNDS} rounds of ${PASSES} passes per method, in rotating order`);
for (let round = -WARMUP; round < ROUNDS; round++) {
  const r = round + WARMUP;
  for (let i = 0; i < setKeys.length; i++) {
    const key = setKeys[(i + r) % setKeys.length];
    const ns = await setMethods[key].run(valuesFor(r, i));
    if (round >= 0) samples.set[key].push(...ns);
  }
  // Reads: tcp-keepalive and the floor set the same values first, untimed.
  const v = valuesFor(r, 7);
  await floorCommand(`set5 ${v.idle} ${v.interval} ${v.count} ${v.userTimeout}`);
  for (const s of sockets) setKeepAlive(s, toOptions(v));
  for (let i = 0; i < readKeys.length; i++) {
    const key = readKeys[(i + r) % readKeys.length];
    const ns = await readMethods[key].run(v);
    if (round >= 0) samples.read[key].push(...ns);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const med = { set: {}, read: {} };
for (const kind of ['set', 'read']) for (const [k, xs] of Object.entries(samples[kind])) med[kind][k] = median(xs);

// ---- memory: RSS growth over RSS_OPS operations, after a forced GC -----------
function rssGrowth(op) {
  const perPass = sockets.length;
  const passes = Math.ceil(RSS_OPS / perPass);
  op(0); // warm
  globalThis.gc();
  const before = process.memoryUsage().rss;
  for (let p = 0; p < passes; p++) op(p);
  globalThis.gc();
  return (process.memoryUsage().rss - before) / 1024 / 1024;
}
log(`bench: RSS growth over ${RSS_OPS.toLocaleString('en')} operations per method`);
const A = { idle: 60_000, interval: 10_000, count: 6, userTimeout: 120_000 };
const B = { idle: 61_000, interval: 11_000, count: 7, userTimeout: 138_000 };
const rss = {
  oursSet: rssGrowth((p) => {
    const o = p & 1 ? A : B;
    for (const s of sockets) setKeepAlive(s, o);
  }),
  oursRead: rssGrowth(() => {
    for (const s of sockets) getKeepAlive(s);
  }),
  nodeSet: rssGrowth((p) => {
    for (const s of sockets) s.setKeepAlive(true, p & 1 ? 60_000 : 61_000);
  }),
  netKeepAliveSet: rssGrowth((p) => {
    for (const s of sockets) {
      s.setKeepAlive(true, p & 1 ? 60_000 : 61_000);
      netKeepAlive.setKeepAliveInterval(s, 10_000);
      netKeepAlive.setKeepAliveProbes(s, 6);
      netKeepAlive.setUserTimeout(s, 120_000);
    }
  }),
  netKeepAliveRead: rssGrowth(() => {
    for (const s of sockets) {
      netKeepAlive.getKeepAliveInterval(s);
      netKeepAlive.getKeepAliveProbes(s);
      netKeepAlive.getUserTimeout(s);
    }
  }),
};
pairs.close();
floor.stdin.end();

// ---- the server path: syscalls per accepted connection ----------------------
function serverPath() {
  const script = path.join(work, 'accept.cjs');
  writeFileSync(
    script,
    `const net = require('node:net');
const { setKeepAlive, getKeepAlive } = require(${JSON.stringify(root)});
const [mode, count] = [process.argv[2], Number(process.argv[3])];
const options = { idle: 7000, interval: 2000, count: 3 };
const server = net.createServer();
const accepted = [];
server.on('connection', (s) => { if (mode === 'per-socket') setKeepAlive(s, options); accepted.push(s); });
if (mode === 'server') setKeepAlive(server, options);
server.listen(0, '127.0.0.1', async () => {
  const clients = [];
  for (let i = 0; i < count; i++) clients.push(net.connect(server.address().port, '127.0.0.1'));
  while (accepted.length < count) await new Promise((r) => setTimeout(r, 5));
  const ok = accepted.every((s) => getKeepAlive(s).idle === 7000);
  process.stdout.write(JSON.stringify({ ok }));
  for (const s of [...clients, ...accepted]) s.destroy();
  server.close();
});
`,
  );
  let strace = true;
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
  } catch {
    strace = false;
  }
  const result = {};
  for (const mode of ['server', 'per-socket']) {
    if (!strace) {
      const out = JSON.parse(execFileSync(process.execPath, [script, mode, String(ACCEPT)], { encoding: 'utf8' }));
      result[mode] = { inherited: out.ok, setsockopt: undefined };
      continue;
    }
    const trace = path.join(work, `strace-${mode}`);
    const out = JSON.parse(
      execFileSync('strace', ['-f', '-qq', '-o', trace, '-e', 'trace=setsockopt', process.execPath, script, mode, String(ACCEPT)], {
        encoding: 'utf8',
      }),
    );
    const calls = readFileSync(trace, 'utf8').split('\n').filter((l) => /SO_KEEPALIVE|TCP_KEEP|TCP_USER_TIMEOUT/.test(l));
    result[mode] = { inherited: out.ok, setsockopt: calls.length };
  }
  return { strace, ...result };
}
log(`bench: accepting ${ACCEPT} connections, server-configured vs per-socket`);
const server = serverPath();

// ---- report -----------------------------------------------------------------
const ratio = (x, base) => (x / base).toFixed(2);
const fmt = (ns) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${Math.round(ns)} ns`);
const report = {
  machine: `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Linux ${os.release()}, Node ${process.version}`,
  sockets: N,
  rounds: ROUNDS,
  setNs: med.set,
  readNs: med.read,
  rssMiB: rss,
  rssOps: RSS_OPS,
  server,
  accept: ACCEPT,
};
if (flags.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const rows = [
    ['method', 'per configuration', 'x floor', 'per read', 'x floor', `RSS growth / ${RSS_OPS.toLocaleString('en')} sets, reads`],
    ['C floor (5 setsockopt / 5 getsockopt)', fmt(med.set.floor5), '1.00', fmt(med.read.floor5), '1.00', '-'],
    ['tcp-keepalive', fmt(med.set.ours), ratio(med.set.ours, med.set.floor5), fmt(med.read.ours), ratio(med.read.ours, med.read.floor5), `${rss.oursSet.toFixed(1)} MiB, ${rss.oursRead.toFixed(1)} MiB`],
    ['net-keepalive', fmt(med.set.netKeepAlive), ratio(med.set.netKeepAlive, med.set.floor5), fmt(med.read.netKeepAlive), ratio(med.read.netKeepAlive, med.read.floor5), `${rss.netKeepAliveSet.toFixed(1)} MiB, ${rss.netKeepAliveRead.toFixed(1)} MiB`],
    ["Node setKeepAlive (idle only, 4 syscalls)", fmt(med.set.node), `${ratio(med.set.node, med.set.floor4)} of its 4-call floor (${fmt(med.set.floor4)})`, 'cannot read', '', `${rss.nodeSet.toFixed(1)} MiB, -`],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  console.log(`\n${report.machine}; ${N} sockets, median of ${ROUNDS} rounds x ${PASSES} passes\n`);
  for (const r of rows) console.log(`  ${r.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()}`);
  const check = (ok, text) => console.log(`  ${ok ? 'ok  ' : 'MISS'} ${text}`);
  console.log('\nTargets');
  check(med.set.ours / med.set.floor5 <= 1.2, `set at most 1.20x the floor: ${ratio(med.set.ours, med.set.floor5)}x`);
  check(med.read.ours / med.read.floor5 <= 1.2, `read at most 1.20x the floor: ${ratio(med.read.ours, med.read.floor5)}x`);
  check(med.set.netKeepAlive / med.set.ours >= 10, `set at least 10x faster than net-keepalive: ${ratio(med.set.netKeepAlive, med.set.ours)}x`);
  check(med.read.netKeepAlive / med.read.ours >= 10, `read at least 10x faster than net-keepalive: ${ratio(med.read.netKeepAlive, med.read.ours)}x`);
  check(rss.oursSet < 5 && rss.oursRead < 5, `RSS growth under 5 MiB per ${RSS_OPS.toLocaleString('en')} sets and reads: ${rss.oursSet.toFixed(1)} / ${rss.oursRead.toFixed(1)} MiB`);
  console.log(`\nServer path: accepting ${ACCEPT} connections`);
  const calls = (m) =>
    server.strace
      ? `${server[m].setsockopt} keepalive setsockopt calls (strace -f), ${(server[m].setsockopt / ACCEPT).toFixed(3)} per connection`
      : 'strace not installed, so not counted';
  console.log(`  setKeepAlive(server) before listen: ${calls('server')}, every accepted socket configured: ${server.server.inherited}`);
  console.log(`  setKeepAlive(socket) per connection: ${calls('per-socket')}, every accepted socket configured: ${server['per-socket'].inherited}`);
}
