// Proves that a prebuilt addon loads and works in the Node that runs this
// script (for a cross-built prebuild: that architecture's real Node, under
// emulation): node-gyp-build must choose prebuilds/<platform>-<arch>/, and the
// raw binding must round-trip all five options on a real loopback
// connection, read back through the kernel.
//   usage: node scripts/load-check.cjs <package dir>
const assert = require('node:assert');
const net = require('node:net');
const path = require('node:path');

const dir = path.resolve(process.argv[2] || '.');
const load = require(require.resolve('node-gyp-build', { paths: [dir, __dirname] }));
const file = load.resolve(dir);
const expected = path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'tcp-keepalive.glibc.node');
assert.strictEqual(file, expected, 'node-gyp-build chose another file than the prebuild');
const binding = load(dir);

const server = net.createServer((accepted) => accepted.destroy()).listen(0, '127.0.0.1', () => {
  const client = net.connect(server.address().port, '127.0.0.1', () => {
    const fd = client._handle.fd;
    binding.slots.set([37, 7, 4, 41000]);
    assert.strictEqual(binding.enable(fd), undefined);
    assert.strictEqual(binding.read(fd), undefined);
    assert.deepStrictEqual(Array.from(binding.slots), [1, 37, 7, 4, 41000]);
    client.destroy();
    server.close();
    console.log(`load-check: ${path.relative(dir, file)} loaded in Node ${process.version} ${process.arch}, options round-tripped`);
  });
});
