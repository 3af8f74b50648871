// The inspect part of `npm run bench`: how long `tcp-keepalive inspect` takes
// on a process holding many connections. A holder process opens CONNECTIONS
// loopback connections to a server in a second process (so each holds its
// own fds and the network namespace holds both ends, as on a busy host);
// this process then inspects the holder RUNS times, after one untimed run,
// and checks each run found every connection with keepalive as the holder set
// it. BYSTANDERS more connections, held by other processes that are not
// inspected, fill the network namespace as other services would on a busy
// host: what an inspection costs should depend on the process, not on them.
//
// Alone (npm run bench runs it with the others, without bystanders):
//
//   node bench/inspect.mjs [--connections 10000] [--runs 7] [--bystanders 0] [--against <package dir>]
//
// --against times another build of the package (a checkout of an earlier
// commit, compiled and built) on the same processes, the two taking turns
// run by run, so that both see the same machine.
//
// Bystanders come in pairs of processes (a server and a client) of at most
// GROUP connections each, so that no process needs more fds than a common
// limit allows; 500,000 bystanders (a million sockets) take about 70 processes
// and several GiB. Run that in a network namespace of its own, so that the
// host's other users do not share its table:
//
//   sudo unshare --net sh -c 'ip link set lo up && node bench/inspect.mjs --bystanders 500000'
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(import.meta.url);
const GROUP = 15_000;
const ROLES = ['server', 'holder', 'bystander'];

// The processes are this same file, run with a role.
const [role, countArgument] = process.argv.slice(2);
if (role === 'server') {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else if (role === 'holder' || role === 'bystander') {
  const { setKeepAlive } = createRequire(here)('..');
  const count = Number(countArgument);
  process.once('message', async (port) => {
    const sockets = [];
    // In batches: thousands of concurrent connects overflow the listener's accept queue.
    for (let i = 0; i < count; i += 500) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 500); j++) {
        const socket = net.connect(port, '127.0.0.1');
        if (role === 'holder') setKeepAlive(socket, { idle: 30_000, interval: 5_000, count: 4 });
        sockets.push(socket);
        batch.push(once(socket, 'connect'));
      }
      await Promise.all(batch);
    }
    process.send('ready');
  });
  process.on('disconnect', () => process.exit(0));
}

/**
 * Times inspectProcess on a process holding `connections` connections, with
 * `bystanders` more in the network namespace; ms per run. The builds in
 * `against` (package dirs) take turns with `root`'s on the same processes.
 */
export async function inspectBench(root, connections, runs, bystanders = 0, against = []) {
  const builds = [root, ...against].map((dir) => createRequire(here)(dir).inspectProcess);
  const children = [];
  // A child that dies before it is ready (out of fds, say) fails the bench rather than hanging it.
  const ready = (child) =>
    Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => Promise.reject(new Error(`bench/inspect.mjs: a child exited (${code}) before it was ready`))),
    ]);
  // A server and the process that connects to it.
  const pair = async (kind, count) => {
    const server = fork(here, ['server']);
    children.push(server);
    const [port] = await ready(server);
    const client = fork(here, [kind, String(count)]);
    children.push(client);
    client.send(port);
    await ready(client);
    return client;
  };
  const ms = builds.map(() => []);
  try {
    for (let left = bystanders; left > 0; left -= GROUP) await pair('bystander', Math.min(left, GROUP));
    const holder = await pair('holder', connections);
    for (let run = -1; run < runs; run++) {
      builds.forEach((inspectProcess, i) => {
        const started = process.hrtime.bigint();
        const inspection = inspectProcess(holder.pid);
        const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
        const held = inspection.sockets.filter((s) => s.state === 'ESTABLISHED' && s.keepAlive.idle === 30_000 && s.keepAlive.count === 4);
        if (held.length !== connections) throw new Error(`inspect found ${held.length} of the holder's ${connections} connections`);
        if (run >= 0) ms[i].push(elapsed);
      });
    }
  } finally {
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    }
  }
  const median = (all) => [...all].sort((a, b) => a - b)[all.length >> 1];
  return {
    connections,
    bystanders,
    runs: ms[0],
    median: median(ms[0]),
    ...(against.length > 0 && { against: against.map((dir, i) => ({ root: dir, runs: ms[i + 1], median: median(ms[i + 1]) })) }),
  };
}

if (process.argv[1] === here && !ROLES.includes(role)) {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '10000' },
      runs: { type: 'string', default: '7' },
      bystanders: { type: 'string', default: '0' },
      against: { type: 'string', multiple: true, default: [] },
    },
  });
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = await inspectBench(root, Number(values.connections), Math.max(1, Number(values.runs)), Number(values.bystanders), values.against);
  const round = (v) => Math.round(v);
  console.log(
    `inspect: a process holding ${result.connections.toLocaleString('en')} connections, ${result.bystanders.toLocaleString('en')} more connections in its network namespace`,
  );
  for (const { root: dir, runs, median } of [{ root, ...result }, ...(result.against ?? [])]) {
    console.log(`  ${dir}: ${runs.length} runs: ${runs.map(round).join(', ')} ms; median ${round(median)} ms`);
  }
}
