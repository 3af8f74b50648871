// The package's install step (package.json "install"). It never fails the
// install for want of a compiler: where no prebuilt addon fits and the
// addon cannot be built, the package still installs, and at run time the
// library takes the fallback (the runtime's own socket.setKeepAlive) and
// says why in one warning. So this step records its outcome in
// install-result.json beside package.json, which lib/kernel/addon.ts reads
// when it finds no addon; npm shows this step's output only when it fails.
//
//   - Windows: nothing to do (the addon is never used there).
//   - The addon a process would load (lib/kernel/addon.ts tries the same
//     files in the same order: build/Release, then the prebuild for this
//     platform, architecture and C library), loaded once to be sure: done.
//   - Otherwise `node-gyp rebuild` (npm's own node-gyp, npm_config_node_gyp,
//     else node-gyp on PATH), and what it built is loaded once too. If the
//     build fails or what it built does not load, the first error line is
//     recorded, a short note is printed, and the install succeeds, unless
//     the user asked for more:
//       - a build from source (npm install --build-from-source, or
//         npm_config_build_from_source=tcp-keepalive): that build is what
//         they asked for, so its failure fails the install, and no prebuild
//         is loaded instead;
//       - TCP_KEEPALIVE_STRICT_INSTALL (1, true, yes or on): any failure to
//         end with an addon that loads fails the install.
//
// Plain JavaScript with no dependencies: in a fresh clone it runs before lib/
// is compiled. Unlike node-gyp-build's install step, it pays no heed to
// TCP_KEEPALIVE, the process-wide mode's variable (node-gyp-build would take
// it, as named after the package, for "skip"), nor, like the loader, to
// npm_config_arch, npm_config_platform and TCP_KEEPALIVE_PREBUILD: the
// package carries every prebuild, and the machine that runs it loads its own.
'use strict';
const { spawn } = require('node:child_process');
const { existsSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
/** Read by lib/kernel/addon.ts (INSTALL_RESULT): keep the two names the same. */
const RESULT = path.join(root, 'install-result.json');
const on = (value) => value !== undefined && !['', '0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());
const STRICT = on(process.env.TCP_KEEPALIVE_STRICT_INSTALL);
// npm's --build-from-source sets "true"; prebuild-install's convention names packages.
const FROM_SOURCE = (() => {
  const value = process.env.npm_config_build_from_source;
  return value === 'true' || (value ?? '').split(',').map((name) => name.trim()).includes('tcp-keepalive');
})();

// The platform as lib/kernel/addon.ts names it (and node-gyp-build tells
// libcs apart): LIBC, else musl where /etc/alpine-release exists.
const libc = process.env.LIBC || (existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? `-${libc}` : ''}`;
const runtime = process.versions.bun ? `Bun ${process.versions.bun}` : `Node ${process.version}`;
const BUILT = path.join(root, 'build', 'Release', 'tcp_keepalive.node');
const PREBUILD = path.join(
  root,
  'prebuilds',
  `${process.platform}-${process.arch}`,
  process.platform === 'linux' ? `tcp-keepalive.${libc}.node` : 'tcp-keepalive.node',
);

// Written to a new file and renamed over the old, never through it: in a
// package store that hard-links one copy into many projects (pnpm), writing
// in place would change every project's record.
function record(result, details) {
  const temporary = `${RESULT}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify({ platform, runtime, result, ...details }, null, 2)}\n`);
    renameSync(temporary, RESULT);
  } catch (error) {
    rmSync(temporary, { force: true });
    console.error(`tcp-keepalive: could not write ${RESULT}: ${error.message}`);
  }
}

const relative = (file) => path.relative(root, file);

/** Loads `file` once; undefined when it loads, else why not (its first line). */
function loadError(file) {
  try {
    require(file);
    return undefined;
  } catch (error) {
    return firstLine(error.message);
  }
}

/** The first of build/Release and the prebuild that exists and loads here; else undefined. */
function loadable() {
  for (const file of [BUILT, PREBUILD].filter((f) => existsSync(f))) {
    const error = loadError(file);
    if (error === undefined) return file;
    console.error(`tcp-keepalive: ${relative(file)} does not load here (${error})`);
  }
  return undefined;
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
      // What node-gyp built is what a process will load first: it must load.
      const error = existsSync(BUILT) ? loadError(BUILT) : `node-gyp built no ${relative(BUILT)}`;
      if (error === undefined) record('built', { file: relative(BUILT) });
      else failed(`the addon was built, but does not load here: ${error}`, 1);
      return;
    }
    const reason = spawnError
      ? `${command} could not be started: ${spawnError.message}`
      : firstError(output) + (signal ? ` (node-gyp ended by ${signal})` : '');
    failed(reason, !spawnError && typeof code === 'number' && code > 0 ? code : 1);
  });
}

/** The build ended without an addon that loads: fail the install if the user asked for one, else record why and go on. */
function failed(reason, exitCode) {
  const asked = FROM_SOURCE
    ? 'the build from source you asked for (npm_config_build_from_source) failed'
    : STRICT && 'the build from source failed (TCP_KEEPALIVE_STRICT_INSTALL)';
  if (asked) {
    console.error(`tcp-keepalive: ${asked}: ${reason}`);
    rmSync(RESULT, { force: true });
    process.exitCode = exitCode;
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
}

if (process.platform !== 'win32') {
  // A build from source is asked for: no existing addon stands in for it.
  const file = FROM_SOURCE ? undefined : loadable();
  if (file) record(file === PREBUILD ? 'prebuild' : 'built', { file: relative(file) });
  else build();
}
