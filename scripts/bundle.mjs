// Part of `npm run compile`, after tsc: puts the library's modules into one
// file, dist/tcp-keepalive.js, and makes each module's own file a few lines
// that take its exports from there.
//
// Why: a process pays for every module it loads (the file is found, read and
// compiled), and `node --require tcp-keepalive/register` loaded about a dozen
// before the application's first line, measured at 1.2x the start-up of bare
// `node`. One file, whose modules start only when first used, costs one load.
// And one file is one instance of each module, whichever file a caller
// loads: the entry points (and the tests, and the tools) share the library's
// state, the configurations, the process-wide default and the hooks.
//
// Left as tsc wrote them: the public entry point dist/index.js and the
// defaults it exports (two small files: `require('tcp-keepalive')` loads only
// them until first used), the command-line tools in dist/tools/ (a process
// of their own), and the types (.d.ts).
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildSync } from 'esbuild';

// The package being built: npm runs `compile` in its folder (and the test
// scripts that build a copy run this there).
const root = process.cwd();
const dist = path.join(root, 'dist');
const BUNDLE = 'tcp-keepalive.js';
const UNBUNDLED = ['index.js', 'engine/defaults.js'];

const walk = (dir) =>
  readdirSync(dir).flatMap((entry) => {
    const file = path.join(dir, entry);
    return statSync(file).isDirectory() ? walk(file) : [file];
  });
const slash = (p) => p.split(path.sep).join('/');
const modules = walk(dist)
  .map((file) => slash(path.relative(dist, file)))
  .filter((name) => name.endsWith('.js') && name !== BUNDLE && !UNBUNDLED.includes(name) && !name.startsWith('tools/'));

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
         out[name] = name === 'integrations/register.js' ? [] : Object.keys(require(require('path').join(process.argv[2], name)));
       }
       process.stdout.write(JSON.stringify(out));`,
      JSON.stringify(modules),
      dist,
    ],
    { encoding: 'utf8', env: { ...process.env, TCP_KEEPALIVE: 'off', NODE_NO_WARNINGS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] },
  ),
);

// The bundle's entry: each module behind a getter, so that it starts only
// when first loaded (esbuild keeps a bundled CommonJS module's code in a
// function that runs on its first require).
const getters = modules.map((name) => `  get ${JSON.stringify(name)}() { return require(${JSON.stringify(`./${name}`)}); },`);
buildSync({
  stdin: { contents: `module.exports = {\n${getters.join('\n')}\n};\n`, resolveDir: dist, sourcefile: 'modules.js', loader: 'js' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external', // the clients stay where npm put them
  outfile: path.join(dist, BUNDLE),
  legalComments: 'none',
  logLevel: 'error',
});

for (const name of modules) {
  const file = path.join(dist, name);
  const relative = slash(path.relative(path.dirname(file), path.join(dist, BUNDLE)));
  // `exports.x = m.x` is what Node's CommonJS lexer reads to offer named ES
  // module exports; a getter keeps its getter, in the one form the lexer
  // also reads (`return m.x;`).
  const lines = names[name].map((key) => `exports.${key} = m.${key};`);
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
