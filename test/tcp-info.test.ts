// getTcpInfo: the kernel's live view of a connection, on real loopback
// sockets. Its shape, its targets and errors (those of getKeepAlive), and a
// steady-state reading compared field by field with python3's own
// getsockopt(TCP_INFO) on the same fd, unpacked from the kernel's struct
// tcp_info. What it shows while a peer dies is in tcp-info-outage.test.ts.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import net = require('node:net');
import path = require('node:path');
import tls = require('node:tls');
import { Worker } from 'node:worker_threads';
import { getKeepAlive, getTcpInfo, setKeepAlive, type TcpInfo } from '../lib';
import { binding as loaded } from '../lib/kernel';
import { fromFailure, tcpInfoReader } from '../lib/kernel/addon';
import { closeAll, connectedPair, haveOpenssl, havePython, linuxOnly, selfSignedCert, thrownBy, unixSocketPath } from './helpers';

const binding = loaded!;
// Twelve fields, the states, the errnos and python3's unpacking are Linux's struct
// tcp_info; macOS's TCP_CONNECTION_INFO reports five fields, other numbers.
const linux = linuxOnly("it reads Linux's struct tcp_info (macOS reports five of its fields)");
const python = linux && havePython();
const openssl = linux && haveOpenssl();

const KEYS = [
  'state',
  'smoothedRtt',
  'rttVariance',
  'retransmitTimeout',
  'unansweredProbes',
  'backoff',
  'retransmits',
  'totalRetransmits',
  'unackedSegments',
  'sinceLastDataSent',
  'sinceLastDataReceived',
  'sinceLastAckReceived',
];

const fdOf = (s: net.Socket | net.Server) => (s as unknown as { _handle: { fd: number } })._handle.fd;

describe.runIf(linux)('getTcpInfo on a connection', () => {
  it('returns the same keys in the same order, numbers in ms, the state as a string', async () => {
    const pair = await connectedPair();
    try {
      for (const socket of [pair.client, pair.accepted]) {
        const info = getTcpInfo(socket);
        expect(Object.keys(info)).toEqual(KEYS);
        expect(info.state).toBe('ESTABLISHED');
        for (const key of KEYS.slice(1)) {
          const value = info[key as keyof TcpInfo] as number;
          expect(typeof value, key).toBe('number');
          expect(value, key).toBeGreaterThanOrEqual(0);
        }
        // Loopback: a round trip well under a millisecond, the RTO at Linux's 200 ms floor plus it.
        expect(info.smoothedRtt).toBeLessThan(5);
        expect(info.retransmitTimeout).toBeGreaterThanOrEqual(200);
        expect(info.retransmitTimeout).toBeLessThan(1000);
        expect(info).toMatchObject({ unansweredProbes: 0, backoff: 0, retransmits: 0, unackedSegments: 0 });
      }
    } finally {
      await pair.close();
    }
  });

  it('every result has one hidden class (V8 %HaveSameMap, in a child started with --allow-natives-syntax)', () => {
    const script = `
      const net = require('node:net');
      const { getTcpInfo } = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const client = net.connect(server.address().port, '127.0.0.1', () => {
          const a = getTcpInfo(client), b = getTcpInfo(server), c = getTcpInfo(client);
          console.log(JSON.stringify([%HaveSameMap(a, b), %HaveSameMap(a, c)]));
          client.destroy(); server.close();
        });
      });`;
    const out = execFileSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([true, true]);
  });

  it('the times since data was sent and received grow while the connection is idle, and restart with data', async () => {
    const pair = await connectedPair();
    try {
      pair.client.write('ping');
      await once(pair.accepted, 'data');
      await new Promise((r) => setTimeout(r, 300));
      const idle = getTcpInfo(pair.accepted);
      expect(idle.sinceLastDataReceived).toBeGreaterThanOrEqual(250);
      expect(idle.sinceLastDataReceived).toBeLessThan(2000);
      pair.client.write('pong');
      await once(pair.accepted, 'data');
      const fresh = getTcpInfo(pair.accepted);
      expect(fresh.sinceLastDataReceived).toBeLessThan(idle.sinceLastDataReceived);
      expect(getTcpInfo(pair.client).sinceLastDataSent).toBeLessThan(idle.sinceLastDataReceived);
    } finally {
      await pair.close();
    }
  });

  it.runIf(openssl)('reads TLS sockets, both sides, on their TCP socket', async () => {
    const { key, cert } = selfSignedCert();
    const server = tls.createServer({ key, cert });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'secureConnection') as Promise<[tls.TLSSocket]>;
    const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false });
    await once(client, 'secureConnect');
    const [peer] = await accepted;
    try {
      expect(getTcpInfo(client).state).toBe('ESTABLISHED');
      expect(getTcpInfo(peer).state).toBe('ESTABLISHED');
      expect(getTcpInfo(server).state).toBe('LISTEN');
    } finally {
      await closeAll([client, peer], server);
    }
  });

  it('works in a worker thread, on its own addon instance', async () => {
    const worker = new Worker(
      `const net = require('node:net');
       const { parentPort } = require('node:worker_threads');
       const { getTcpInfo } = require(${JSON.stringify(path.join(__dirname, '..', 'dist'))});
       const server = net.createServer().listen(0, '127.0.0.1', () => {
         const client = net.connect(server.address().port, '127.0.0.1', () => {
           parentPort.postMessage(getTcpInfo(client).state);
           client.destroy(); server.close();
         });
       });`,
      { eval: true },
    );
    const [state] = await once(worker, 'message');
    expect(state).toBe('ESTABLISHED');
    await once(worker, 'exit');
  });
});

