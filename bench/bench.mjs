#!/usr/bin/env node
// npm run bench: what one keepalive configuration (and one read) costs per
// socket with tcp-keepalive, Node's built-in setKeepAlive and net-keepalive,
// against the syscall floor (bench/floor.c, compiled here), in one run.
//
//   node --expose-gc bench/bench.mjs [--sockets 1000] [--rounds 15] [--rss-ops 1000000] [--accept 1000] [--json]
//
// Every method runs in blocks of PASSES back-to-back passes over all sockets,
// in shuffled order, medians over all passes; the floor does the same in C
// (in rotating order), before and after. Every pass writes values the previous one did not,
// and every block is verified by reading the sockets back (untimed), so a
// method that did nothing would fail instead of looking fast.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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
const PASSES = 3;
const WARMUP = 2;
if (typeof globalThis.gc !== 'function') {
  console.error('bench: run it with node --expose-gc (npm run bench does)');
  process.exit(2);
}
const log = (line) => process.stderr.write(`bench: ${line}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// ---- the floor: bench/floor.c, compiled here ----------------------------------
const work = mkdtempSync(path.join(os.tmpdir(), 'tcp-keepalive-bench-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const floorBinary = path.join(work, 'floor');
try {
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-pthread', '-o', floorBinary, path.join(root, 'bench', 'floor.c')], {
    stdio: 'inherit',
  });
} catch {
  console.error('bench: could not compile bench/floor.c (install a C compiler, or set CC)');
  process.exit(2);
}
const floorRuns = { single: [], threaded: [] };
function runFloor() {
  for (const mode of ['single', 'threaded']) {
    const args = [String(N), String(ROUNDS), ...(mode === 'threaded' ? ['threaded'] : [])];
    floorRuns[mode].push(JSON.parse(execFileSync(floorBinary, args, { encoding: 'utf8' })));
  }
}

// ---- N connected loopback pairs -------------------------------------------------
async function openPairs(count) {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = [];
  server.on('connection', (s) => accepted.push(s));
  const clients = [];
  for (let i = 0; i < count; i++) clients.push(net.connect(server.address().port, '127.0.0.1'));
  await Promise.all(clients.map((c) => once(c, 'connect')));
  while (accepted.length < count) await new Promise((r) => setImmediate(r));
  const close = () => {
    for (const s of [...clients, ...accepted]) s.destroy();
    server.close();
  };
  return { clients, close };
}

// ---- the methods ------------------------------------------------------------------
// Pass p of round r writes one of two value sets; consecutive passes differ.
const valuesFor = (r, p) => {
  const k = 8 * ((p + r) & 1);
  return { idle: (60 + k) * 1000, interval: (10 + k) * 1000, count: 6 + k, userTimeout: 120_000 + k };
};

function verify(sockets, name, expected) {
  for (const s of sockets) {
    const got = getKeepAlive(s);
    for (const key of Object.keys(expected)) {
      if (got[key] !== expected[key]) throw new Error(`${name}: a socket holds ${key}=${got[key]}, expected ${expected[key]}`);
    }
  }
}

const methods = {
  ours: {
    kind: 'set',
    pass: (sockets, v) => {
      for (const s of sockets) setKeepAlive(s, v);
    },
    expect: (v) => ({ enable: true, ...v }),
  },
  node: {
    kind: 'set',
    pass: (sockets, v) => {
      for (const s of sockets) s.setKeepAlive(true, v.idle);
    },
    expect: (v) => ({ enable: true, idle: v.idle, interval: 1000, count: 10 }),
  },
  netKeepAlive: {
    kind: 'set',
    pass: (sockets, v) => {
      for (const s of sockets) {
        s.setKeepAlive(true, v.idle);
        netKeepAlive.setKeepAliveInterval(s, v.interval);
        netKeepAlive.setKeepAliveProbes(s, v.count);
        netKeepAlive.setUserTimeout(s, v.userTimeout);
      }
    },
    expect: (v) => ({ enable: true, ...v }),
  },
  oursRead: {
    kind: 'read',
    pass: (sockets, v) => {
      let wrong = 0;
      for (const s of sockets) if (getKeepAlive(s).userTimeout !== v.userTimeout) wrong++;
      return wrong;
    },
  },
  netKeepAliveRead: {
    kind: 'read',
    pass: (sockets, v) => {
      let wrong = 0;
      const expected = v.interval + v.count + v.userTimeout;
      for (const s of sockets) {
        const sum = netKeepAlive.getKeepAliveInterval(s) + netKeepAlive.getKeepAliveProbes(s) + netKeepAlive.getUserTimeout(s);
        if (sum !== expected) wrong++;
      }
      return wrong;
    },
  },
};

async function timeMethods() {
  const { clients: sockets, close } = await openPairs(N);
  const samples = Object.fromEntries(Object.keys(methods).map((k) => [k, []]));
  const keys = Object.keys(methods);
  // net-keepalive runs in a phase of its own: whatever ran right after its
  // ffi-rs calls was measured up to 20 % slower. Within a phase the order is
  // shuffled every round, so no method always follows the same one.
  const phases = [keys.filter((k) => !k.startsWith('netKeepAlive')), keys.filter((k) => k.startsWith('netKeepAlive'))];
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (const phase of phases) for (let r = -WARMUP; r < ROUNDS; r++) {
    const order = phase.map((k) => [random(), k]).sort((a, b) => a[0] - b[0]).map(([, k]) => k);
    for (const key of order) {
      const method = methods[key];
      // Each block starts with an empty young generation, so net-keepalive's
      // garbage is not collected on the next method's time. A minor GC only:
      // a full one compacts the old space and leaves the sockets cold
      // (measured: +20 % on every method).
      globalThis.gc({ type: 'minor' });
      // A read reads what tcp-keepalive set just before, untimed.
      const target = valuesFor(r, 0);
      if (method.kind === 'read') for (const s of sockets) setKeepAlive(s, target);
      for (let p = 0; p < PASSES; p++) {
        const v = method.kind === 'read' ? target : valuesFor(r, p);
        const t0 = process.hrtime.bigint();
        const wrong = method.pass(sockets, v);
        const ns = Number(process.hrtime.bigint() - t0) / N;
        if (wrong) throw new Error(`${key}: ${wrong} reads were wrong`);
        if (r >= 0) samples[key].push(ns);
      }
      if (method.kind === 'set') verify(sockets, key, method.expect(valuesFor(r, PASSES - 1)));
    }
  }
  // ---- memory: RSS growth over RSS_OPS operations, after a forced GC ------------
  const rss = {};
  const alternate = [valuesFor(0, 0), valuesFor(0, 1)];
  for (const key of keys) {
    const passes = Math.ceil(RSS_OPS / N);
    methods[key].pass(sockets, alternate[0]);
    globalThis.gc();
    const before = process.memoryUsage().rss;
    for (let p = 0; p < passes; p++) methods[key].pass(sockets, methods[key].kind === 'read' ? alternate[0] : alternate[p & 1]);
    globalThis.gc();
    rss[key] = (process.memoryUsage().rss - before) / 2 ** 20;
    // Leave the sockets as the reads expect them.
    for (const s of sockets) setKeepAlive(s, alternate[0]);
  }
  close();
  return { ns: Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs)])), rss };
}

// ---- the server path: keepalive syscalls per accepted connection ----------------
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
  const configured = accepted.filter((s) => getKeepAlive(s).idle === 7000).length;
  process.stdout.write(JSON.stringify({ configured }));
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
  const result = { strace };
  for (const mode of ['server', 'per-socket']) {
    const trace = path.join(work, `strace-${mode}`);
    const command = strace
      ? ['strace', ['-f', '-qq', '-o', trace, '-e', 'trace=setsockopt', process.execPath, script, mode, String(ACCEPT)]]
      : [process.execPath, [script, mode, String(ACCEPT)]];
    const { configured } = JSON.parse(execFileSync(command[0], command[1], { encoding: 'utf8' }));
    const calls = strace
      ? readFileSync(trace, 'utf8').split('\n').filter((l) => /SO_KEEPALIVE|TCP_KEEP|TCP_USER_TIMEOUT/.test(l)).length
      : undefined;
    result[mode] = { configured, keepaliveSetsockopt: calls };
  }
  return result;
}

// ---- run ------------------------------------------------------------------------
log(`C floor: ${N} sockets, ${ROUNDS} rounds x ${PASSES} passes (single-threaded, and with a second thread)`);
runFloor();
log(`Node methods: ${N} sockets, ${ROUNDS} rounds x ${PASSES} passes, shuffled order; then RSS over ${RSS_OPS.toLocaleString('en')} operations each`);
const { ns, rss } = await timeMethods();
log('C floor again');
runFloor();
log(`server path: accepting ${ACCEPT} connections`);
const server = serverPath();

const floor = {};
for (const mode of ['single', 'threaded']) {
  floor[mode] = Object.fromEntries(['set5', 'set4', 'get5'].map((k) => [k, median(floorRuns[mode].map((run) => run[k]))]));
}
const cpus = os.cpus();
const report = {
  machine: `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Linux ${os.release()}, Node ${process.version}`,
  sockets: N,
  rounds: ROUNDS,
  passes: PASSES,
  floorNs: floor,
  ns,
  rssMiB: rss,
  rssOps: RSS_OPS,
  server: { accepted: ACCEPT, ...server },
};

if (flags.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const x = (a, b) => `${(a / b).toFixed(2)}x`;
  const t = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} us` : `${Math.round(v)} ns`);
  const mib = (v) => `${v.toFixed(1)} MiB`;
  const f = floor.single;
  const ft = floor.threaded;
  const rows = [
    ['', 'set', 'x floor', 'x floor (2 threads)', 'read', 'x floor', 'x floor (2 threads)', `RSS growth per ${RSS_OPS.toLocaleString('en')} sets / reads`],
    ['C floor (5 setsockopt / 5 getsockopt)', t(f.set5), '1.00x', x(f.set5, ft.set5), t(f.get5), '1.00x', x(f.get5, ft.get5), ''],
    ['C floor with a second thread', t(ft.set5), x(ft.set5, f.set5), '1.00x', t(ft.get5), x(ft.get5, f.get5), '1.00x', ''],
    ['tcp-keepalive (5 options)', t(ns.ours), x(ns.ours, f.set5), x(ns.ours, ft.set5), t(ns.oursRead), x(ns.oursRead, f.get5), x(ns.oursRead, ft.get5), `${mib(rss.ours)} / ${mib(rss.oursRead)}`],
    ['net-keepalive (built-in + 3 setters / 3 getters)', t(ns.netKeepAlive), x(ns.netKeepAlive, f.set5), x(ns.netKeepAlive, ft.set5), t(ns.netKeepAliveRead), x(ns.netKeepAliveRead, f.get5), x(ns.netKeepAliveRead, ft.get5), `${mib(rss.netKeepAlive)} / ${mib(rss.netKeepAliveRead)}`],
    ["Node socket.setKeepAlive (idle only)", t(ns.node), `${x(ns.node, f.set4)} of 4`, `${x(ns.node, ft.set4)} of 4`, 'no reads', '', '', `${mib(rss.node)} / -`],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\n${report.machine}\n${N} connected loopback sockets; medians of ${ROUNDS} rounds x ${PASSES} passes; floors: median of 2 runs\n`);
  for (const r of rows) console.log(`  ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
  console.log(`  ("of 4": against the C floor for Node's own four syscalls, ${t(f.set4)}; ${t(ft.set4)} with a second thread)`);
  const check = (ok, text) => console.log(`  ${ok ? 'met ' : 'MISS'}  ${text}`);
  console.log('\nTargets');
  check(ns.ours <= 1.2 * f.set5, `set at most 1.20x the C floor: ${x(ns.ours, f.set5)} (${x(ns.ours, ft.set5)} of the floor with a second thread)`);
  check(ns.oursRead <= 1.2 * f.get5, `read at most 1.20x the C floor: ${x(ns.oursRead, f.get5)} (${x(ns.oursRead, ft.get5)} with a second thread)`);
  check(ns.netKeepAlive >= 10 * ns.ours, `set at least 10x faster than net-keepalive: ${x(ns.netKeepAlive, ns.ours)}`);
  check(ns.netKeepAliveRead >= 10 * ns.oursRead, `read at least 10x faster than net-keepalive: ${x(ns.netKeepAliveRead, ns.oursRead)}`);
  check(rss.ours < 5 && rss.oursRead < 5, `RSS growth under 5 MiB per ${RSS_OPS.toLocaleString('en')} sets and per as many reads: ${mib(rss.ours)} / ${mib(rss.oursRead)}`);
  console.log(`\nServer path, ${ACCEPT} accepted connections (keepalive setsockopt calls counted with strace -f)`);
  const line = (mode, text) => {
    const r = server[mode];
    const calls = server.strace ? `${r.keepaliveSetsockopt} calls, ${(r.keepaliveSetsockopt / ACCEPT).toFixed(3)} per connection` : 'strace missing: not counted';
    console.log(`  ${text.padEnd(44)} ${calls}; ${r.configured} of ${ACCEPT} accepted sockets read back configured`);
  };
  line('server', 'setKeepAlive(server) once, before listen:');
  line('per-socket', "setKeepAlive(socket) in 'connection':");
}
