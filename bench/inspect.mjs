// The inspect part of `npm run bench`: how long `tcp-keepalive inspect` takes
// on a process holding many connections. A holder process opens CONNECTIONS
// loopback connections to a server in a second process (so each holds its
// own fds and the network namespace's table holds both ends, as on a busy
// host); this process then inspects the holder RUNS times, after one untimed
// run, and checks each run found every connection with keepalive as the
// holder set it.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);

// The holder and the server are this same file, run with a role.
const [role, countArgument] = process.argv.slice(2);
if (role === 'server') {
  const server = net.createServer((socket) => socket.on('error', () => {}));
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else if (role === 'holder') {
  const { setKeepAlive } = createRequire(here)('..');
  const count = Number(countArgument);
  process.once('message', async (port) => {
    const sockets = [];
    // In batches: thousands of concurrent connects overflow the listener's accept queue.
    for (let i = 0; i < count; i += 500) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 500); j++) {
        const socket = net.connect(port, '127.0.0.1');
        setKeepAlive(socket, { idle: 30_000, interval: 5_000, count: 4 });
        sockets.push(socket);
        batch.push(once(socket, 'connect'));
      }
      await Promise.all(batch);
    }
    process.send('ready');
  });
  process.on('disconnect', () => process.exit(0));
}

/** Times inspectProcess on a process holding `connections` connections; ms per run. */
export async function inspectBench(root, connections, runs) {
  const { inspectProcess } = createRequire(here)(root);
  const server = fork(here, ['server']);
  const [port] = await once(server, 'message');
  const holder = fork(here, ['holder', String(connections)]);
  holder.send(port);
  await once(holder, 'message');
  const ms = [];
  try {
    for (let run = -1; run < runs; run++) {
      const start = process.hrtime.bigint();
      const inspection = inspectProcess(holder.pid);
      const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      const held = inspection.sockets.filter((s) => s.state === 'ESTABLISHED' && s.keepAlive.idle === 30_000 && s.keepAlive.count === 4);
      if (held.length !== connections) throw new Error(`inspect found ${held.length} of the holder's ${connections} connections`);
      if (run >= 0) ms.push(elapsed);
    }
  } finally {
    for (const child of [holder, server]) {
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    }
  }
  return { connections, runs: ms, median: [...ms].sort((a, b) => a - b)[ms.length >> 1] };
}
