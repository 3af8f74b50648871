// The path every platform without a port takes, built and run on Linux:
// binding.gyp's keepalive_platform variable selects
// src/keepalive_unsupported.cc. And systemDefaults where the sysctls are not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');
import { have, runs } from './helpers';

const root = path.join(__dirname, '..');
let copy: string;

describe('a build for a platform without a port', () => {
  beforeAll(() => {
    copy = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-unsupported-'));
    for (const entry of ['package.json', 'binding.gyp', 'src', 'lib', 'tsconfig.json', 'tsconfig.build.json']) {
      cpSync(path.join(root, entry), path.join(copy, entry), { recursive: true });
    }
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
    const nodeGyp = path.join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    execFileSync(process.execPath, [nodeGyp, 'rebuild', '--', '-Dkeepalive_platform=none'], { cwd: copy, stdio: 'pipe' });
    execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: copy, stdio: 'pipe' });
  }, 120_000);
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('says so: supported is all false, every call throws ERR_KEEPALIVE_UNSUPPORTED naming the options', () => {
    const out = JSON.parse(execFileSync(process.execPath, [path.join(__dirname, 'fixtures', 'unsupported.cjs'), copy], { encoding: 'utf8' }));
    expect(out.supported).toEqual({ enable: false, idle: false, interval: false, count: false, userTimeout: false });
    const message = `SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT cannot be set or read on this platform (platform: ${process.platform})`;
    for (const call of ['set', 'disable', 'get']) expect(out[call]).toEqual({ code: 'ERR_KEEPALIVE_UNSUPPORTED', message });
    // The raw binding, called anyway, makes no syscall and reports ENOSYS.
    expect(out.raw).toEqual({ errno: -38, option: 1, syscall: 'setsockopt', notTcp: false });
    // planKeepAlive is arithmetic: it works everywhere.
    expect(out.plan).toEqual({ enable: true, idle: 15_000, interval: 3_000, count: 5, userTimeout: 30_000 });
  });
});

describe.runIf(have('unshare', runs('unshare', ['--version']), 'install util-linux'))('systemDefaults without the sysctls', () => {
  it('throws ERR_KEEPALIVE_UNSUPPORTED (a mount namespace hides /proc/sys/net/ipv4)', () => {
    const script = `try { require(${JSON.stringify(path.join(root, 'dist'))}).systemDefaults(); console.log('no error') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`;
    const out = execFileSync(
      'unshare',
      ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs none /proc/sys/net/ipv4 && exec "$0" -e "$1"', process.execPath, script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({
      code: 'ERR_KEEPALIVE_UNSUPPORTED',
      message: `systemDefaults needs /proc/sys/net/ipv4/tcp_keepalive_time, which this system does not have (platform: ${process.platform})`,
    });
  });
});