// Where each field ends in the kernel's struct tcp_info (include/uapi/linux/tcp.h):
// an answer of fewer bytes does not hold it.
const FIELD_ENDS: Record<string, number> = {
  state: 1, // tcpi_state, u8 at 0
  retransmits: 3, // u8 at 2
  unansweredProbes: 4, // tcpi_probes, u8 at 3
  backoff: 5, // u8 at 4
  retransmitTimeout: 12, // tcpi_rto, u32 at 8
  unackedSegments: 28, // u32 at 24
  sinceLastDataSent: 48, // tcpi_last_data_sent, u32 at 44
  sinceLastDataReceived: 56, // tcpi_last_data_recv, u32 at 52
  sinceLastAckReceived: 60, // tcpi_last_ack_recv, u32 at 56
  smoothedRtt: 72, // tcpi_rtt, u32 at 68
  rttVariance: 76, // tcpi_rttvar, u32 at 72
  totalRetransmits: 104, // tcpi_total_retrans, u32 at 100: the end of glibc's struct
};

describe.runIf(linux)('getTcpInfo from a shorter TCP_INFO answer, as older kernels and emulators give', () => {
  // The kernel copies as much of its struct as the caller has room for; the
  // binding's maxBytes asks for less, which is what an older kernel (or
  // qemu-user, which passes four bytes) answers. The musl build, whose
  // header's struct is 232 bytes, is checked the same way when it is built
  // (scripts/load-check.cjs, in Bun for musl and under qemu).
  it('every field the answer reached is read, the others are undefined, and no error', async () => {
    const pair = await connectedPair();
    try {
      const fd = fdOf(pair.client);
      const read = tcpInfoReader(binding);
      for (const bytes of [1, 2, 3, 4, 5, 11, 12, 28, 47, 48, 56, 60, 72, 76, 103, 104, 4096]) {
        expect(binding.tcpInfo(fd, bytes), `${bytes} bytes`).toBeUndefined();
        const info = read(binding.tcpInfoSlots, 0);
        expect(Object.keys(info)).toEqual(KEYS);
        for (const key of KEYS) {
          const value = info[key as keyof TcpInfo];
          if (FIELD_ENDS[key]! <= bytes) expect(value, `${key} in ${bytes} bytes`).not.toBeUndefined();
          else expect(value, `${key} in ${bytes} bytes`).toBeUndefined();
        }
        expect(info.state).toBe('ESTABLISHED');
      }
      // Without maxBytes the whole answer comes back again.
      expect(binding.tcpInfo(fd)).toBeUndefined();
      expect(Object.values(read(binding.tcpInfoSlots, 0)).filter((v) => v === undefined)).toEqual([]);
    } finally {
      await pair.close();
    }
  });

  it('a maxBytes that is not a positive integer is refused before any syscall', async () => {
    const pair = await connectedPair();
    try {
      for (const bad of [0, -1, 1.5, Number.NaN, '4']) {
        expect(() => binding.tcpInfo(fdOf(pair.client), bad as number)).toThrow(/maxBytes must be/);
      }
    } finally {
      await pair.close();
    }
  });
});

