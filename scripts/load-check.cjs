// Proves that a prebuilt addon loads and works in the runtime that runs this
// script (for a cross-built prebuild: that architecture's real Node under
// emulation; for a musl one, Bun built for musl): node-gyp-build must choose
// prebuilds/<platform>-<arch>/tcp-keepalive.<libc>.node, libc as it decides
// it (LIBC, else musl where /etc/alpine-release exists, else glibc), and the
// raw binding must set all five options on a real loopback connection, which
// python3 then reads back through the same fd (another process, another
// socket module, the same kernel socket), and read them back itself.
// On macOS (the release's darwin prebuilds, each checked on its own runner)
// the prebuild is prebuilds/darwin-<arch>/tcp-keepalive.node (no C library
// in its name, as lib/kernel/addon.ts looks it up), python3 reads the
// options by XNU's numbers (its socket module names few of them), the user
// timeout is TCP_RXT_CONNDROPTIME in whole seconds, and the live state is
// the five fields of TCP_CONNECTION_INFO.
//   usage: <node or bun> scripts/load-check.cjs <package dir>
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const dir = path.resolve(process.argv[2] || '.');
const load = require(require.resolve('node-gyp-build', { paths: [dir, __dirname] }));
const darwin = process.platform === 'darwin';
const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const file = load.resolve(dir);
const expected = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, darwin ? 'tcp-keepalive.node' : `tcp-keepalive.${libc}.node`);
assert.strictEqual(file, expected, 'node-gyp-build chose another file than the prebuild');
const binding = load(dir);
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;

// XNU's <netinet/tcp.h>: TCP_KEEPALIVE 0x10 (the idle time, s), TCP_KEEPINTVL
// 0x101, TCP_KEEPCNT 0x102, TCP_RXT_CONNDROPTIME 0x80 (s).
const OPTIONS = darwin
  ? '0x10, 0x101, 0x102, 0x80'
  : 'socket.TCP_KEEPIDLE, socket.TCP_KEEPINTVL, socket.TCP_KEEPCNT, socket.TCP_USER_TIMEOUT';
const PY_READ = `
import json, socket
s = socket.socket(fileno=3)
g = s.getsockopt
print(json.dumps([g(socket.SOL_SOCKET, socket.SO_KEEPALIVE)] + [g(socket.IPPROTO_TCP, o) for o in (${OPTIONS})]))
s.detach()
`;
// 41000 ms: Linux's TCP_USER_TIMEOUT holds milliseconds, macOS's TCP_RXT_CONNDROPTIME seconds.
const KERNEL_HOLDS = [1, 37, 7, 4, darwin ? 41 : 41000];
// python3 is a host program: the variables that load this runtime's own
// libraries (scripts/bun-musl.sh) are not for it.
const env = { ...process.env };
delete env.LD_PRELOAD;
delete env.LD_LIBRARY_PATH;

// TCP_INFO answers of every length a kernel gives are read: a field the
// answer reached is a number, the others NaN (absent), never an error. The
// fields' ends in the kernel's struct tcp_info (include/uapi/linux/tcp.h), in
// the binding's order (src/keepalive.h TcpInfoField). Under qemu-user
// (TCP_INFO_ANSWER_BYTES=4: it passes TCP-level options as one int) even
// the whole answer is four bytes.
// state, rtt, rttvar, rto, probes, backoff, retransmits, total_retrans,
// unacked, last_data_sent, last_data_recv, last_ack_recv:
const FIELD_ENDS = [1, 72, 76, 12, 4, 5, 3, 104, 28, 48, 56, 60];
// XNU's TCP_CONNECTION_INFO: the state, the smoothed RTT, its variance, the
// retransmission timeout and the retransmitted packets (src/keepalive_darwin.cc).
const DARWIN_FIELDS = [true, true, true, true, false, false, false, true, false, false, false, false];
function checkTcpInfo(fd) {
  if (darwin) {
    assert.strictEqual(binding.tcpInfo(fd), undefined, 'tcpInfo(fd)');
    assert.deepStrictEqual(Array.from(binding.tcpInfoSlots, (v) => !Number.isNaN(v)), DARWIN_FIELDS, 'the fields TCP_CONNECTION_INFO reports');
    assert.strictEqual(binding.tcpStateNames[binding.tcpInfoSlots[0]], 'ESTABLISHED', 'the state of a connected socket');
    return;
  }
  const whole = Number(process.env.TCP_INFO_ANSWER_BYTES) || Infinity;
  for (const bytes of [4, 5, 60, 104, undefined]) {
    assert.strictEqual(binding.tcpInfo(fd, bytes), undefined, `tcpInfo(fd, ${bytes})`);
    const answered = Math.min(bytes ?? Infinity, whole);
    const present = Array.from(binding.tcpInfoSlots, (v) => !Number.isNaN(v));
    assert.deepStrictEqual(present, FIELD_ENDS.map((end) => end <= answered), `the fields of a ${answered}-byte answer`);
    assert.strictEqual(typeof binding.tcpStateNames[binding.tcpInfoSlots[0]], 'string', 'a TCP state the kernel named');
  }
}

const server = net.createServer((accepted) => accepted.destroy()).listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    const fd = client._handle.fd;
    binding.slots.set([37, 7, 4, 41000]);
    assert.strictEqual(binding.enable(fd), undefined);
    const python = spawnSync('python3', ['-c', PY_READ], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8', env });
    assert.strictEqual(python.status, 0, `python3: ${python.stderr}${python.error ?? ''}`);
    assert.deepStrictEqual(JSON.parse(python.stdout), KERNEL_HOLDS, 'python3 reads back what the addon set');
    assert.strictEqual(binding.read(fd), undefined);
    assert.deepStrictEqual(Array.from(binding.slots), [1, 37, 7, 4, 41000]);
    checkTcpInfo(fd);
    client.destroy();
    server.close();
    const live = darwin ? 'TCP_CONNECTION_INFO read' : `TCP_INFO answers of 4 to ${process.env.TCP_INFO_ANSWER_BYTES || 'all'} bytes read`;
    console.log(`load-check: ${path.relative(dir, file)} loaded in ${runtime} ${process.arch}, all five options set, read back by python3 and by the addon, ${live}`);
  });
});
