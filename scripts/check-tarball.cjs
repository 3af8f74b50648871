// Checks a packed tarball before it is published, the way auditwheel checks
// a Python wheel: every prebuild a release must carry is there, no other
// native binary is, and each one needs no more than Node's own binaries do:
//   - Linux glibc: symbol versions at most GLIBC_2.28, GLIBCXX_3.4.21 and
//     CXXABI_1.3.9 (what Node 20, 22, 24 and 26's own x64 and arm64 binaries
//     need), and only the C and C++ runtime libraries;
//   - Linux musl: musl's libc.so and nothing else, no glibc versions;
//   - macOS: built for at most macOS 10.15 (x64) or 11.0 (arm64), the oldest
//     Node 20 runs on;
//   - each for the CPU its folder names.
// What the tarball must carry by default is what `npm pack` builds on Linux
// (package.json "prepack"); a release adds the macOS prebuilds that the
// macOS runners built (--also darwin-arm64,darwin-x64).
//
//   usage: node scripts/check-tarball.cjs <package.tgz> [--also <os-arch[-libc]>,...]
//   exit 0 when every check passes; 1 with one line per finding otherwise.
//
// Needs tar and readelf (binutils, which g++ brings); Mach-O files are read here.
'use strict';
const { execFileSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');

// Node's own floor (objdump -T on node-linux-{x64,arm64}@{20,22,24,26}'s bin/node).
const FLOOR = { GLIBC: '2.28', GLIBCXX: '3.4.21', CXXABI: '1.3.9' };
const GLIBC_LIBRARIES = new Set(['libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libpthread.so.0', 'libdl.so.2']);
// Node 20's oldest macOS (its BUILDING.md): 10.15 on x64; arm64 Macs start at 11.0.
const MACOS_FLOOR = { x64: [10, 15], arm64: [11, 0] };
const ELF_MACHINE = { x64: 'Advanced Micro Devices X86-64', arm64: 'AArch64' };
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c };
const DEFAULT_PREBUILDS = ['linux-x64-glibc', 'linux-x64-musl', 'linux-arm64-glibc', 'linux-arm64-musl'];

const args = process.argv.slice(2);
const tarball = args[0];
const also = args[1] === '--also' ? (args[2] ?? '').split(',').filter(Boolean) : [];
if (!tarball || (args.length > 1 && (args[1] !== '--also' || args.length !== 3 || also.length === 0))) {
  console.error('usage: node scripts/check-tarball.cjs <package.tgz> [--also <os-arch[-libc]>,...]');
  process.exit(2);
}

/** prebuilds/<os>-<arch>/tcp-keepalive[.<libc>].node, as prebuildify names it and lib/kernel/addon.ts loads it. */
const fileOf = (name) => {
  const [os, arch, libc] = name.split('-');
  return `package/prebuilds/${os}-${arch}/tcp-keepalive${libc ? `.${libc}` : ''}.node`;
};

const versionAbove = (version, floor) => {
  const a = version.split('.').map(Number);
  const b = floor.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return false;
};

/** What an ELF prebuild needs beyond its floor, in words (none: []). */
function elfFindings(file, arch, libc) {
  const findings = [];
  const header = execFileSync('readelf', ['-h', '-W', file], { encoding: 'utf8' });
  const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim();
  if (machine !== ELF_MACHINE[arch]) findings.push(`is for ${machine ?? 'an unknown machine'}, not ${arch}`);
  const dynamic = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
  const versions = execFileSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
  const required = [...versions.matchAll(/Name: ([A-Z]+)_([0-9.]+)/g)].map((m) => [m[1], m[2]]);
  if (libc === 'musl') {
    if (needed.join(' ') !== 'libc.so') findings.push(`needs ${needed.join(', ') || 'nothing'}, not only musl's libc.so`);
    for (const [name, version] of required) findings.push(`needs ${name}_${version}, a glibc version, in a musl build`);
  } else {
    for (const library of needed) if (!GLIBC_LIBRARIES.has(library)) findings.push(`needs ${library}, which Node does not bring`);
    for (const [name, version] of required) {
      if (!(name in FLOOR)) findings.push(`needs ${name}_${version}, which Node's own binaries do not`);
      else if (versionAbove(version, FLOOR[name])) findings.push(`needs ${name}_${version}, newer than Node's own floor ${name}_${FLOOR[name]}`);
    }
  }
  return findings;
}

/** The same for a Mach-O prebuild: its CPU and the oldest macOS it runs on. */
function machoFindings(file, arch) {
  const bytes = readFileSync(file);
  if (bytes.readUInt32LE(0) !== 0xfeedfacf) return ['is not a 64-bit Mach-O file'];
  const findings = [];
  const cpu = bytes.readUInt32LE(4);
  if (cpu !== MACHO_CPU[arch]) findings.push(`is for CPU type 0x${cpu.toString(16)}, not ${arch}`);
  // The load commands follow the 32-byte header: LC_BUILD_VERSION (0x32)
  // carries minos at +12, LC_VERSION_MIN_MACOSX (0x24) its version at +8,
  // each as xxxx.yy.zz in nibbles.
  let minos;
  for (let at = 32, i = 0; i < bytes.readUInt32LE(16); i++) {
    const command = bytes.readUInt32LE(at);
    if (command === 0x32) minos = bytes.readUInt32LE(at + 12);
    if (command === 0x24) minos = bytes.readUInt32LE(at + 8);
    at += bytes.readUInt32LE(at + 4);
  }
  if (minos === undefined) return [...findings, 'names no oldest macOS version'];
  const [major, minor] = [minos >>> 16, (minos >>> 8) & 0xff];
  const [floorMajor, floorMinor] = MACOS_FLOOR[arch];
  if (major > floorMajor || (major === floorMajor && minor > floorMinor)) {
    findings.push(`needs macOS ${major}.${minor}, newer than Node 20's ${floorMajor}.${floorMinor}`);
  }
  return findings;
}

const work = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-check-'));
try {
  const listed = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  execFileSync('tar', ['-xzf', tarball, '-C', work]);
  const expected = [...DEFAULT_PREBUILDS, ...also];
  const findings = [];
  for (const name of expected) if (!listed.includes(fileOf(name))) findings.push(`${fileOf(name)}: missing`);
  const expectedFiles = new Set(expected.map(fileOf));
  for (const entry of listed.filter((f) => f.endsWith('.node'))) {
    if (!expectedFiles.has(entry)) {
      findings.push(`${entry}: a native binary that no prebuild step built and loaded`);
      continue;
    }
    const [os, arch, libc] = expected.find((name) => fileOf(name) === entry).split('-');
    const file = path.join(work, entry);
    const found = os === 'darwin' ? machoFindings(file, arch) : elfFindings(file, arch, libc ?? 'glibc');
    for (const finding of found) findings.push(`${entry}: ${finding}`);
  }
  if (findings.length > 0) {
    for (const finding of findings) console.error(`check-tarball: ${finding}`);
    process.exitCode = 1;
  } else {
    console.log(`check-tarball: ${path.basename(tarball)}: ${expected.length} prebuilds (${expected.join(', ')}), each within Node's own floor`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
