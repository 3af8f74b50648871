// Runs inside a private user + network namespace (see outage.ts): sets up a
// connection over loopback, configures it, makes the peer vanish (a blackhole
// route, or nftables dropping what it sends), prints a line per getTcpInfo
// sample if asked, and last one JSON line saying what the socket saw.
import { execFileSync } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import net = require('node:net');
import { performance } from 'node:perf_hooks';
import { setKeepAlive } from '../engine/keepalive';
import { register } from '../integrations/process-wide';
import { getTcpInfo } from '../engine/tcp-info';
import type { DeadPeer } from '../engine/dead-peer';
import { parseKeepaliveTimer, sampleLine, type OutageChildInput, type OutageDeadPeer, type OutageResult, type OutageSample } from './outage';

// The server and the client get addresses of their own on lo, so that either
// one can be made to vanish without touching the other.
const SERVER_ADDRESS = '127.0.0.2';
const CLIENT_ADDRESS = '127.0.0.3';

function configure(target: net.Socket | net.Server, input: OutageChildInput): void {
  const k = input.keepalive;
  if (k.with === 'tcp-keepalive') setKeepAlive(target, k.options);
  else if (k.with === 'register') return; // every socket already: see main
  else if (k.with === 'node' && k.interval !== undefined) {
    // @types/node 20 knows two arguments; Node 24.21+ and 26 take four.
    (target as net.Socket as unknown as { setKeepAlive(...args: unknown[]): void }).setKeepAlive(true, k.initialDelay, k.interval, k.count);
  } else if (k.with === 'node') (target as net.Socket).setKeepAlive(true, k.initialDelay);
}

function keepaliveTimer(ss: string, port: number): number | undefined {
  return parseKeepaliveTimer(execFileSync(ss, ['-tion', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }));
}

async function main(input: OutageChildInput): Promise<OutageResult> {
  execFileSync(input.ip, ['link', 'set', 'lo', 'up']);
  if (input.keepalive.with === 'register') register(input.keepalive.options);
  const server = net.createServer();
  // The server side is configured through the listening socket, before
  // listen: the accepted socket must inherit it.
  if (input.side === 'server') {
    if (input.keepalive.with === 'node') throw new Error('Node has no keepalive for a listening socket');
    if (input.keepalive.with === 'register') throw new Error('the process-wide mode configures both sides: watch the client');
    configure(server, input);
  }
  server.listen(0, SERVER_ADDRESS);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: SERVER_ADDRESS, localAddress: CLIENT_ADDRESS });
  if (input.side === 'client') configure(client, input);
  await once(client, 'connect');
  const [peer] = await accepted;
  const watched = input.side === 'client' ? client : peer;
  const other = input.side === 'client' ? peer : client;
  other.on('error', () => {}); // only the watched socket's fate is reported
  if (input.configureOther !== undefined) setKeepAlive(other, input.configureOther);

  if (input.readTimer) {
    if (input.ss === undefined) throw new Error('ss (iproute2) is needed to read the keepalive timer');
    return { outcome: 'open', afterMs: 0, timerSeconds: keepaliveTimer(input.ss, watched.localPort!) };
  }

  const deadPeers: OutageDeadPeer[] = [];
  if (input.deadPeerEvents) {
    subscribe('tcp-keepalive:dead-peer', (message) => {
      const { socket, error, ...rest } = message as DeadPeer;
      deadPeers.push({ ...rest, watched: socket === watched, error: (error as NodeJS.ErrnoException).code });
    });
  }

  const vanished = input.side === 'client' ? SERVER_ADDRESS : CLIENT_ADDRESS;
  if (input.peer === 'closes') other.end();
  else if (input.peer === 'resets') other.resetAndDestroy();
  else if (input.cut === 'return') {
    // Only what the peer sends is dropped: what the watched socket sends
    // leaves, and its ACK never comes back.
    if (input.nft === undefined) throw new Error('nft (nftables) is needed to cut only the way back');
    execFileSync(input.nft, ['-f', '-'], {
      input: `table inet outage {\n  chain in {\n    type filter hook input priority 0;\n    ip saddr ${vanished} drop\n  }\n}\n`,
    });
  } else {
    execFileSync(input.ip, ['route', 'add', 'blackhole', vanished, 'table', 'local']);
  }
  const start = performance.now();
  if (input.inFlight) watched.write('hello');
  const elapsed = () => Math.round(performance.now() - start);
  const samples: OutageSample[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const take = () => {
    const sample = { atMs: elapsed(), info: getTcpInfo(watched) };
    samples.push(sample);
    process.stdout.write(sampleLine(sample));
  };
  if (input.sample !== undefined) {
    const { firstMs, everyMs } = input.sample;
    sampler = setTimeout(function tick() {
      if (watched.destroyed) return; // its outcome is on the way, and ends the sampling
      take();
      // The next tick at its own time since the start, so ticks do not drift.
      const next = firstMs + everyMs * samples.length;
      sampler = setTimeout(tick, Math.max(0, next - (performance.now() - start)));
    }, firstMs);
  }
  const done = (result: OutageResult): OutageResult => {
    clearTimeout(sampler);
    return { ...result, ...(input.sample === undefined ? {} : { samples }), ...(input.deadPeerEvents ? { deadPeers } : {}) };
  };
  // Where the other end is configured too (the process-wide mode, or
  // configureOther), it dies as well, within moments of the watched one:
  // the outcome waits for it (until waitMs), so that its event is reported.
  const bothEnds = input.keepalive.with === 'register' || input.preloadRegister !== undefined || input.configureOther !== undefined;
  // (Not events.once: it rejects on the 'error' the other end dies with.)
  const otherClosed = new Promise<void>((resolve) => (bothEnds && !other.destroyed ? other.once('close', () => resolve()) : resolve()));
  const outcome = new Promise<OutageResult>((resolve) => {
    const timer = setTimeout(() => resolve(done({ outcome: 'open', afterMs: elapsed() })), input.waitMs);
    watched.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(done({ outcome: 'error', ...(error.code === undefined ? {} : { code: error.code }), afterMs: elapsed() }));
    });
    watched.once('close', () => {
      clearTimeout(timer);
      resolve(done({ outcome: 'closed', afterMs: elapsed() }));
    });
  });
  const result = await outcome;
  if (result.outcome !== 'open') await Promise.race([otherClosed, new Promise((r) => setTimeout(r, Math.max(0, input.waitMs - result.afterMs)))]);
  return result; // its deadPeers is the array the subscriber fills: the other end's event is in it now
}

main(JSON.parse(process.argv[2] ?? '{}') as OutageChildInput).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0); // the namespace, and everything in it, goes with us
  },
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
