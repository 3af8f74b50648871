// The package's install step (package.json "install"). It never fails the
// install for want of a compiler: where no prebuilt addon fits and the
// addon cannot be built, the package still installs, and at run time the
// library takes the fallback (the runtime's own socket.setKeepAlive) and
// says why in one warning. So this step records its outcome in
// install-result.json beside package.json, which lib/kernel/addon.ts reads
// when it finds no addon; npm shows this step's output only when it fails.
//
//   - Windows: nothing to do (the addon is never used there).
//   - A prebuild that fits (node-gyp-build's own choice, by platform, arch
//     and libc) and loads: done. Likewise an addon already built in build/.
//   - Otherwise `node-gyp rebuild`, as node-gyp-build's install step does
//     (npm's own node-gyp, npm_config_node_gyp, else node-gyp on PATH). If
//     that fails, the first error line of its output is recorded, a short
//     note is printed, and the install succeeds, unless
//     TCP_KEEPALIVE_STRICT_INSTALL=1 asks for a failed build to fail it.
//
// Plain JavaScript that needs nothing but node-gyp-build: in a fresh clone
// it runs before lib/ is compiled. Unlike node-gyp-build's own install step,
// it pays no heed to TCP_KEEPALIVE: that is the process-wide mode's variable,
// which node-gyp-build would take (as named after the package) for "skip".
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
/** Read by lib/kernel/addon.ts (INSTALL_RESULT): keep the two names the same. */
const RESULT = path.join(root, 'install-result.json');
const STRICT = process.env.TCP_KEEPALIVE_STRICT_INSTALL === '1';

// The platform as node-gyp-build tells libcs apart (LIBC, else musl where
// /etc/alpine-release exists); lib/kernel/addon.ts words it the same way.
const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? `-${libc}` : ''}`;
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;

function record(result, details) {
  try {
    writeFileSync(RESULT, `${JSON.stringify({ platform, runtime, result, ...details }, null, 2)}\n`);
  } catch (error) {
    console.error(`tcp-keepalive: could not write ${RESULT}: ${error.message}`);
  }
}

/** The addon node-gyp-build would load, if it loads here; else undefined. */
function loadable() {
  let file;
  try {
    file = require('node-gyp-build').resolve(root);
  } catch {
    return undefined; // none fits
  }
  try {
    require(file);
    return file;
  } catch (error) {
    console.error(`tcp-keepalive: ${path.relative(root, file)} does not load here (${firstLine(error.message)}); building from source`);
    return undefined;
  }
}

const firstLine = (text) => String(text).split('\n').find((line) => line.trim() !== '')?.trim() ?? '';

/**
 * The line of a failed build's output that says what went wrong: the
 * compiler's first error, else node-gyp's own error (its "stack Error:" line,
 * as when no Python or make is found), else its first ERR! line, else the
 * last line printed.
 */
function firstError(output) {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean);
  const found =
    lines.find((line) => /\b(fatal )?error:|: not found$|No such file or directory$/i.test(line) && !line.startsWith('gyp ')) ??
    lines.find((line) => /^gyp ERR! stack \w*Error: /.test(line))?.replace(/^gyp ERR! stack /, '') ??
    lines.find((line) => /^gyp ERR! /.test(line)) ??
    lines[lines.length - 1];
  return found ?? 'the build printed nothing';
}

function nodeGyp() {
  const npmNodeGyp = process.env.npm_config_node_gyp;
  if (npmNodeGyp && existsSync(npmNodeGyp)) {
    // npm's own node-gyp is a script (bin/node-gyp.js): run it with this runtime.
    return /\.[cm]?js$/.test(npmNodeGyp) ? [process.execPath, [npmNodeGyp, 'rebuild']] : [npmNodeGyp, ['rebuild']];
  }
  return ['node-gyp', ['rebuild']];
}

function build() {
  const [command, args] = nodeGyp();
  // The output goes through as it comes, and is kept (the last 256 KB of it) for its first error.
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-256 * 1024);
  };
  const child = spawn(command, args, { cwd: root, stdio: ['inherit', 'pipe', 'pipe'], windowsHide: true });
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    keep(chunk);
  });
  child.stderr.on('data', (chunk) => {
    process.stderr.write(chunk);
    keep(chunk);
  });
  let spawnError;
  child.on('error', (error) => {
    spawnError = error; // 'close' follows
  });
  child.on('close', (code, signal) => {
    if (code === 0) {
      let file;
      try {
        file = path.relative(root, require('node-gyp-build').resolve(root));
      } catch (error) {
        file = `none that node-gyp-build finds (${firstLine(error.message)})`;
      }
      record('built', { file });
      return;
    }
    const reason = spawnError
      ? `${command} could not be started: ${spawnError.message}`
      : firstError(output) + (signal ? ` (node-gyp ended by ${signal})` : '');
    if (STRICT) {
      console.error(`tcp-keepalive: the build from source failed (TCP_KEEPALIVE_STRICT_INSTALL=1): ${reason}`);
      rmSync(RESULT, { force: true });
      process.exitCode = !spawnError && typeof code === 'number' && code > 0 ? code : 1;
      return;
    }
    record('build failed', { reason });
    console.error(
      [
        '',
        `tcp-keepalive: no prebuilt addon for ${platform}, and the build from source failed:`,
        `  ${reason}`,
        "Installed anyway: at run time it uses the runtime's own socket.setKeepAlive instead, which sets",
        'fewer options, and warns once. To build the addon: install python3, make and a C++ compiler, then',
        'run npm rebuild tcp-keepalive. To make a failed build fail the install: TCP_KEEPALIVE_STRICT_INSTALL=1.',
      ].join('\n'),
    );
  });
}

if (process.platform !== 'win32') {
  const fromSource = process.env.npm_config_build_from_source === 'true';
  const file = fromSource ? undefined : loadable();
  if (file) record(path.relative(root, file).startsWith('prebuilds') ? 'prebuild' : 'built', { file: path.relative(root, file) });
  else build();
}
