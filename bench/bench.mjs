#!/usr/bin/env node
// npm run bench: what one keepalive configuration (and one read) costs per
// socket with tcp-keepalive, Node's built-in setKeepAlive and net-keepalive,
// against the syscall floor (bench/floor.c, compiled here), in one run.
//
//   node --expose-gc bench/bench.mjs [--sockets 1000] [--rounds 30] [--rss-ops 1000000] [--accept 1000]
//                                    [--connections 10000] [--rate-rounds 11] [--startup-rounds 15]
//                                    [--inspect-connections 10000] [--inspect-runs 7] [--json]
//
// Every round runs each method, the C floor among them (bench/floor.c, in
// child processes that serve one block at a time), as a block: one untimed
// warm-up pass over all sockets, then PASSES timed ones; the blocks of a round
// in shuffled order. Every set pass writes values the previous one did not, and
// every block is verified by reading the sockets back (untimed), so a method
// that did nothing would fail instead of looking fast. Then the connection
// rate of a process with and without the process-wide mode (tcp-keepalive/register),
// the start-up time of `node` with and without tcp-keepalive, and how long
// `tcp-keepalive inspect` takes on a process with many connections.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { inspectBench } from './inspect.mjs';

const require = createRequire(import.meta.url);
const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const { setKeepAlive, getKeepAlive, getTcpInfo } = require(root);
const nodeSetKeepAlive = net.Socket.prototype.setKeepAlive;
// Node 24.21+ and 26 take setKeepAlive(enable, delay, interval, count): there
// the built-in is also timed at its best, interval and count set (read from
// the method itself, not guessed from the version).
const NODE_FOUR_ARGUMENTS = nodeSetKeepAlive.length >= 4;
// The native call alone, for the table's decomposition: the fd is already
// known and the options already validated.
const { binding } = require(path.join(root, 'dist', 'kernel', 'index.js'));
const { enable } = require(path.join(root, 'dist', 'kernel', 'addon.js'));
const { toNativeConfig } = require(path.join(root, 'dist', 'engine', 'options.js'));
const nativeEnable = (fd, config) => enable(binding, fd, config);
// Whether the native TCP_INFO read of `fd` succeeded and found it connected.
const ESTABLISHED = binding.tcpStateNames.indexOf('ESTABLISHED');
const readsEstablished = (fd) => binding.tcpInfo(fd) === undefined && binding.tcpInfoSlots[0] === ESTABLISHED;
// The fd of each bench socket, read once up front, in the sockets' order.
let fds = [];
const netKeepAlive = require('net-keepalive');