describe.runIf(linux)('getTcpInfo on a listening server', () => {
  it('state LISTEN, and in unackedSegments the connections waiting to be accepted', async () => {
    const server = net.createServer((s) => s.destroy());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      expect(getTcpInfo(server)).toMatchObject({ state: 'LISTEN', unackedSegments: 0 });
      // While this thread is blocked in spawnSync, Node accepts nothing: the
      // kernel completes python's three handshakes into the accept queue.
      const port = (server.address() as net.AddressInfo).port;
      if (python) {
        spawnSync('python3', ['-c', `import socket\nfor _ in range(3): socket.create_connection(("127.0.0.1", ${port})).detach()`]);
        expect(getTcpInfo(server)).toMatchObject({ state: 'LISTEN', unackedSegments: 3 });
      }
    } finally {
      await closeAll([], server);
    }
  });
});

describe.runIf(linux)('getTcpInfo: the targets and errors of getKeepAlive', () => {
  it('what is neither a socket nor a server: ERR_INVALID_ARG_TYPE, as getKeepAlive', () => {
    for (const value of [undefined, null, 42, 'socket', {}, { _handle: { fd: 0 } }]) {
      const error = thrownBy(() => getTcpInfo(value as unknown as net.Socket));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe('ERR_INVALID_ARG_TYPE');
      expect(error.message).toBe(thrownBy(() => getKeepAlive(value as unknown as net.Socket)).message);
    }
  });

  it('a socket still connecting: ERR_SOCKET_NOT_CONNECTED; closed: ERR_SOCKET_CLOSED; a server not listening: ERR_SERVER_NOT_LISTENING', async () => {
    const server = net.createServer();
    expect(thrownBy(() => getTcpInfo(server)).code).toBe('ERR_SERVER_NOT_LISTENING');
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted: net.Socket[] = [];
    server.on('connection', (s) => accepted.push(s));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    expect(thrownBy(() => getTcpInfo(client)).code).toBe('ERR_SOCKET_NOT_CONNECTED');
    expect(thrownBy(() => getTcpInfo(new net.Socket())).code).toBe('ERR_SOCKET_NOT_CONNECTED');
    await once(client, 'connect');
    expect(getTcpInfo(client).state).toBe('ESTABLISHED');
    client.destroy();
    expect(thrownBy(() => getTcpInfo(client)).code).toBe('ERR_SOCKET_CLOSED');
    await closeAll(accepted, server);
    expect(thrownBy(() => getTcpInfo(server)).code).toBe('ERR_SERVER_NOT_LISTENING');
  });

  it('a Unix-domain socket: ERR_SOCKET_NOT_TCP, from the kernel', async () => {
    const file = unixSocketPath();
    const server = net.createServer().listen(file);
    await once(server, 'listening');
    const client = net.connect(file);
    await once(client, 'connect');
    try {
      for (const target of [client, server]) {
        const error = thrownBy(() => getTcpInfo(target));
        expect(error.code).toBe('ERR_SOCKET_NOT_TCP');
        // EOPNOTSUPP (95), which Node names ENOTSUP.
        expect(error.message).toMatch(/^The socket is not a TCP socket \(the kernel answered ENOTSUP to TCP_INFO\)/);
        expect(error.cause).toMatchObject({ errno: -95, syscall: 'getsockopt', option: 'TCP_INFO' });
      }
    } finally {
      await closeAll([client], server);
    }
  });

  it('a kernel failure keeps the shape of a Node system error (a real EBADF), and writes nothing', () => {
    const before = [...binding.tcpInfoSlots];
    // No fd this high is open in this process.
    const failure = binding.tcpInfo(2_147_483_647);
    expect(failure).toEqual({ errno: -9, option: 6, syscall: 'getsockopt', notTcp: false });
    expect(fromFailure(failure!, binding.optionNames)).toMatchObject({ message: 'getsockopt EBADF', code: 'EBADF', errno: -9, syscall: 'getsockopt', option: 'TCP_INFO' });
    expect([...binding.tcpInfoSlots]).toEqual(before);
  });

  it('a file that is not a socket: the kernel says so (ENOTSOCK), as for getKeepAlive', () => {
    const fd = openSync(__filename, 'r');
    try {
      const failure = binding.tcpInfo(fd)!;
      expect(failure).toEqual({ errno: -88, option: 6, syscall: 'getsockopt', notTcp: true });
      expect(fromFailure(failure, binding.optionNames)).toMatchObject({ code: 'ERR_SOCKET_NOT_TCP', cause: { code: 'ENOTSOCK' } });
    } finally {
      closeSync(fd);
    }
  });
});

