// The published package works with no compiler: pack it (prepack compiles the
// TypeScript and makes the prebuilds: this machine's; linux-arm64's, which
// scripts/prebuild-arm64.sh cross-builds and load-checks under qemu; and the
// musl ones for linux-x64 and linux-arm64, which scripts/prebuild-musl.sh
// builds with zig and load-checks in Bun for musl), install the tarball into
// fresh projects, and use it from there: with --ignore-scripts; as on Alpine
// (musl, no compiler, the install step run by a musl runtime); where no
// prebuild fits and nothing can compile; with the strict switch; with
// TCP_KEEPALIVE set during a source build. scripts/test-arm64.sh tests the
// arm64 prebuild further. Packing is slow (the prebuilds): it is done once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net = require('node:net');
import { haveNamespaces, linuxX64Only } from './helpers';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');

const root = path.join(__dirname, '..');
// npm pack's prepack builds the Linux prebuilds: arm64 with Debian's cross
// compiler on an x64 host, musl with npm's zig for Linux x64.
const packs = linuxX64Only("npm pack builds the Linux prebuilds with Debian's x64 cross compiler and npm's zig for Linux x64");
let work: string;
let consumer: string;
let tarball: string;

const packageJson = () =>
  JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

/** node-gyp-build, the prebuild loader of prebuildify's users: the prebuilds must be named so that it finds them too. */
const NODE_GYP_BUILD = path.join(root, 'node_modules', 'node-gyp-build');

/** This platform as node-gyp-build matches prebuilds and the library names it (LIBC unset: glibc here). */
const PLATFORM = `${process.platform}-${process.arch}-glibc`;

/** A configuration with every option, and what the kernel then holds (python3 reads it). */
const FULL = { idle: 30_000, interval: 5_000, count: 4, userTimeout: 50_000 };
const kernelOf = (o: typeof FULL) => ({ keepalive: 1, idleSeconds: o.idle / 1000, intervalSeconds: o.interval / 1000, count: o.count, userTimeoutMs: o.userTimeout });

interface InstalledCheck {
  runtime: 'node' | 'bun';
  choice: { way: string; platform: string; runtime: string; addon: string | null; reason: string | null };
  supported: Record<string, boolean>;
  set: unknown;
  kernel: ReturnType<typeof kernelOf>;
  get: unknown;
  userTimeout: unknown;
  warnings: Array<{ code: string; message: string }>;
  stderr: string;
}

/**
 * Runs test/fixtures/installed-check.cjs in `app` (where fixtures/ was
 * copied) under `runtime`, setting `options` on a loopback socket; its
 * report, and what the process printed on stderr.
 */