const { values: flags } = parseArgs({
  options: {
    sockets: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '30' },
    'rss-ops': { type: 'string', default: '1000000' },
    accept: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '10000' },
    'rate-rounds': { type: 'string', default: '11' },
    'startup-rounds': { type: 'string', default: '15' },
    'inspect-connections': { type: 'string', default: '10000' },
    'inspect-runs': { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(flags.sockets);
const ROUNDS = Math.max(5, Number(flags.rounds));
const RSS_OPS = Number(flags['rss-ops']);
const ACCEPT = Number(flags.accept);
const CONNECTIONS = Number(flags.connections);
const RATE_ROUNDS = Math.max(3, Number(flags['rate-rounds']));
const STARTUP_ROUNDS = Math.max(3, Number(flags['startup-rounds']));
const INSPECT_CONNECTIONS = Number(flags['inspect-connections']);
const INSPECT_RUNS = Math.max(1, Number(flags['inspect-runs']));
const PASSES = 3;
const WARMUP = 5;
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
// The process-wide mode with no JavaScript: bench/preload-shim.c, an LD_PRELOAD library.
const shimLibrary = path.join(work, 'preload-shim.so');
try {
  execFileSync(process.env.CC ?? 'cc', ['-O2', '-shared', '-fPIC', '-o', shimLibrary, path.join(root, 'bench', 'preload-shim.c'), '-ldl'], { stdio: 'inherit' });
} catch {
  console.error('bench: could not compile bench/preload-shim.c (install a C compiler, or set CC)');
  process.exit(2);
}
// Everything timed runs on one CPU: this process's main thread and the floor
// processes. Left to the scheduler, the floor and the Node methods ran on
// different vCPUs of this VM in some runs and not in others, and the ratios
// moved by up to 10 %. (V8's and libuv's helper threads stay unpinned.)
function pinMainThread() {
  const cpus = os.availableParallelism();
  const cpu = String(cpus - 1);
  try {
    // The main thread's id is the process id, so this pins it alone.
    execFileSync('taskset', ['-cp', cpu, String(process.pid)], { stdio: 'ignore' });
    return cpu;
  } catch {
    log('taskset is missing or failed: nothing is pinned to one CPU (apt-get install util-linux)');
    return undefined;
  }
}
const CPU = pinMainThread();

// One floor process per mode, serving blocks on request (see floor.c), so the
// floor is measured in the same shuffled rotation as the Node methods.
function startFloor(mode) {
  const args = [String(N), ...(mode === 'threaded' ? ['threaded'] : [])];
  const child = spawn(CPU === undefined ? floorBinary : 'taskset', CPU === undefined ? args : ['-c', CPU, floorBinary, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async block(method, round) {
      child.stdin.write(`${method} ${round}\n`);
      const { value, done } = await lines.next();
      if (done) throw new Error(`bench: the ${mode} floor exited (code ${child.exitCode})`);
      return value.split(' ').map(Number);
    },
    close: () => child.stdin.end(),
  };
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

// What a read finds: the values set on the socket's fd by the native call
// itself, which leaves the library's own state alone (a plain socket stays
// one this library never configured).
const prepareRead = (s, v) => nativeEnable(s._handle.fd, toNativeConfig(v));

const methods = {
  ours: {
    kind: 'set',
    pass: (sockets, v) => {
      for (const s of sockets) setKeepAlive(s, v);
    },
    expect: (v) => ({ enable: true, ...v }),
  },
  native: {
    kind: 'set',
    pass: (sockets, v) => {
      const config = toNativeConfig(v);
      for (let i = 0; i < fds.length; i++) nativeEnable(fds[i], config);
    },
    expect: (v) => ({ enable: true, ...v }),
  },
  // What any addon pays to reach a socket's kernel socket: Node's `_handle`
  // getter and the handle's C++ `fd` accessor, then the same native call.
  nativeViaHandle: {
    kind: 'set',
    pass: (sockets, v) => {
      const config = toNativeConfig(v);
      for (const s of sockets) nativeEnable(s._handle.fd, config);
    },
    expect: (v) => ({ enable: true, ...v }),
  },
  node: {
    kind: 'set',
    // Node's own method, on sockets this library never configured (on a
    // configured socket it changes nothing: sticky).
    plain: true,
    pass: (sockets, v) => {
      for (const s of sockets) nodeSetKeepAlive.call(s, true, v.idle);
    },
    expect: (v) => ({ enable: true, idle: v.idle, interval: 1000, count: 10 }),
  },
  // Node's own at its best, where it takes four arguments: the same four
  // syscalls (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT), no
  // user timeout, no reads.
  ...(NODE_FOUR_ARGUMENTS && {
    nodeFour: {
      kind: 'set',
      plain: true,
      pass: (sockets, v) => {
        for (const s of sockets) nodeSetKeepAlive.call(s, true, v.idle, v.interval, v.count);
      },
      expect: (v) => ({ enable: true, idle: v.idle, interval: v.interval, count: v.count }),
    },
  }),
  netKeepAlive: {
    kind: 'set',
    plain: true, // it calls Node's setKeepAlive first
    pass: (sockets, v) => {
      for (const s of sockets) {
        nodeSetKeepAlive.call(s, true, v.idle);
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
  // The live state: one getsockopt(TCP_INFO) per socket, against the floor's.
  oursTcpInfo: {
    kind: 'info',
    pass: (sockets) => {
      let wrong = 0;
      for (const s of sockets) if (getTcpInfo(s).state !== 'ESTABLISHED') wrong++;
      return wrong;
    },
  },
  // Its decomposition, as for a configuration: the native call alone (the fd
  // already known, no object built), and with the fd read as any addon must.
  nativeTcpInfo: {
    kind: 'info',
    pass: () => {
      let wrong = 0;
      for (let i = 0; i < fds.length; i++) if (!readsEstablished(fds[i])) wrong++;
      return wrong;
    },
  },
  nativeTcpInfoViaHandle: {
    kind: 'info',
    pass: (sockets) => {
      let wrong = 0;
      for (const s of sockets) if (!readsEstablished(s._handle.fd)) wrong++;
      return wrong;
    },
  },
  netKeepAliveRead: {
    kind: 'read',
    plain: true,
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

// The floor blocks that rotate with the Node methods: each C method, in a
// single-threaded process and in one with a second thread.
const floorKey = (mode, method) => `floor:${mode}:${method}`;
const FLOOR_BLOCKS = ['single', 'threaded'].flatMap((mode) => ['set5', 'set4', 'get5', 'info'].map((method) => floorKey(mode, method)));

async function timeMethods() {
  const { clients: sockets, close } = await openPairs(N);
  fds = sockets.map((s) => s._handle.fd);
  // The methods that go through Node's own setKeepAlive get sockets of their
  // own, which this library never configures: on ours, that call is a no-op.
  const { clients: plainSockets, close: closePlain } = await openPairs(N);
  const poolOf = (method) => (method.plain ? plainSockets : sockets);
  const floors = { single: startFloor('single'), threaded: startFloor('threaded') };
  // samples[key]: one entry per timed block, { round, passes: [ns, ...] }.
  const samples = Object.fromEntries([...Object.keys(methods), ...FLOOR_BLOCKS].map((k) => [k, []]));
  const keys = Object.keys(methods);
  // net-keepalive runs in a phase of its own: whatever ran right after its
  // ffi-rs calls was measured up to 20 % slower. Within a phase the order is
  // shuffled every round, so no method always follows the same one. The
  // floor rotates with everything else in the first phase.
  const phases = [[...keys.filter((k) => !k.startsWith('netKeepAlive')), ...FLOOR_BLOCKS], keys.filter((k) => k.startsWith('netKeepAlive'))];
  let seed = 1;
  const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (const [phaseIndex, phase] of phases.entries()) for (let r = -WARMUP; r < ROUNDS; r++) {
    const round = phaseIndex * 1000 + r;
    const order = phase.map((k) => [random(), k]).sort((a, b) => a[0] - b[0]).map(([, k]) => k);
    for (const key of order) {
      if (key.startsWith('floor:')) {
        const [, mode, method] = key.split(':');
        const passes = await floors[mode].block(method, r);
        if (r >= 0) samples[key].push({ round, passes });
        continue;
      }
      const method = methods[key];
      // Each block starts with an empty young generation, so net-keepalive's
      // garbage is not collected on the next method's time. A minor GC only:
      // a full one compacts the old space and leaves the sockets cold
      // (measured: +20 % on every method).
      globalThis.gc({ type: 'minor' });
      // One untimed pass first, so that every timed pass finds the sockets
      // as warm as a pass of the same method left them (the first pass after
      // another method measured up to 40 % slower, the floor's too). A read
      // reads what tcp-keepalive set in that pass.
      const target = valuesFor(r, 0);
      const pool = poolOf(method);
      if (method.kind === 'read') for (const s of pool) prepareRead(s, target);
      else method.pass(pool, valuesFor(r, -1));
      const passes = [];
      for (let p = 0; p < PASSES; p++) {
        const v = method.kind === 'read' ? target : valuesFor(r, p);
        const t0 = process.hrtime.bigint();
        const wrong = method.pass(pool, v);
        passes.push(Number(process.hrtime.bigint() - t0) / N);
        if (wrong) throw new Error(`${key}: ${wrong} reads were wrong`);
      }
      if (r >= 0) samples[key].push({ round, passes });
      if (method.kind === 'set') verify(pool, key, method.expect(valuesFor(r, PASSES - 1)));
    }
  }
  for (const floor of Object.values(floors)) floor.close();
  // ---- memory: RSS growth over RSS_OPS operations, after a forced GC ------------
  const rss = {};
  const alternate = [valuesFor(0, 0), valuesFor(0, 1)];
  for (const key of keys.filter((k) => !k.startsWith('native'))) {
    const passes = Math.ceil(RSS_OPS / N);
    const pool = poolOf(methods[key]);
    methods[key].pass(pool, alternate[0]);
    globalThis.gc();
    const before = process.memoryUsage().rss;
    for (let p = 0; p < passes; p++) methods[key].pass(pool, methods[key].kind === 'read' ? alternate[0] : alternate[p & 1]);
    globalThis.gc();
    rss[key] = (process.memoryUsage().rss - before) / 2 ** 20;
    // Leave the sockets as the reads expect them.
    for (const s of pool) prepareRead(s, alternate[0]);
  }
  close();
  closePlain();
  return { samples, rss };
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

// ---- the process-wide mode: connection rate with and without it -------------------
// Three child processes, each with its own loopback server, take turns: one
// started with --require tcp-keepalive/register (both ends configured: each
// client socket when it connects, the server's listening socket once, which
// its accepted sockets inherit), one without it, and one without it whose
// same five setsockopt calls are made by a C LD_PRELOAD library
// (bench/preload-shim.c: each client socket right after connect(), the
// listening socket right before listen()), with no JavaScript at all: the
// kernel's share, and the floor the mode is measured against. Each takes one block of CONNECTIONS
// connections opened and closed one after another (closed with a reset, so no
// TIME_WAIT piles up; concurrent connects overflowed the listener's accept
// queue here and stalled on 1 s SYN retransmissions), in shuffled order each
// round, after an untimed warm-up block each. Each process stays as it is for
// the whole run. Paired ratios: per round, a process's rate over the rate
// without, in elapsed time and in the process's own CPU time.
async function connectionRate() {
  const script = path.join(work, 'connection-rate.mjs');
  writeFileSync(
    script,
    `import net from 'node:net';
import { once } from 'node:events';
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { getKeepAlive } = require(${JSON.stringify(root)});
const [connections, mode] = [Number(process.argv[2]), process.argv[3]];
const server = net.createServer((s) => s.on('error', () => {}).resume());
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address();
async function block() {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < connections; i++) {
    const c = net.connect(port, '127.0.0.1');
    await once(c, 'connect');
    if (i === 0 && getKeepAlive(c).enable !== (mode !== 'without')) {
      throw new Error('the connection does not hold what this process was started with');
    }
    c.resetAndDestroy();
    await once(c, 'close');
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  return { wall: connections / seconds, cpu: connections / ((cpu.user + cpu.system) / 1e6) };
}
process.on('message', async (message) => {
  if (message === 'block') process.send(await block());
  else server.close(() => process.disconnect());
});
process.send('ready');
`,
  );
  const start = (mode) => {
    const env = { ...process.env };
    if (mode === 'with') env.TCP_KEEPALIVE = 'idle=30s,interval=5s,count=3';
    else delete env.TCP_KEEPALIVE;
    // After whatever is preloaded already (a sanitizer's runtime must stay first: npm run test:asan).
    if (mode === 'shim') env.LD_PRELOAD = [process.env.LD_PRELOAD, shimLibrary].filter(Boolean).join(':');
    const args = [...(mode === 'with' ? ['--require', path.join(root, 'dist', 'integrations', 'register.js')] : []), script, String(CONNECTIONS), mode];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = once(child, 'message');
    return { child, ready };
  };
  const modes = ['with', 'without', 'shim'];
  const children = Object.fromEntries(modes.map((mode) => [mode, start(mode)]));
  await Promise.all(Object.values(children).map((c) => c.ready));
  const block = async (name) => {
    const reply = once(children[name].child, 'message');
    children[name].child.send('block');
    return (await reply)[0];
  };
  for (const mode of modes) await block(mode);
  const samples = [];
  for (let round = 0; round < RATE_ROUNDS; round++) {
    const order = modes.map((m) => [Math.random(), m]).sort((a, b) => a[0] - b[0]).map(([, m]) => m);
    const sample = {};
    for (const name of order) sample[name] = await block(name);
    samples.push(sample);
  }
  for (const { child } of Object.values(children)) {
    const exited = once(child, 'exit');
    child.send('stop');
    await exited;
  }
  const summary = (clock) => ({
    without: median(samples.map((r) => r.without[clock])),
    with: median(samples.map((r) => r.with[clock])),
    shim: median(samples.map((r) => r.shim[clock])),
    ratio: median(samples.map((r) => r.with[clock] / r.without[clock])),
    shimRatio: median(samples.map((r) => r.shim[clock] / r.without[clock])),
    // The mode's rate as a share of the shim's: what its JavaScript costs over the kernel's share.
    ofShim: median(samples.map((r) => r.with[clock] / r.shim[clock])),
  });
  // wall: connections per second of elapsed time. cpu: per second of the
  // process's own CPU time (user + system), which a busy machine disturbs less.
  return { connections: CONNECTIONS, samples, wall: summary('wall'), cpu: summary('cpu') };
}

// ---- start-up: node with and without tcp-keepalive -----------------------------------
// Nine commands take turns, in shuffled order each round, after one untimed run
// each: bare `node -e 0`; `node -e "require('net')"` (what the preload must
// load, being the mode that wraps net); the preload (TCP_KEEPALIVE set) with
// `-e 0`; `node -e "require('http')"`, an application's smallest start, and
// the same with the preload, named as users name it (`--require
// tcp-keepalive/register`, resolved through the package's exports) and by
// its file's path; `node -e "require('http')"` after resolving that name
// alone (Node's first package-exports resolution, which the name costs and
// the path does not); and `node -e "require(<the package's folder>)"`. Each run's
// elapsed time from spawn to exit; ratios and differences paired by round.
function startup() {
  const preload = ['--require', path.join(root, 'dist', 'integrations', 'register.js')];
  const byName = ['--require', 'tcp-keepalive/register']; // from the package's folder: Node resolves its own name there
  const withEnv = { TCP_KEEPALIVE: 'idle=30s,interval=5s,count=3' };
  const commands = {
    bare: [['-e', '0'], {}],
    net: [['-e', "require('net')"], {}],
    register: [[...preload, '-e', '0'], withEnv],
    http: [['-e', "require('http')"], {}],
    registerHttp: [[...byName, '-e', "require('http')"], withEnv],
    registerHttpByPath: [[...preload, '-e', "require('http')"], withEnv],
    resolveHttp: [['-e', "require.resolve('tcp-keepalive/register'); require('http')"], {}],
    require: [['-e', `require(${JSON.stringify(root)})`], {}],
  };
  const time = (name) => {
    const [args, extra] = commands[name];
    const env = { ...process.env, ...extra };
    if (extra.TCP_KEEPALIVE === undefined) delete env.TCP_KEEPALIVE;
    delete env.NODE_OPTIONS;
    const t0 = process.hrtime.bigint();
    execFileSync(process.execPath, args, { env, stdio: 'ignore', cwd: root });
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const names = Object.keys(commands);
  for (const name of names) time(name);
  const samples = [];
  for (let round = 0; round < STARTUP_ROUNDS; round++) {
    const sample = {};
    for (const name of names.map((n) => [Math.random(), n]).sort((a, b) => a[0] - b[0]).map(([, n]) => n)) sample[name] = time(name);
    samples.push(sample);
  }
  const ms = Object.fromEntries(names.map((n) => [n, median(samples.map((s) => s[n]))]));
  const ratio = (name, of = 'bare') => median(samples.map((s) => s[name] / s[of]));
  const added = (name, of) => median(samples.map((s) => s[name] - s[of]));
  return {
    rounds: STARTUP_ROUNDS,
    samples,
    ms,
    ratios: {
      register: ratio('register'),
      net: ratio('net'),
      require: ratio('require'),
      registerHttp: ratio('registerHttp', 'http'),
      registerHttpByPath: ratio('registerHttpByPath', 'http'),
    },
    // Milliseconds added, paired: net's own, the preload's own after net, the
    // preload's to an application that loads http (by name and by path), and
    // Node's first package-exports resolution alone.
    addedMs: {
      net: added('net', 'bare'),
      registerAfterNet: added('register', 'net'),
      registerHttp: added('registerHttp', 'http'),
      registerHttpByPath: added('registerHttpByPath', 'http'),
      exportsResolution: added('resolveHttp', 'http'),
    },
  };
}

// ---- run ------------------------------------------------------------------------
// Start-up first, while this process is small: each spawn forks it, and after
// the RSS phase (net-keepalive grows it by 2 GiB) a fork took 180 ms longer
// here, a constant on both sides of the start-up ratio that hid most of it.
log(`start-up: ${STARTUP_ROUNDS} rounds of node -e 0 and node -e "require('http')" with and without tcp-keepalive`);
const boot = startup();
log(`${N} sockets, ${ROUNDS} rounds x ${PASSES} passes: the Node methods and the C floor (single-threaded, and with a second thread) in shuffled order; then RSS over ${RSS_OPS.toLocaleString('en')} operations each`);
const { samples, rss } = await timeMethods();
log(`server path: accepting ${ACCEPT} connections`);
const server = serverPath();
log(`process-wide mode: ${RATE_ROUNDS} rounds of ${CONNECTIONS} loopback connections opened and closed, in a process with tcp-keepalive/register, one without, and one with the C shim (LD_PRELOAD)`);
const rate = await connectionRate();
log(`inspect: a process holding ${INSPECT_CONNECTIONS} connections, inspected ${INSPECT_RUNS} times`);
const inspect = await inspectBench(root, INSPECT_CONNECTIONS, INSPECT_RUNS);

// ns: the median over every timed pass. Ratios are paired: within each round
// the median pass of one method over the median pass of the other, then the
// median of those ratios, so that a slow stretch of the machine slows both
// sides of a ratio rather than one. (net-keepalive runs in its own phase and
// has no floor block beside it; its ratios are of the overall medians.)
const ns = Object.fromEntries(Object.entries(samples).map(([k, blocks]) => [k, median(blocks.flatMap((b) => b.passes))]));
function ratio(a, b) {
  const byRound = new Map(samples[b].map((block) => [block.round, median(block.passes)]));
  const paired = samples[a].filter((block) => byRound.has(block.round)).map((block) => median(block.passes) / byRound.get(block.round));
  return paired.length > 0 ? median(paired) : ns[a] / ns[b];
}
const floorKeys = (mode) => Object.fromEntries(['set5', 'set4', 'get5', 'info'].map((method) => [method, floorKey(mode, method)]));
const FLOOR = floorKeys('single');
const FLOOR2 = floorKeys('threaded');
const ratios = {
  ours: [ratio('ours', FLOOR.set5), ratio('ours', FLOOR2.set5)],
  native: [ratio('native', FLOOR.set5), ratio('native', FLOOR2.set5)],
  nativeViaHandle: [ratio('nativeViaHandle', FLOOR.set5), ratio('nativeViaHandle', FLOOR2.set5)],
  oursRead: [ratio('oursRead', FLOOR.get5), ratio('oursRead', FLOOR2.get5)],
  oursTcpInfo: [ratio('oursTcpInfo', FLOOR.info), ratio('oursTcpInfo', FLOOR2.info)],
  nativeTcpInfo: [ratio('nativeTcpInfo', FLOOR.info), ratio('nativeTcpInfo', FLOOR2.info)],
  nativeTcpInfoViaHandle: [ratio('nativeTcpInfoViaHandle', FLOOR.info), ratio('nativeTcpInfoViaHandle', FLOOR2.info)],
  netKeepAlive: [ratio('netKeepAlive', FLOOR.set5), ratio('netKeepAlive', FLOOR2.set5)],
  netKeepAliveRead: [ratio('netKeepAliveRead', FLOOR.get5), ratio('netKeepAliveRead', FLOOR2.get5)],
  node: [ratio('node', FLOOR.set4), ratio('node', FLOOR2.set4)],
  ...(NODE_FOUR_ARGUMENTS && { nodeFour: [ratio('nodeFour', FLOOR.set4), ratio('nodeFour', FLOOR2.set4)] }),
  threadedSet: ratio(FLOOR2.set5, FLOOR.set5),
  threadedGet: ratio(FLOOR2.get5, FLOOR.get5),
  threadedInfo: ratio(FLOOR2.info, FLOOR.info),
};
const cpus = os.cpus();
const report = {
  machine: `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Linux ${os.release()}, Node ${process.version}`,
  pinnedCpu: CPU ?? null,
  sockets: N,
  rounds: ROUNDS,
  passes: PASSES,
  ns,
  ratios,
  samples,
  rssMiB: rss,
  rssOps: RSS_OPS,
  server: { accepted: ACCEPT, ...server },
  connectionRate: rate,
  startup: boot,
  inspect,
};

if (flags.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const x = (r) => `${r.toFixed(2)}x`;
  const t = (v) => (v >= 10_000 ? `${(v / 1000).toFixed(1)} us` : `${Math.round(v)} ns`);
  const mib = (v) => `${v.toFixed(1)} MiB`;
  const r = ratios;
  const rows = [
    ['', 'set', 'x floor', 'x floor (2 threads)', 'read', 'x floor', 'x floor (2 threads)', `RSS growth per ${RSS_OPS.toLocaleString('en')} sets / reads`],
    ['C floor (5 setsockopt / 5 getsockopt)', t(ns[FLOOR.set5]), '1.00x', x(1 / r.threadedSet), t(ns[FLOOR.get5]), '1.00x', x(1 / r.threadedGet), ''],
    ['C floor with a second thread', t(ns[FLOOR2.set5]), x(r.threadedSet), '1.00x', t(ns[FLOOR2.get5]), x(r.threadedGet), '1.00x', ''],
    ['tcp-keepalive (5 options)', t(ns.ours), x(r.ours[0]), x(r.ours[1]), t(ns.oursRead), x(r.oursRead[0]), x(r.oursRead[1]), `${mib(rss.ours)} / ${mib(rss.oursRead)}`],
    ['  of which the native call alone', t(ns.native), x(r.native[0]), x(r.native[1]), '', '', '', ''],
    ['  the native call, the fd read via socket._handle.fd', t(ns.nativeViaHandle), x(r.nativeViaHandle[0]), x(r.nativeViaHandle[1]), '', '', '', ''],
    ['net-keepalive (built-in + 3 setters / 3 getters)', t(ns.netKeepAlive), x(r.netKeepAlive[0]), x(r.netKeepAlive[1]), t(ns.netKeepAliveRead), x(r.netKeepAliveRead[0]), x(r.netKeepAliveRead[1]), `${mib(rss.netKeepAlive)} / ${mib(rss.netKeepAliveRead)}`],
    ['Node socket.setKeepAlive (idle only)', t(ns.node), `${x(r.node[0])} of 4`, `${x(r.node[1])} of 4`, 'no reads', '', '', `${mib(rss.node)} / -`],
  ];
  if (NODE_FOUR_ARGUMENTS) {
    rows.push(['Node setKeepAlive(true, idle, interval, count)', t(ns.nodeFour), `${x(r.nodeFour[0])} of 4`, `${x(r.nodeFour[1])} of 4`, 'no reads', '', '', `${mib(rss.nodeFour)} / -`]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const pinned = CPU === undefined ? 'not pinned' : `all timed code on CPU ${CPU}`;
  console.log(`\n${report.machine}\n${N} connected loopback sockets; ${ROUNDS} rounds x ${PASSES} passes, the C floor in the same rotation (${pinned}); ratios paired by round\n`);
  for (const row of rows) console.log(`  ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')}`);
  console.log(`  ("of 4": against the C floor for Node's own four syscalls, ${t(ns[FLOOR.set4])}; ${t(ns[FLOOR2.set4])} with a second thread)`);
  const check = (ok, text) => console.log(`  ${ok ? 'met ' : 'MISS'}  ${text}`);
  console.log('\nTargets');
  // Three decimals here, so that a miss never prints as "1.20x".
  const x3 = (v) => `${v.toFixed(3)}x`;
  check(r.ours[0] <= 1.2, `set at most 1.20x the C floor: ${x3(r.ours[0])} (${x3(r.ours[1])} of the floor with a second thread)`);
  check(r.oursRead[0] <= 1.2, `read at most 1.20x the C floor: ${x3(r.oursRead[0])} (${x3(r.oursRead[1])} with a second thread)`);
  check(ns.netKeepAlive >= 10 * ns.ours, `set at least 10x faster than net-keepalive: ${x(ns.netKeepAlive / ns.ours)}`);
  check(ns.netKeepAliveRead >= 10 * ns.oursRead, `read at least 10x faster than net-keepalive: ${x(ns.netKeepAliveRead / ns.oursRead)}`);
  check(rss.ours < 5 && rss.oursRead < 5, `RSS growth under 5 MiB per ${RSS_OPS.toLocaleString('en')} sets and per as many reads: ${mib(rss.ours)} / ${mib(rss.oursRead)}`);
  console.log(`\nServer path, ${ACCEPT} accepted connections (keepalive setsockopt calls counted with strace -f)`);
  const line = (mode, text) => {
    const r = server[mode];
    const calls = server.strace ? `${r.keepaliveSetsockopt} calls, ${(r.keepaliveSetsockopt / ACCEPT).toFixed(3)} per connection` : 'strace missing: not counted';
    console.log(`  ${text.padEnd(44)} ${calls}; ${r.configured} of ${ACCEPT} accepted sockets read back configured`);
  };
  line('server', 'setKeepAlive(server) once, before listen:');
  line('per-socket', "setKeepAlive(socket) in 'connection':");
  printConnectionRate(rate, check);
  printStartup(boot, check);
  printLiveState(check);
}

function printLiveState(check) {
  const x = (v) => `${v.toFixed(3)}x`;
  const t = (v) => `${Math.round(v)} ns`;
  const r = ratios.oursTcpInfo;
  console.log('\nLive state: getTcpInfo(socket) against C\'s getsockopt(TCP_INFO), the same rotation');
  console.log(`  C floor: ${t(ns[FLOOR.info])} single-threaded, ${t(ns[FLOOR2.info])} with a second thread; getTcpInfo: ${t(ns.oursTcpInfo)}, RSS growth ${rss.oursTcpInfo.toFixed(1)} MiB per ${RSS_OPS.toLocaleString('en')} reads`);
  console.log(`  of which the native call alone: ${t(ns.nativeTcpInfo)} (${x(ratios.nativeTcpInfo[1])} of the threaded floor); the native call with the fd read via socket._handle.fd: ${t(ns.nativeTcpInfoViaHandle)} (${x(ratios.nativeTcpInfoViaHandle[1])})`);
  check(r[1] <= 1.2, `getTcpInfo at most 1.20x C's getsockopt(TCP_INFO) in a threaded process: ${x(r[1])} (${x(r[0])} of the single-threaded floor)`);
  const runs = inspect.runs.map((v) => Math.round(v)).join(', ');
  console.log(`\ninspect: a process holding ${inspect.connections.toLocaleString('en')} connections, ${inspect.runs.length} runs: ${runs} ms`);
  check(inspect.median < 1000, `a process with ${inspect.connections.toLocaleString('en')} connections inspected in under a second: median ${Math.round(inspect.median)} ms, slowest ${Math.round(Math.max(...inspect.runs))} ms`);
}

function printConnectionRate(rate, check) {
  const perSecond = (v) => `${Math.round(v).toLocaleString('en')}/s`;
  const us = (r) => ((1 / r.with - 1 / r.without) * 1e6).toFixed(1);
  console.log(`\nProcess-wide mode, ${rate.samples.length} rounds of ${rate.connections} loopback connections opened and closed (paired by round)`);
  console.log(`  elapsed time: without ${perSecond(rate.wall.without)}, with tcp-keepalive/register ${perSecond(rate.wall.with)}, paired ratio ${rate.wall.ratio.toFixed(3)}`);
  console.log(`  per CPU second of the process: without ${perSecond(rate.cpu.without)}, with ${perSecond(rate.cpu.with)}, paired ratio ${rate.cpu.ratio.toFixed(3)}`);
  console.log(`  the same five setsockopt calls made with no JavaScript (bench/preload-shim.c, LD_PRELOAD): ${perSecond(rate.wall.shim)}, ${rate.wall.shimRatio.toFixed(3)} of the rate without ` +
    `(CPU time ${rate.cpu.shimRatio.toFixed(3)}); per connection the mode costs ${us(rate.wall)} us of elapsed time over the rate without, ` +
    `${((1 / rate.wall.shim - 1 / rate.wall.without) * 1e6).toFixed(1)} us of it the kernel's`);
  check(rate.wall.ofShim >= 0.99, `connection rate with the process-wide mode at least 0.99 of the shim's, paired: ${rate.wall.ofShim.toFixed(3)} (CPU time: ${rate.cpu.ofShim.toFixed(3)})`);
}

function printStartup(boot, check) {
  const ms = (v) => `${v.toFixed(1)} ms`;
  const x = (v) => `${v.toFixed(3)}x`;
  const { ratios: r, addedMs: a } = boot;
  console.log(`\nStart-up, ${boot.rounds} rounds, each command's elapsed time from spawn to exit (paired by round)`);
  console.log(`  node -e 0: ${ms(boot.ms.bare)}; node -e "require('net')": ${ms(boot.ms.net)} (${x(r.net)}, +${ms(a.net)}); ` +
    `with the preload (by its path): ${ms(boot.ms.register)} (${x(r.register)}, +${ms(a.registerAfterNet)} after net's)`);
  console.log(`  node -e "require('http')": ${ms(boot.ms.http)}; with --require tcp-keepalive/register: ${ms(boot.ms.registerHttp)} ` +
    `(${x(r.registerHttp)}, +${ms(a.registerHttp)}), of which Node's first package-exports resolution +${ms(a.exportsResolution)}; ` +
    `with the preload's path: ${ms(boot.ms.registerHttpByPath)} (${x(r.registerHttpByPath)}, +${ms(a.registerHttpByPath)})`);
  console.log(`  node -e "require(<the package's folder>)": ${ms(boot.ms.require)} (${x(r.require)} of node -e 0)`);
  check(r.registerHttp <= 1.02 && a.registerHttp <= 2, `the preload adds at most 2 ms (1.02x) to node -e "require('http')": +${ms(a.registerHttp)}, ${x(r.registerHttp)}`);
  check(a.registerAfterNet <= a.net, `the preload's own cost to node -e 0, after net's, at most net's own: +${ms(a.registerAfterNet)} against +${ms(a.net)}`);
  check(r.require <= 1.02, `start-up with require(<the package's folder>) at most 1.02x node -e 0: ${x(r.require)}`);
}