// The kernel's struct tcp_info (include/uapi/linux/tcp.h): eight u8 (the
// last two hold bit fields), then u32s from tcpi_rto to tcpi_total_retrans.
const PY_TCP_INFO = `
import json, socket, struct
s = socket.socket(fileno=3)
try:
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
finally:
    s.detach()
names = ["state", "ca_state", "retransmits", "probes", "backoff", "options", "wscale", "flags",
         "rto", "ato", "snd_mss", "rcv_mss", "unacked", "sacked", "lost", "retrans", "fackets",
         "last_data_sent", "last_ack_sent", "last_data_recv", "last_ack_recv", "pmtu", "rcv_ssthresh",
         "rtt", "rttvar", "snd_ssthresh", "snd_cwnd", "advmss", "reordering", "rcv_rtt", "rcv_space", "total_retrans"]
print(json.dumps(dict(zip(names, struct.unpack_from("=8B24I", raw)))))
`;
// <linux/tcp.h>'s numbering, written out here, independently of the addon's table.
const LINUX_STATES: Record<number, string> = { 1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECEIVED', 4: 'FIN_WAIT_1', 5: 'FIN_WAIT_2', 6: 'TIME_WAIT', 7: 'CLOSED', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING' };

async function pythonTcpInfo(fd: number): Promise<Record<string, number>> {
  const child = spawn('python3', ['-c', PY_TCP_INFO], { stdio: ['ignore', 'pipe', 'pipe', fd] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  const [status] = (await once(child, 'close')) as [number];
  if (status !== 0) throw new Error(`python3 exited ${status}`);
  return JSON.parse(out) as Record<string, number>;
}

describe.runIf(python)('getTcpInfo against an independent reader', () => {
  it("a steady-state reading, field by field, equals python3's getsockopt(TCP_INFO) on the same fd (times since: between the two readings around it)", async () => {
    const pair = await connectedPair();
    try {
      // Some traffic both ways, then quiet: the RTT and counters stay put.
      setKeepAlive(pair.client, { idle: 30_000, interval: 5_000, count: 4 });
      for (let i = 0; i < 5; i++) {
        pair.client.write('x'.repeat(1000));
        await once(pair.accepted, 'data');
        pair.accepted.write('y');
        await once(pair.client, 'data');
      }
      await new Promise((r) => setTimeout(r, 200));
      for (const socket of [pair.client, pair.accepted]) {
        const before = getTcpInfo(socket);
        const py = await pythonTcpInfo(fdOf(socket));
        const after = getTcpInfo(socket);
        expect(before.state).toBe(LINUX_STATES[py.state!]);
        const exact: Array<[keyof TcpInfo, number]> = [
          ['smoothedRtt', py.rtt! / 1000],
          ['rttVariance', py.rttvar! / 1000],
          ['retransmitTimeout', py.rto! / 1000],
          ['unansweredProbes', py.probes!],
          ['backoff', py.backoff!],
          ['retransmits', py.retransmits!],
          ['totalRetransmits', py.total_retrans!],
          ['unackedSegments', py.unacked!],
        ];
        for (const [key, value] of exact) {
          expect(before[key], key).toBe(value);
          expect(after[key], key).toBe(value);
        }
        const since: Array<[keyof TcpInfo, number]> = [
          ['sinceLastDataSent', py.last_data_sent!],
          ['sinceLastDataReceived', py.last_data_recv!],
          ['sinceLastAckReceived', py.last_ack_recv!],
        ];
        for (const [key, value] of since) {
          expect(value, key).toBeGreaterThanOrEqual(before[key] as number);
          expect(value, key).toBeLessThanOrEqual(after[key] as number);
        }
        expect(before.smoothedRtt).toBeGreaterThan(0);
      }
    } finally {
      await pair.close();
    }
  });
});
