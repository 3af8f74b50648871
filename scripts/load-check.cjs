// Proves that a prebuilt addon loads and works in the runtime that runs this
// script (for a cross-built prebuild: that architecture's real Node under
// emulation; for a musl one, Bun built for musl): node-gyp-build must choose
// prebuilds/<platform>-<arch>/tcp-keepalive.<libc>.node, libc as it decides
// it (LIBC, else musl where /etc/alpine-release exists, else glibc), and the
// raw binding must set all five options on a real loopback connection, which
// python3 then reads back through the same fd (another process, another
// socket module, the same kernel socket), and read them back itself.
//   usage: <node or bun> scripts/load-check.cjs <package dir>
const assert = require('node:assert');
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const dir = path.resolve(process.argv[2] || '.');
const load = require(require.resolve('node-gyp-build', { paths: [dir, __dirname] }));
const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const file = load.resolve(dir);
const expected = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, `tcp-keepalive.${libc}.node`);
assert.strictEqual(file, expected, 'node-gyp-build chose another file than the prebuild');
const binding = load(dir);
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;

const PY_READ = `
import json, socket
s = socket.socket(fileno=3)
g = s.getsockopt
print(json.dumps([g(socket.SOL_SOCKET, socket.SO_KEEPALIVE), g(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
  g(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL), g(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
  g(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)]))
s.detach()
`;
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
function checkTcpInfo(fd) {
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
    assert.deepStrictEqual(JSON.parse(python.stdout), [1, 37, 7, 4, 41000], 'python3 reads back what the addon set');
    assert.strictEqual(binding.read(fd), undefined);
    assert.deepStrictEqual(Array.from(binding.slots), [1, 37, 7, 4, 41000]);
    checkTcpInfo(fd);
    client.destroy();
    server.close();
    console.log(`load-check: ${path.relative(dir, file)} loaded in ${runtime} ${process.arch}, all five options set, read back by python3 and by the addon, TCP_INFO answers of 4 to ${process.env.TCP_INFO_ANSWER_BYTES || 'all'} bytes read`);
  });
});
