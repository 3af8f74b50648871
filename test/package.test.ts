// The published package works with no compiler: pack it (prepack compiles the
// TypeScript and makes the prebuilds: this machine's, and linux-arm64's,
// which scripts/prebuild-arm64.sh cross-builds and load-checks under qemu),
// install the tarball with --ignore-scripts into a fresh project, and use it
// from there. scripts/test-arm64.sh tests the arm64 prebuild further.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net = require('node:net');
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');

const root = path.join(__dirname, '..');
let work: string;
let consumer: string;
let tarball: string;

const packageJson = () =>
  JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

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

describe('the packed tarball', () => {
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
        `prebuilds/${process.platform}-${process.arch}/tcp-keepalive.glibc.node`,
        'prebuilds/linux-arm64/tcp-keepalive.glibc.node',
      ]),
    );
    expect(contents.filter((f) => /^(build|test|lib|node_modules)\//.test(f))).toEqual([]);
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

  it('installs with --ignore-scripts (no compiler) and loads the prebuild', () => {
    const installed = path.join(consumer, 'node_modules', 'tcp-keepalive');
    expect(existsSync(path.join(installed, 'build'))).toBe(false);
    const resolved = run(process.execPath, ['-p', `require('node-gyp-build').resolve(${JSON.stringify(installed)})`], consumer);
    expect(resolved.trim()).toBe(path.join(installed, 'prebuilds', `${process.platform}-${process.arch}`, 'tcp-keepalive.glibc.node'));
    expect(readdirSync(path.join(installed, 'prebuilds')).filter((f) => !f.endsWith('.md')).sort()).toEqual(
      [...new Set(['linux-arm64', `${process.platform}-${process.arch}`])].sort(),
    );
  });

  it('ships a linux-arm64 prebuild that is an AArch64 shared object', () => {
    const elf = readFileSync(path.join(consumer, 'node_modules', 'tcp-keepalive', 'prebuilds', 'linux-arm64', 'tcp-keepalive.glibc.node'));
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf.readUInt16LE(16)).toBe(3); // ET_DYN
    expect(elf.readUInt16LE(18)).toBe(183); // EM_AARCH64
  });

  it('offers no prebuild to musl (Alpine), whose install then builds from source', () => {
    // node-gyp-build takes an untagged prebuild on musl too, and a glibc
    // binary does not load there; the prebuilds are tagged glibc. LIBC is
    // node-gyp-build's own switch for the C library it matches against.
    const installed = path.join(consumer, 'node_modules', 'tcp-keepalive');
    const resolve = `try { require('node-gyp-build').resolve(${JSON.stringify(installed)}) } catch (e) { console.log(e.message) }`;
    const out = execFileSync(process.execPath, ['-e', resolve], { cwd: consumer, encoding: 'utf8', env: { ...process.env, LIBC: 'musl' } });
    expect(out).toMatch(/^No native build was found for platform=linux arch=\w+ runtime=node abi=\d+ uv=\d+ libc=musl/);
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

describe('an app bundled with esbuild --bundle --platform=node, over the installed package', () => {
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

  it.each(formats)('%s: fails saying what to do, then works with prebuilds/ copied beside the bundle', (name, entry, flags, file) => {
    const dir = path.join(consumer, 'bundled', name);
    const app = bundle(entry, flags, path.join('bundled', name, file));
    expect(readFileSync(app, 'utf8')).toContain('ERR_KEEPALIVE_ADDON_NOT_FOUND'); // the library is in the bundle
    let stderr = '';
    try {
      run(process.execPath, [app, '5000'], consumer);
    } catch (error) {
      stderr = (error as { stderr: string }).stderr;
    }
    expect(stderr).toContain("code: 'ERR_KEEPALIVE_ADDON_NOT_FOUND'");
    expect(stderr).toContain('--external:tcp-keepalive');
    expect(stderr).toContain(`copy node_modules/tcp-keepalive/prebuilds/ to ${path.join(dir, 'prebuilds')}/ (beside the bundle)`);
    cpSync(path.join(consumer, 'node_modules', 'tcp-keepalive', 'prebuilds'), path.join(dir, 'prebuilds'), { recursive: true });
    expect(state(run(process.execPath, [app, '5000'], consumer))).toEqual(expected);
  });

  it('installed without an addon for this platform (no prebuild, no build): says how to build one', () => {
    const project = path.join(work, 'no-addon');
    const copy = path.join(project, 'node_modules', 'tcp-keepalive');
    cpSync(path.join(consumer, 'node_modules'), path.join(project, 'node_modules'), { recursive: true });
    rmSync(path.join(copy, 'prebuilds'), { recursive: true });
    let stderr = '';
    try {
      run(process.execPath, ['-e', "require('tcp-keepalive')"], project);
    } catch (error) {
      stderr = (error as { stderr: string }).stderr;
    }
    expect(stderr).toContain("code: 'ERR_KEEPALIVE_ADDON_NOT_FOUND'");
    expect(stderr).toContain(`in ${path.join(copy, 'build', 'Release')} or ${path.join(copy, 'prebuilds', `${process.platform}-${process.arch}`)}.`);
    expect(stderr).toContain('npm rebuild tcp-keepalive');
    expect(stderr).toContain('npm install-scripts approve tcp-keepalive');
    expect(stderr).not.toContain('bundle');
  });

  it.each(formats)('%s: with --external:tcp-keepalive, loads it from node_modules', (name, entry, flags, file) => {
    const app = bundle(entry, [...flags, '--external:tcp-keepalive'], path.join('external', name, file));
    expect(readFileSync(app, 'utf8')).not.toContain('ERR_KEEPALIVE_ADDON_NOT_FOUND');
    expect(state(run(process.execPath, [app, '5000'], consumer))).toEqual(expected);
  });
});

describe("the docs' code examples, against the installed package", () => {
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
