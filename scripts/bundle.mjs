// Part of `npm run compile`, after tsc: puts the library's modules into two
// files, dist/tcp-keepalive-preload.js (what the process-wide preload starts)
// and dist/tcp-keepalive.js (the rest), and makes each module's own file a few
// lines that take its exports from the one that holds it.
//
// Why: a process pays for every module it loads (the file is found, read and
// compiled), and `node --require tcp-keepalive/register` loaded about a dozen
// before the application's first line, measured at 1.2x the start-up of bare
// `node`. One file, whose modules start only when first used, costs one load.
// And each module is in one file only, one instance of it whichever file a
// caller loads: the entry points (and the tests, and the tools) share the
// library's state, the configurations, the process-wide default and the hooks.
// The preload's file holds integrations/register.js and what it loads when it
// starts (its top-level requires, followed here); the preload reads and
// compiles only that. What its modules load later (the addon's module at the
// first connect or listen, a dead peer's words) is in the other file, reached
// through the module's own file, as any caller reaches it.
//
// Left as tsc wrote them: the public entry point dist/index.js and the
// defaults it exports (two small files: `require('tcp-keepalive')` loads only
// them until first used), the command-line tools in dist/tools/ (a process
// of their own), and the types (.d.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build as esbuild } from 'esbuild';

// The package being built: npm runs `compile` in its folder (and the test
// scripts that build a copy run this there).
const root = process.cwd();
const dist = path.join(root, 'dist');
const BUNDLE = 'tcp-keepalive.js';
const PRELOAD_BUNDLE = 'tcp-keepalive-preload.js';
const PRELOAD_ENTRY = 'integrations/register.js';
const UNBUNDLED = ['index.js', 'engine/defaults.js'];

const walk = (dir) =>
  readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    return statSync(file).isDirectory() ? walk(file) : [file];
  });
const slash = (p) => p.split(path.sep).join('/');
const modules = walk(dist)
  .map((file) => slash(path.relative(dist, file)))
  .filter((name) => name.endsWith('.js') && name !== BUNDLE && name !== PRELOAD_BUNDLE && !UNBUNDLED.includes(name) && !name.startsWith('tools/'));

// The modules the preload starts: its entry and, transitively, what each
// requires at its top level as tsc wrote it (a line of its own, not indented;
// a require inside a function runs later, if at all).
const moduleOf = (from, specifier) => {
  const file = path.resolve(path.dirname(path.join(dist, from)), specifier);
  const target = slash(path.relative(dist, existsSync(file) && statSync(file).isDirectory() ? path.join(file, 'index.js') : file));
  return target.endsWith('.js') ? target : `${target}.js`;
};
const preloaded = new Set();
for (const queue = [PRELOAD_ENTRY]; queue.length > 0; ) {
  const name = queue.pop();
  if (preloaded.has(name) || !modules.includes(name)) continue;
  preloaded.add(name);
  for (const [, specifier] of readFileSync(path.join(dist, name), 'utf8').matchAll(/^(?:const|var|let) [^\n]*?\brequire\("(\.[^"]*)"\)/gm)) {
    queue.push(moduleOf(name, specifier));
  }
}
const bundleOf = (name) => (preloaded.has(name) ? PRELOAD_BUNDLE : BUNDLE);

// What each module exports, read in a child process before any file is
// replaced. The register entry exports nothing and acts when loaded, so it
// is not loaded here.
const names = JSON.parse(
  execFileSync(
    process.execPath,
    [
      '-e',
      `const out = {};
       for (const name of JSON.parse(process.argv[1])) {
         const m = name === 'integrations/register.js' ? {} : require(require('path').join(process.argv[2], name));
         out[name] = Object.keys(m).map((key) => [key, typeof Object.getOwnPropertyDescriptor(m, key).get === 'function']);
       }
       process.stdout.write(JSON.stringify(out));`,
      JSON.stringify(modules),
      dist,
    ],
    { encoding: 'utf8', env: { ...process.env, TCP_KEEPALIVE: 'off', NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  ),
);

// Each bundle's entry: each module behind a getter, so that it starts only
// when first loaded (esbuild keeps a bundled CommonJS module's code in a
// function that runs on its first require). A module of the other bundle is
// left to its own file (below), which takes it from there.
async function build(bundle) {
  const own = modules.filter((name) => bundleOf(name) === bundle);
  const getters = own.map((name) => `  get ${JSON.stringify(name)}() { return require(${JSON.stringify(`./${name}`)}); },`);
  const elsewhere = {
    name: 'elsewhere',
    setup(b) {
      b.onResolve({ filter: /^\./ }, (args) => {
        if (args.importer === '' || args.importer === '<stdin>') return undefined;
        const name = moduleOf(slash(path.relative(dist, path.join(args.resolveDir, 'x.js'))), args.path);
        return modules.includes(name) && bundleOf(name) !== bundle ? { path: `./${name}`, external: true } : undefined;
      });
    },
  };
  await esbuild({
    stdin: { contents: `module.exports = {\n${getters.join('\n')}\n};\n`, resolveDir: dist, sourcefile: 'modules.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external', // the clients stay where npm put them
    outfile: path.join(dist, bundle),
    legalComments: 'none',
    logLevel: 'error',
    plugins: [elsewhere],
  });
}
await build(PRELOAD_BUNDLE);
await build(BUNDLE);
// Each module in one bundle only: a second copy would be a second instance, with state of its own.
const inBundle = (bundle) => [...readFileSync(path.join(dist, bundle), 'utf8').matchAll(/^\/\/ dist\/(.+\.js)$/gm)].map(([, name]) => name);
const twice = inBundle(PRELOAD_BUNDLE).filter((name) => modules.includes(name) && inBundle(BUNDLE).includes(name));
if (twice.length > 0) throw new Error(`bundle: ${twice.join(', ')} in both ${PRELOAD_BUNDLE} and ${BUNDLE}`);

for (const name of modules) {
  const file = path.join(dist, name);
  const relative = slash(path.relative(path.dirname(file), path.join(dist, bundleOf(name))));
  // `exports.x = m.x` is what Node's CommonJS lexer reads to offer named ES
  // module exports; a getter keeps its getter, in the one form the lexer
  // also reads (`return m.x;`).
  const lines = names[name].map(([key, getter]) =>
    getter ? `Object.defineProperty(exports, ${JSON.stringify(key)}, { enumerable: true, get: function () { return m.${key}; } });` : `exports.${key} = m.${key};`,
  );
  writeFileSync(
    file,
    [
      "'use strict';",
      `// Its code is in ${relative} (scripts/bundle.mjs), one instance for every caller.`,
      `const m = require(${JSON.stringify(relative.startsWith('.') ? relative : `./${relative}`)})[${JSON.stringify(name)}];`,
      ...lines,
      '',
    ].join('\n'),
  );
}