function installedCheck(runtime: string, app: string, options: object, env: NodeJS.ProcessEnv = process.env): InstalledCheck {
  const r = spawnSync(runtime, ['fixtures/installed-check.cjs', JSON.stringify(options)], { cwd: app, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`installed-check failed (${r.status}): ${r.stdout}${r.stderr}${r.error ?? ''}`);
  return { ...(JSON.parse(r.stdout) as Omit<InstalledCheck, 'stderr'>), stderr: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-pack-'));
  // Pack from a copy, so the prebuild's rebuild never replaces the addon
  // that other test files have loaded from build/.
  const source = path.join(work, 'source');
  mkdirSync(source);
  for (const entry of ['package.json', 'binding.gyp', 'src', 'lib', 'scripts', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE']) {
    if (existsSync(path.join(root, entry))) cpSync(path.join(root, entry), path.join(source, entry), { recursive: true });
  }
  symlinkSync(path.join(root, 'node_modules'), path.join(source, 'node_modules'));
  // prepack's compiler output shares stdout with npm's JSON, which comes last.
  const out = run('npm', ['pack', '--json', '--pack-destination', work], source);
  const packed = JSON.parse(out.slice(out.lastIndexOf('\n[\n') + 1)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  tarball = path.join(work, packed[0]!.filename);
  contents = packed[0]!.files.map((f) => f.path);
  consumer = path.join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', tarball], consumer);
  cpSync(path.join(__dirname, 'fixtures'), path.join(consumer, 'fixtures'), { recursive: true });
  // Packing cross-builds the arm64 prebuild and load-checks it under qemu:
  // about 1-2 min here; it outran a 3 min limit while the 2 cores ran other suites.
}, 360_000);

let contents: string[] = [];
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.runIf(packs)('the packed tarball', () => {
  it('ships the build, the prebuild, the sources and nothing else', () => {
    expect(contents).toEqual(
      expect.arrayContaining([
        'package.json',
        'binding.gyp',
        'src/binding.cc',
        'src/keepalive.h',
        'src/keepalive_linux.cc',
        'dist/index.js',
        'dist/index.d.ts',
        'scripts/install.cjs',
        `prebuilds/${process.platform}-${process.arch}/tcp-keepalive.glibc.node`,
        'prebuilds/linux-arm64/tcp-keepalive.glibc.node',
        'prebuilds/linux-x64/tcp-keepalive.musl.node',
        'prebuilds/linux-arm64/tcp-keepalive.musl.node',
      ]),
    );
    expect(contents.filter((f) => /^(build|test|lib|node_modules)\//.test(f))).toEqual([]);
    // The install step is the one script shipped; no install-result.json of the packing machine's.
    expect(contents.filter((f) => f.startsWith('scripts/'))).toEqual(['scripts/install.cjs']);
    expect(contents).not.toContain('install-result.json');
    // A source map would point at lib/*.ts, which is not shipped.
    expect(contents.filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it('resolves every export with types under node10, node16 (CJS and ESM) and bundler (attw)', () => {
    // --no-definitely-typed: offline, and there are no @types for this package.
    const attw = path.join(root, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
    let out: string;
    try {
      out = run(process.execPath, [attw, '--format', 'json', '--no-definitely-typed', tarball], work);
    } catch (error) {
      out = (error as { stdout: string }).stdout; // attw exits 1 when it found problems
    }
    const result = JSON.parse(out) as {
      analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, unknown> }> };
    };
    // A new subpath in `exports` is checked here too: under node10, which
    // ignores `exports`, its types come from the `typesVersions` entry of the
    // same name, which it needs.
    expect(result.analysis.problems).toEqual([]);
    expect(Object.keys(result.analysis.entrypoints)).toEqual(Object.keys(packageJson().exports));
    for (const entry of Object.values(result.analysis.entrypoints)) {
      expect(Object.keys(entry.resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm']);
    }
  });

  it('has a typesVersions entry for every subpath export (node10 ignores exports)', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, string | { types?: string }>;
      typesVersions: Record<string, Record<string, string[]>>;
    };
    const expected: Record<string, string[]> = {};
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (key === '.' || typeof target === 'string' || target.types === undefined) continue;
      expected[key.slice(2)] = [target.types];
    }
    // A new subpath export needs the same types path here, under its name.
    expect(pkg.typesVersions).toEqual({ '*': expected });
  });

  it('passes publint, suggestions included', async () => {
    // publint ships its types for node16/bundler resolution only; this is the part used.
    const publintModule: string = 'publint';
    const { publint } = (await import(publintModule)) as {
      publint(o: { pkgDir: string; pack: { tarball: ArrayBuffer }; strict: boolean }): Promise<{ messages: unknown[] }>;
    };
    const tgz = readFileSync(tarball);
    const { messages } = await publint({
      pkgDir: 'package',
      pack: { tarball: tgz.buffer.slice(tgz.byteOffset, tgz.byteOffset + tgz.byteLength) },
      strict: true,
    });
    expect(messages).toEqual([]);
  });

  it("passes scripts/check-tarball.cjs: every prebuild there, each within Node's own floor; a binary beyond it, or one missing, fails it", () => {
    const check = (tgz: string, ...args: string[]) =>
      spawnSync(process.execPath, [path.join(root, 'scripts', 'check-tarball.cjs'), tgz, ...args], { encoding: 'utf8' });
    const ok = check(tarball);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('4 prebuilds (linux-x64-glibc, linux-x64-musl, linux-arm64-glibc, linux-arm64-musl)');

    // This machine's glibc (2.41) binds fstat to fstat64@GLIBC_2.33: what the
    // x64 prebuild needed before, and what Debian 11 or RHEL 8 cannot load.
    const altered = path.join(work, 'altered');
    mkdirSync(altered);
    execFileSync('tar', ['-xzf', tarball, '-C', altered]);
    const src = path.join(work, 'fstat.c');
    writeFileSync(src, '#include <sys/stat.h>\nint size_of(int fd) { struct stat st; return fstat(fd, &st) == 0 ? (int)st.st_size : -1; }\n');
    execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', path.join(altered, 'package', 'prebuilds', 'linux-x64', 'tcp-keepalive.glibc.node'), src]);
    rmSync(path.join(altered, 'package', 'prebuilds', 'linux-arm64', 'tcp-keepalive.musl.node'));
    const bad = path.join(work, 'altered.tgz');
    execFileSync('tar', ['-czf', bad, '-C', altered, 'package']);
    const failed = check(bad);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(
      "check-tarball: package/prebuilds/linux-x64/tcp-keepalive.glibc.node: needs GLIBC_2.33, newer than Node's own floor GLIBC_2.28",
    );
    expect(failed.stderr).toContain('check-tarball: package/prebuilds/linux-arm64/tcp-keepalive.musl.node: missing');
    // A release names the macOS prebuilds too, which this machine cannot build.
    const release = check(tarball, '--also', 'darwin-arm64,darwin-x64');
    expect(release.status).toBe(1);
    expect(release.stderr).toContain('check-tarball: package/prebuilds/darwin-arm64/tcp-keepalive.node: missing');
  });

  it('installs with --ignore-scripts (no compiler) and loads the prebuild, with no warning', () => {
    const installed = path.join(consumer, 'node_modules', 'tcp-keepalive');
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
    expect(existsSync(path.join(installed, 'install-result.json'))).toBe(false); // the install step never ran
    const resolved = run(process.execPath, ['-p', `require(${JSON.stringify(NODE_GYP_BUILD)}).resolve(${JSON.stringify(installed)})`], consumer);
    expect(resolved.trim()).toBe(path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`, 'tcp-keepalive.glibc.node'));
    expect(readdirSync(path.join(installed, 'prebuilds')).filter((f) => !f.endsWith('.md')).sort()).toEqual(
      [...new Set(['linux-arm64', 'linux-x64', `${process.platform}-${process.arch}`])].sort(),
    );
    const out = installedCheck(process.execPath, consumer, FULL);
    expect(out.choice).toMatchObject({ way: 'addon', addon: resolved.trim(), reason: null });
    expect(out.kernel).toEqual(kernelOf(FULL));
    expect(out.warnings).toEqual([]);
  });

  it('ships linux-arm64 prebuilds that are AArch64 shared objects, and a linux-x64 musl one for x86-64', () => {
    const prebuilds = path.join(consumer, 'node_modules', 'tcp-keepalive', 'prebuilds');
    for (const [file, machine] of [
      ['linux-arm64/tcp-keepalive.glibc.node', 183], // EM_AARCH64
      ['linux-arm64/tcp-keepalive.musl.node', 183],
      ['linux-x64/tcp-keepalive.musl.node', 62], // EM_X86_64
    ] as const) {
      const elf = readFileSync(path.join(prebuilds, file));
      expect(elf.subarray(0, 4).toString('latin1'), file).toBe('\x7fELF');
      expect(elf.readUInt16LE(16), file).toBe(3); // ET_DYN
      expect(elf.readUInt16LE(18), file).toBe(machine);
    }
  });

  it('offers musl (Alpine) the musl prebuild and glibc the glibc one', () => {
    // LIBC is node-gyp-build's own switch for the C library it matches
    // against; on Alpine, /etc/alpine-release decides the same.
    const installed = path.join(consumer, 'node_modules', 'tcp-keepalive');
    const resolve = `console.log(require(${JSON.stringify(NODE_GYP_BUILD)}).resolve(${JSON.stringify(installed)}))`;
    const chosen = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, ['-e', resolve], { cwd: consumer, encoding: 'utf8', env }).trim();
    const env = { ...process.env };
    delete env.LIBC;
    const folder = path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`);
    expect(chosen({ ...env, LIBC: 'musl' })).toBe(path.join(folder, 'tcp-keepalive.musl.node'));
    expect(chosen(env)).toBe(path.join(folder, 'tcp-keepalive.glibc.node'));
  });

  it('works from require and from import', () => {
    const expected = { enable: true, idle: 4000, interval: 2000, count: 3, userTimeout: 10_000 };
    expect(JSON.parse(run(process.execPath, ['fixtures/roundtrip.cjs', '4000'], consumer))).toEqual(expected);
    expect(JSON.parse(run(process.execPath, ['fixtures/roundtrip.mjs', '4000'], consumer)).state).toEqual(expected);
  });

  it('loads every client helper without the clients installed', () => {
    const out = run(
      process.execPath,
      ['-p', "['ioredis', 'pg', 'http', 'undici', 'mysql2'].map((n) => Object.keys(require('tcp-keepalive/' + n)).join()).join(' ')"],
      consumer,
    );
    expect(out.trim()).toBe('setRedisKeepAlive setPgKeepAlive setAgentKeepAlive keepAliveConnector setMysqlKeepAlive');
    expect(existsSync(path.join(consumer, 'node_modules', 'ioredis'))).toBe(false); // optional peers stay out
  });

  it('loads every subpath in exports from require and from import', () => {
    const specs = Object.keys(packageJson().exports)
      .filter((key) => key !== './package.json')
      .map((key) => `tcp-keepalive${key.slice(1)}`);
    const script = `const specs = ${JSON.stringify(specs)};
      (async () => {
        for (const s of specs) {
          const required = Object.keys(require(s)).sort().join();
          // import adds 'default', '__esModule' and (Node 24 and 26) 'module.exports' for a CommonJS module.
          const imported = Object.keys(await import(s)).filter((k) => !['default', '__esModule', 'module.exports'].includes(k)).sort().join();
          if (required !== imported) throw new Error(s + ': require gives ' + required + ', import gives ' + imported);
          console.log(s, required);
        }
      })().catch((e) => { console.error(e); process.exitCode = 1; });`;
    const out = run(process.execPath, ['-e', script], consumer);
    expect(out.trim().split('\n').map((line) => line.split(' ')[0])).toEqual(specs);
  });

  it('installs the tcp-keepalive command', () => {
    const out = run(path.join(consumer, 'node_modules', '.bin', 'tcp-keepalive'), ['--help'], consumer);
    expect(out).toMatch(/^Usage: tcp-keepalive <command>/);
  });

  it('brings its types, strict enough to catch a misspelt option', () => {
    writeFileSync(
      path.join(consumer, 'consumer.mts'),
      `import net from 'node:net';
import http from 'node:http';
import { setKeepAlive, getKeepAlive, DEFAULTS, supported, planKeepAlive, type KeepAliveOptions, type KeepAliveState, type KeepAliveSystemError } from 'tcp-keepalive';
import { setAgentKeepAlive } from 'tcp-keepalive/http';
import { keepAliveConnector } from 'tcp-keepalive/undici';
const detach: () => void = setAgentKeepAlive(new http.Agent({ keepAlive: true }), planKeepAlive({ detectWithin: 30_000 }));
const connector = keepAliveConnector({ idle: 30_000 });
const socket: net.Socket = setKeepAlive(net.connect(1), { idle: 30_000, interval: 5_000, count: 4 });
const server: net.Server = setKeepAlive(net.createServer(), true);
const state: KeepAliveState = getKeepAlive(socket);
const idle: 60_000 = DEFAULTS.idle;
const options: KeepAliveOptions = { userTimeout: state.userTimeout + idle };
const canSet: boolean = supported.userTimeout;
// @ts-expect-error: not an option name
setKeepAlive(socket, { intvl: 5_000 });
// @ts-expect-error: not a socket
getKeepAlive({ fd: 3 });
export { server, options, canSet, detach, connector };
export type E = KeepAliveSystemError['option'];
`,
    );
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), 'consumer.mts'], consumer);
  });
});

describe.runIf(packs)('an app bundled with esbuild --bundle --platform=node, over the installed package', () => {
  const esbuild = path.join(root, 'node_modules', '.bin', 'esbuild');
  // ES module output needs a `require` for the CommonJS it bundles (esbuild's
  // own advice; without it, any CommonJS package that requires node:net fails).
  const BANNER = "--banner:js=import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";
  const formats: Array<[string, string, string[], string]> = [
    ['CJS', 'fixtures/roundtrip.cjs', ['--format=cjs'], 'app.cjs'],
    ['ESM', 'fixtures/roundtrip.mjs', ['--format=esm', BANNER], 'app.mjs'],
  ];
  const expected = { enable: true, idle: 5000, interval: 2000, count: 3, userTimeout: 11_000 };
  const state = (out: string) => {
    const parsed = JSON.parse(out) as { state?: unknown };
    return parsed.state ?? parsed;
  };
  const bundle = (entry: string, flags: string[], out: string) => {
    run(esbuild, [entry, '--bundle', '--platform=node', '--log-level=error', `--outfile=${out}`, ...flags], consumer);
    return path.join(consumer, out);
  };

  it.each(formats)('%s: without prebuilds/ beside it, takes the fallback and warns once saying what to do; with them, the addon', (name, entry, flags, file) => {
    const dir = path.join(consumer, 'bundled', name);
    const app = bundle(entry, flags, path.join('bundled', name, file));
    expect(readFileSync(app, 'utf8')).toContain('TCP_KEEPALIVE_NO_ADDON'); // the library is in the bundle
    // The app sets an interval and reads back: the fallback refuses the one
    // (Node 20 and 22) or the other (24.21+, 26), never at require.
    const r = spawnSync(process.execPath, [app, '5000'], { cwd: consumer, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("code: 'ERR_KEEPALIVE_UNSUPPORTED'");
    // The library is loaded on first use: the error says why and what to
    // do. The one warning is printed where the process lives past that tick
    // (CommonJS here, whose destructuring require reads `supported` first).
    const error = r.stderr.split('\n').find((line) => line.includes('without its native addon'))!;
    // The ES module bundle's first use is that failing setKeepAlive where Node
    // refuses an interval (20, 22); where Node takes it (24.21+, 26) the
    // process lives on to getKeepAlive, and the warning is printed first.
    const warnings = r.stderr.split('[TCP_KEEPALIVE_NO_ADDON] Warning: ').length - 1;
    expect(warnings).toBe(name === 'CJS' || net.Socket.prototype.setKeepAlive.length >= 4 ? 1 : 0);
    const warning = warnings === 1 ? r.stderr.slice(r.stderr.indexOf('[TCP_KEEPALIVE_NO_ADDON]')).split('\n')[0]! : undefined;
    for (const said of [error, ...(warning === undefined ? [] : [warning])]) {
      expect(said).toContain(`no native addon for ${PLATFORM}: none beside this bundle, in ${path.join(dir, 'prebuilds', `${process.platform}-${process.arch}`)}`);
      expect(said).toContain('--external:tcp-keepalive');
      expect(said).toContain(`copy node_modules/tcp-keepalive/prebuilds/ to ${path.join(dir, 'prebuilds')}/ (beside the bundle)`);
    }
    cpSync(path.join(consumer, 'node_modules', 'tcp-keepalive', 'prebuilds'), path.join(dir, 'prebuilds'), { recursive: true });
    expect(state(run(process.execPath, [app, '5000'], consumer))).toEqual(expected);
  });

  it.each(formats)('%s: with --external:tcp-keepalive, loads it from node_modules', (name, entry, flags, file) => {
    const app = bundle(entry, [...flags, '--external:tcp-keepalive'], path.join('external', name, file));
    expect(readFileSync(app, 'utf8')).not.toContain('TCP_KEEPALIVE_NO_ADDON');
    expect(state(run(process.execPath, [app, '5000'], consumer))).toEqual(expected);
  });
});

describe.runIf(packs)('installing the packed tarball in a fresh app, as npm runs the install step', () => {
  // npm runs a dependency's install step with `sh -c "node scripts/install.cjs"`,
  // `sh` and `node` being the first on PATH (npm prepends only node_modules/.bin
  // folders and its node-gyp shim: observed with npm 11), and hands it npm's
  // own node-gyp in npm_config_node_gyp. So a PATH that holds nothing but `sh`
  // and `node` is a machine without python3, make or a compiler, and that
  // `node` may be any runtime: Bun for musl stands in for Alpine's. npm itself
  // is run by this Node, by its full path.
  let npmCli: string;
  let noPrebuild: string; // the tarball without prebuilds/: a platform none fits
  let bunMusl: string;
  const apps = (name: string) => path.join(work, 'apps', name);

  /** A `bin` folder holding only `node`, which runs `runtime`, and `sh` (every image has one). */
  function onlyNode(name: string, runtime: string): string {
    const bin = path.join(work, 'bins', name);
    mkdirSync(bin, { recursive: true });
    symlinkSync(runtime, path.join(bin, 'node'));
    symlinkSync('/bin/sh', path.join(bin, 'sh'));
    return bin;
  }

  function npmInstall(name: string, pkg: string, env: NodeJS.ProcessEnv, flags: string[] = []) {
    const app = apps(name);
    mkdirSync(app, { recursive: true });
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name, private: true }));
    cpSync(path.join(__dirname, 'fixtures'), path.join(app, 'fixtures'), { recursive: true });
    const r = spawnSync(process.execPath, [npmCli, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--foreground-scripts', ...flags, pkg], {
      cwd: app,
      encoding: 'utf8',
      env,
    });
    const installed = path.join(app, 'node_modules', 'tcp-keepalive');
    const result = path.join(installed, 'install-result.json');
    return {
      app,
      installed,
      status: r.status,
      output: `${r.stdout}${r.stderr}`,
      result: existsSync(result) ? (JSON.parse(readFileSync(result, 'utf8')) as Record<string, string>) : undefined,
    };
  }

  // The environment an install step sees, less what would decide for it:
  // LIBC, the strict switch, TCP_KEEPALIVE, a Python named to node-gyp.
  const baseEnv = (): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_loglevel: 'notice' };
    for (const name of ['LIBC', 'TCP_KEEPALIVE', 'TCP_KEEPALIVE_STRICT_INSTALL', 'PYTHON', 'npm_config_python', 'npm_config_build_from_source']) delete env[name];
    return env;
  };

  beforeAll(() => {
    npmCli = execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).trim().replace(/npm$/, 'npm-cli.js');
    const unpacked = path.join(work, 'no-prebuild');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    rmSync(path.join(unpacked, 'package', 'prebuilds'), { recursive: true });
    noPrebuild = path.join(work, 'tcp-keepalive-no-prebuild.tgz');
    execFileSync('tar', ['-czf', noPrebuild, '-C', unpacked, 'package']);
    bunMusl = path.join(work, 'bun-musl-x64');
    execFileSync('bash', [path.join(root, 'scripts', 'bun-musl.sh'), 'x64', bunMusl], { stdio: 'pipe' });
  }, 120_000);

  it.runIf(process.arch === 'x64')(
    'Alpine, simulated (musl, no compiler, Bun for musl as node): the install takes the musl prebuild, which round-trips all five',
    () => {
      const { app, status, output, result, installed } = npmInstall('alpine', tarball, { ...baseEnv(), LIBC: 'musl', PATH: onlyNode('alpine', bunMusl) });
      expect(status, output).toBe(0);
      // Written by the install step itself, as run by Bun for musl.
      expect(result).toEqual({
        platform: 'linux-x64-musl',
        runtime: expect.stringMatching(/^Bun 1\.4\.\d+$/) as unknown,
        result: 'prebuild',
        file: 'prebuilds/linux-x64/tcp-keepalive.musl.node',
      });
      const out = installedCheck(bunMusl, app, FULL, { ...baseEnv(), LIBC: 'musl' });
      expect(out.runtime).toBe('bun');
      expect(out.choice).toMatchObject({ way: 'addon', platform: 'linux-x64-musl', addon: path.join(installed, 'prebuilds', 'linux-x64', 'tcp-keepalive.musl.node') });
      expect(out.set).toBe('no error');
      expect(out.kernel).toEqual(kernelOf(FULL));
      expect(out.get).toEqual({ enable: true, ...FULL });
      expect(out.warnings).toEqual([]);

      // The control: told glibc, node-gyp-build offers this musl runtime the
      // glibc prebuild, which musl's loader refuses. So the runtime is musl
      // indeed; and an addon that does not load is the fallback and one warning.
      const control = installedCheck(bunMusl, app, { idle: 7000 }, baseEnv());
      expect(control.choice).toMatchObject({ way: 'node', platform: 'linux-x64-glibc', runtime: expect.stringMatching(/^Bun /) as unknown });
      expect(control.choice.reason).toContain(`${path.join(installed, 'prebuilds', 'linux-x64', 'tcp-keepalive.glibc.node')} does not load here: `);
      expect(control.kernel).toMatchObject({ keepalive: 1, idleSeconds: 7 });
      expect(control.warnings.map((w) => w.code)).toEqual(['TCP_KEEPALIVE_NO_ADDON']);
      expect(control.warnings[0]!.message).toContain("Bun 1.4."); // Bun named as Bun

      // And installed so: the install step finds that the glibc prebuild does
      // not load, builds from source instead, and records why that failed.
      const told = npmInstall('alpine-told-glibc', tarball, { ...baseEnv(), PATH: onlyNode('alpine-told-glibc', bunMusl) });
      expect(told.status, told.output).toBe(0);
      expect(told.output).toContain('tcp-keepalive: prebuilds/linux-x64/tcp-keepalive.glibc.node does not load here (');
      expect(told.result).toMatchObject({ platform: 'linux-x64-glibc', result: 'build failed' });
    },
    180_000,
  );

  it('no prebuild fits and nothing can compile: the install succeeds and records why; the fallback applies idle, refuses userTimeout and warns once', () => {
    const { app, status, output, result } = npmInstall('no-compiler', noPrebuild, { ...baseEnv(), PATH: onlyNode('no-compiler', process.execPath) });
    expect(status, output).toBe(0);
    expect(output).toContain(`tcp-keepalive: no prebuilt addon for ${PLATFORM}, and the build from source failed:\n  Error: Could not find any Python installation to use`);
    expect(result).toEqual({ platform: PLATFORM, runtime: `Node ${process.version}`, result: 'build failed', reason: 'Error: Could not find any Python installation to use' });

    const out = installedCheck(process.execPath, app, { idle: 7000 });
    expect(out.choice).toMatchObject({ way: 'node', platform: PLATFORM, addon: null });
    expect(out.supported).toMatchObject({ enable: true, idle: true, userTimeout: false });
    expect(out.set).toBe('no error');
    expect(out.kernel).toMatchObject({ keepalive: 1, idleSeconds: 7, userTimeoutMs: 0 }); // read by python3, another process
    expect(out.get).toEqual({ code: 'ERR_KEEPALIVE_UNSUPPORTED' });
    expect(out.userTimeout).toMatchObject({ code: 'ERR_KEEPALIVE_UNSUPPORTED' });
    expect(out.warnings).toHaveLength(1);
    const [warning] = out.warnings;
    expect(warning!.code).toBe('TCP_KEEPALIVE_NO_ADDON');
    expect(warning!.message).toContain(
      `tcp-keepalive: no native addon for ${PLATFORM}: no prebuilt addon fits, and the build from source failed when it was installed: Error: Could not find any Python installation to use.`,
    );
    expect(warning!.message).toContain('npm rebuild tcp-keepalive');
    expect(out.stderr.split('[TCP_KEEPALIVE_NO_ADDON]').length - 1).toBe(1); // printed once too

    // doctor says the same.
    const doctor = JSON.parse(run(process.execPath, [path.join(app, 'node_modules', 'tcp-keepalive', 'dist', 'tools', 'cli.js'), 'doctor', '--json'], app)) as {
      kernel: InstalledCheck['choice'];
    };
    expect(doctor.kernel).toMatchObject({ way: 'node', platform: PLATFORM, reason: out.choice.reason });
  }, 120_000);

  it('the strict switch: TCP_KEEPALIVE_STRICT_INSTALL=1 makes that failed build fail the install, with its error', () => {
    const env = { ...baseEnv(), PATH: onlyNode('strict', process.execPath), TCP_KEEPALIVE_STRICT_INSTALL: '1' };
    const { status, output, installed } = npmInstall('strict', noPrebuild, env);
    expect(status, output).not.toBe(0);
    expect(output).toContain(
      'tcp-keepalive: the build from source failed (TCP_KEEPALIVE_STRICT_INSTALL): Error: Could not find any Python installation to use',
    );
    expect(existsSync(installed)).toBe(false); // npm rolled the install back
  }, 120_000);

  it('TCP_KEEPALIVE set while installing changes nothing: where no prebuild fits, the addon is built from source', () => {
    const { app, status, output, result, installed } = npmInstall('register-variable', noPrebuild, { ...baseEnv(), TCP_KEEPALIVE: 'idle=30s,interval=5s,count=4' });
    expect(status, output).toBe(0);
    expect(result).toEqual({ platform: PLATFORM, runtime: `Node ${process.version}`, result: 'built', file: path.join('build', 'Release', 'tcp_keepalive.node') });
    const out = installedCheck(process.execPath, app, FULL, baseEnv());
    expect(out.choice).toMatchObject({ way: 'addon', addon: path.join(installed, 'build', 'Release', 'tcp_keepalive.node') });
    expect(out.kernel).toEqual(kernelOf(FULL));
    expect(out.warnings).toEqual([]);
  }, 300_000);

  it('a build from source that the user asked for and that fails fails the install: no prebuild is loaded instead', () => {
    const env = { ...baseEnv(), PATH: onlyNode('from-source', process.execPath) };
    const { status, output, installed } = npmInstall('from-source', tarball, env, ['--build-from-source']);
    expect(status, output).not.toBe(0);
    expect(output).toContain(
      'tcp-keepalive: the build from source you asked for (npm_config_build_from_source) failed: Error: Could not find any Python installation to use',
    );
    expect(existsSync(installed)).toBe(false); // npm rolled the install back
    // Named by package, as prebuild-install's users name it, likewise.
    const named = npmInstall('from-source-named', tarball, { ...env, npm_config_build_from_source: 'sharp,tcp-keepalive' });
    expect(named.status, named.output).not.toBe(0);
    expect(named.output).toContain('the build from source you asked for (npm_config_build_from_source) failed');
  }, 180_000);

  it('strict mode loads what it built: an addon that links but does not load fails the install (TCP_KEEPALIVE_STRICT_INSTALL=true)', () => {
    // Linked against a library found at link time and nowhere at run time,
    // the addon builds and then fails to load, as one built against another
    // machine's libraries would.
    const libs = path.join(work, 'link-only');
    mkdirSync(libs, { recursive: true });
    writeFileSync(path.join(libs, 'gone.c'), 'int tcp_keepalive_gone(void) { return 0; }\n');
    execFileSync('cc', ['-shared', '-fPIC', '-o', path.join(libs, 'libgone.so'), path.join(libs, 'gone.c')]);
    const env = { ...baseEnv(), LDFLAGS: `-Wl,--no-as-needed -L${libs} -lgone`, TCP_KEEPALIVE_STRICT_INSTALL: 'true' };
    const { status, output, installed } = npmInstall('strict-loads', noPrebuild, env);
    expect(status, output).not.toBe(0);
    expect(output).toContain(
      'tcp-keepalive: the build from source failed (TCP_KEEPALIVE_STRICT_INSTALL): the addon was built, but does not load here: libgone.so: cannot open shared object file',
    );
    expect(existsSync(installed)).toBe(false);
  }, 300_000);

  describe('the install step and the loader, in an installed package', () => {
    const installStep = (dir: string, env: NodeJS.ProcessEnv = baseEnv()) =>
      spawnSync(process.execPath, [path.join(dir, 'scripts', 'install.cjs')], { cwd: dir, encoding: 'utf8', env });
    const prebuild = `prebuilds/${process.platform}-${process.arch}/tcp-keepalive.glibc.node`;

    it('writes install-result.json anew and renames it into place, so a hard-linked copy (a pnpm store) keeps what it held', () => {
      const { installed } = npmInstall('hard-link', tarball, baseEnv(), ['--ignore-scripts']);
      const result = path.join(installed, 'install-result.json');
      const linked = path.join(work, 'store-copy.json');
      writeFileSync(result, '{"written":"by another project"}\n');
      execFileSync('ln', ['-f', result, linked]);
      const r = installStep(installed);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(result, 'utf8'))).toMatchObject({ result: 'prebuild', file: prebuild });
      expect(readFileSync(linked, 'utf8')).toBe('{"written":"by another project"}\n');
      expect(readdirSync(installed).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    }, 120_000);

    it('a build/Release that does not load does not hide the prebuild: both take the prebuild, and doctor says what was passed over', () => {
      const { app, installed } = npmInstall('stale-build', tarball, baseEnv(), ['--ignore-scripts']);
      const stale = path.join(installed, 'build', 'Release', 'tcp_keepalive.node');
      mkdirSync(path.dirname(stale), { recursive: true });
      writeFileSync(stale, 'not an ELF file');
      const r = installStep(installed);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('tcp-keepalive: build/Release/tcp_keepalive.node does not load here (');
      expect(JSON.parse(readFileSync(path.join(installed, 'install-result.json'), 'utf8'))).toMatchObject({ result: 'prebuild', file: prebuild });
      const out = installedCheck(process.execPath, app, FULL, baseEnv());
      expect(out.choice).toMatchObject({ way: 'addon', addon: path.join(installed, prebuild) });
      expect(out.choice.reason).toContain(`${stale} does not load here: `);
      expect(out.kernel).toEqual(kernelOf(FULL));
      expect(out.warnings).toEqual([]);
      const doctor = run(process.execPath, [path.join(installed, 'dist', 'tools', 'cli.js'), 'doctor'], app);
      expect(doctor).toContain('Passed over:');
    }, 120_000);

    it('npm_config_arch, npm_config_platform and TCP_KEEPALIVE_PREBUILD choose nothing: the install step records the addon this machine loads', () => {
      const { installed } = npmInstall('cross', tarball, baseEnv(), ['--ignore-scripts']);
      const other = process.arch === 'x64' ? 'arm64' : 'x64';
      const r = installStep(installed, { ...baseEnv(), npm_config_arch: other, npm_config_platform: 'darwin', TCP_KEEPALIVE_PREBUILD: '/nonexistent' });
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(path.join(installed, 'install-result.json'), 'utf8'))).toMatchObject({ platform: PLATFORM, result: 'prebuild', file: prebuild });
    }, 120_000);

    it.runIf(haveNamespaces())('in a read-only package folder, the warning says the install step could not have recorded its result, not that it never ran', () => {
      const { app, installed } = npmInstall('read-only', noPrebuild, baseEnv(), ['--ignore-scripts']);
      // A read-only bind mount of the package, in a private mount namespace.
      const script = `mount --bind -o ro '${installed}' '${installed}' && exec '${process.execPath}' fixtures/installed-check.cjs '{"idle":8000}'`;
      const r = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script], { cwd: app, encoding: 'utf8', env: baseEnv() });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as InstalledCheck;
      expect(out.warnings.map((w) => w.code)).toEqual(['TCP_KEEPALIVE_NO_ADDON']);
      expect(out.warnings[0]!.message).toContain("no install-result.json: the package's folder is read-only");
      expect(out.warnings[0]!.message).not.toContain('never ran');
    }, 120_000);
  });

  it('--ignore-scripts where no prebuild fits: installed; at run time the one warning says the install step never ran and what to do', () => {
    const { app, status, output, result, installed } = npmInstall('ignore-scripts', noPrebuild, baseEnv(), ['--ignore-scripts']);
    expect(status, output).toBe(0);
    expect(result).toBeUndefined();
    const out = installedCheck(process.execPath, app, { idle: 8000 });
    expect(out.kernel).toMatchObject({ keepalive: 1, idleSeconds: 8 });
    expect(out.warnings.map((w) => w.code)).toEqual(['TCP_KEEPALIVE_NO_ADDON']);
    const { message } = out.warnings[0]!;
    expect(message).toContain(
      `tcp-keepalive: no native addon for ${PLATFORM}: none in ${path.join(installed, 'build', 'Release')} or ${path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`)}, and the install step`,
    );
    for (const remedy of ['never ran here', 'npm install-scripts approve tcp-keepalive', 'bun pm trust tcp-keepalive', 'npm rebuild tcp-keepalive']) {
      expect(message).toContain(remedy);
    }
    expect(message).not.toContain('bundle');
  }, 120_000);
});

describe.runIf(packs)("the docs' code examples, against the installed package", () => {
  // Every ```ts and ```js block in the README and docs/ that imports
  // tcp-keepalive is type-checked as a user's ES module under nodenext
  // (Node's own rules) and under node10 (older projects, which ignore
  // `exports`). (test/docs.test.ts runs them.)
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const docs = ['README.md', ...readdirSync(path.join(root, 'docs')).map((f) => `docs/${f}`)];
  const examples = docs.flatMap((file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    return [...text.matchAll(/^```(ts|js)\n([\s\S]*?)^```$/gm)]
      .map((m) => ({ lang: m[1]!, code: m[2]!, line: `${file.replace(/\W/g, '-')}-${text.slice(0, m.index).split('\n').length}` }))
      .filter((e) => /from 'tcp-keepalive(\/\w+)?'/.test(e.code));
  });

  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  let dir: string;
  beforeAll(() => {
    // The clients' types come from the repository's node_modules, the
    // package itself from the installed tarball.
    dir = path.join(work, 'readme');
    mkdirSync(path.join(dir, 'node_modules'), { recursive: true });
    for (const entry of readdirSync(path.join(root, 'node_modules'))) {
      if (entry !== 'tcp-keepalive' && !entry.startsWith('.')) symlinkSync(path.join(root, 'node_modules', entry), path.join(dir, 'node_modules', entry));
    }
    symlinkSync(path.join(consumer, 'node_modules', 'tcp-keepalive'), path.join(dir, 'node_modules', 'tcp-keepalive'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }));
    examples.forEach((e, i) => writeFileSync(path.join(dir, `example-${i}-${e.line}.${e.lang === 'ts' ? 'mts' : 'mjs'}`), e.code));
  });

  it('finds the examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  it("runs the README's first example, with a local server on a free port in place of 6379", async () => {
    const first = [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => ({ code: m[1]! }))[0]!;
    expect(first.code).toContain("net.connect(6379, '127.0.0.1')");
    const server = net.createServer((socket) => socket.end()); // the example exits once the server hangs up
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as net.AddressInfo;
      writeFileSync(path.join(dir, 'first-run.mjs'), first.code.replace('6379', String(port)));
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['first-run.mjs'], { cwd: dir, encoding: 'utf8' }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      // What it prints is what the comment under it says, spacing aside.
      const promised = /\n\/\/ (\{.*\})\n/.exec(first.code)![1]!;
      expect(out.replace(/\s+/g, ' ').trim()).toBe(promised);
    } finally {
      server.close();
    }
  });

  const common = ['--noEmit', '--strict', '--allowJs', '--checkJs', '--target', 'es2022', '--types', 'node', '--skipLibCheck'];
  it.each([
    ['nodenext', ['--module', 'nodenext', '--moduleResolution', 'nodenext']],
    ['node10', ['--module', 'es2022', '--moduleResolution', 'node10', '--esModuleInterop']],
  ])('type-check under %s', (_name, flags) => {
    const files = readdirSync(dir).filter((f) => f.startsWith('example-'));
    let out = '';
    try {
      run(process.execPath, [tsc, ...common, ...flags, ...files], dir);
    } catch (error) {
      out = (error as { stdout: string }).stdout;
    }
    expect(out).toBe('');
  });
});
