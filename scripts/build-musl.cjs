// Builds the addon for musl with zig, from gyp's own reading of binding.gyp:
// the compile command of every source binding.gyp selects for Linux
// (build/Release/compile_commands.json, from node-gyp configure with
// `-f compile_commands_json`) and the link flags (LDFLAGS_Release in the
// Makefile gyp writes beside it). So the sources, defines and flags are the
// ones a source build on Linux uses, never a copy kept here; only the
// compiler changes: `zig c++ -target <target>`, which links its own libc++
// in statically, so the addon needs nothing but musl's libc.
// A version script, when given, limits what the addon exports.
//   usage: node scripts/build-musl.cjs <zig> <target> <configured dir> <output .node> [version script]
const { execFileSync } = require('node:child_process');
const { readFileSync, mkdirSync } = require('node:fs');
const path = require('node:path');

const [zig, target, dir, output, versionScript] = process.argv.slice(2);
if (!output) throw new Error('usage: node scripts/build-musl.cjs <zig> <target> <configured dir> <output .node>');

/** Splits a command line as sh would (gyp quotes words with "..." and '...'). */
function words(line) {
  const out = [];
  let word = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (word !== null) out.push(word);
      word = null;
    } else if (c === '"' || c === "'") {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unbalanced ${c} in: ${line}`);
      let quoted = line.slice(i + 1, end);
      if (c === '"') quoted = quoted.replace(/\\(["\\$`])/g, '$1');
      word = (word ?? '') + quoted;
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + line[++i];
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) out.push(word);
  return out;
}

const build = path.join(dir, 'build');
const commands = JSON.parse(readFileSync(path.join(build, 'Release', 'compile_commands.json'), 'utf8'));
if (commands.length === 0) throw new Error('gyp selected no sources');
const makefile = readFileSync(path.join(build, 'tcp_keepalive.target.mk'), 'utf8');
const ldflags = /^LDFLAGS_Release := \\\n((?:\t.*\\\n)*\t.*)$/m.exec(makefile);
if (!ldflags) throw new Error('no LDFLAGS_Release in the Makefile gyp wrote');
const linkFlags = ldflags[1].split('\n').map((l) => l.replace(/\\$/, '').trim()).filter(Boolean);

const objects = path.join(build, 'musl-obj');
mkdirSync(objects, { recursive: true });
const run = (args) => execFileSync(zig, args, { cwd: path.resolve(build, commands[0].directory ?? '.'), stdio: ['ignore', 'inherit', 'inherit'] });
const built = commands.map((entry, i) => {
  const args = words(entry.command).slice(1); // the compiler gyp would call
  const c = args.indexOf('-c');
  if (c < 0 || path.resolve(args[c + 1]) !== path.resolve(entry.file)) throw new Error(`not a compile command: ${entry.command}`);
  args.splice(c, 2);
  const object = path.join(objects, `${i}-${path.basename(entry.file)}.o`);
  run(['c++', '-target', target, ...args, '-c', entry.file, '-o', object]);
  return { file: path.relative(dir, entry.file), object };
});
// gyp's solink_module: -shared, its LDFLAGS, the soname; -s strips, as
// prebuildify --strip does.
const exportsMap = versionScript ? [`-Wl,--version-script=${versionScript}`] : [];
run(['c++', '-target', target, '-shared', ...linkFlags, '-Wl,-soname=tcp_keepalive.node', ...exportsMap, '-s', '-o', output, ...built.map((b) => b.object)]);
console.log(`build-musl: ${target}: ${built.map((b) => b.file).join(', ')} -> ${output}`);
