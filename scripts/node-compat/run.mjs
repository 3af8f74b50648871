// Node's own tests for net, tls, http, https, http2 and cluster, run with
// tcp-keepalive/register preloaded (NODE_OPTIONS='--require ...' and
// TCP_KEEPALIVE set), as a compatibility check: the preload must be invisible
// to everything but the kernel's keepalive settings.
//
//   usage: node scripts/node-compat/run.mjs <folder holding Node's test/> [--only <file> ...]
//
// Every test runs once with the preload. A test that fails is run again
// without it: one that passes there and fails with the preload a second
// time is a regression, and the exit status is 1. One that fails without
// the preload too is Node's own (this machine, this Node), reported and not
// counted; one that passed on the second try with the preload is reported as
// flaky. Tests left out are listed, with the reason, in ./excluded.txt.
// Parallel tests run two at a time (each with its own TEST_THREAD_ID, so its
// own tmp dir and ports); sequential ones one at a time, after.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const preload = path.join(root, 'dist', 'integrations', 'register.js');
const [treeArg, ...rest] = process.argv.slice(2);
if (treeArg === undefined) {
  console.error('usage: node scripts/node-compat/run.mjs <folder holding Node\'s test/> [--only <file> ...]');
  process.exit(2);
}
const tree = path.resolve(treeArg);
const only = rest.filter((arg) => arg !== '--only');

const SUBJECTS = /^test-(net|tls|http|https|http2|cluster)-.*\.m?js$/;
const TIMEOUT_MS = 120_000;
const TCP_KEEPALIVE = 'idle=10s,interval=2s,count=3';

const excluded = new Map(
  readFileSync(path.join(here, 'excluded.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const [file, ...reason] = line.split(/\s+/);
      return [file, reason.join(' ')];
    }),
);

function listTests(kind) {
  return readdirSync(path.join(tree, 'test', kind))
    .filter((name) => SUBJECTS.test(name))
    .map((name) => `${kind}/${name}`)
    .filter((file) => (only.length === 0 ? !excluded.has(file) : only.includes(file)))
    .sort();
}

// The flags a test asks for, as Node's tools/test.py reads them: every
// `// Flags:` line near the top.
function flagsOf(file) {
  const text = readFileSync(path.join(tree, 'test', file), 'utf8');
  return [...text.matchAll(/^\/\/ Flags:(.*)$/gm)].flatMap((m) => m[1].trim().split(/\s+/)).filter(Boolean);
}

function runOne(file, withPreload, slot) {
  // TEST_THREAD_ID gives each slot its own tmp dir (test/.tmp.<id>) and ports.
  const env = { ...process.env, TEST_THREAD_ID: String(slot) };
  delete env.NODE_OPTIONS;
  delete env.TCP_KEEPALIVE;
  if (withPreload) {
    env.NODE_OPTIONS = `--require ${preload}`;
    env.TCP_KEEPALIVE = TCP_KEEPALIVE;
  }
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...flagsOf(file), path.join(tree, 'test', file)], {
      cwd: tree,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ file, ok: code === 0, code, signal, ms: Date.now() - started, output });
    });
  });
}

async function runAll(files, withPreload, concurrency) {
  const results = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, slot) => {
      while (next < files.length) {
        const file = files[next++];
        results.push(await runOne(file, withPreload, slot));
        if (results.length % 100 === 0) {
          const failed = results.filter((r) => !r.ok).length;
          console.log(`node-compat: ${results.length} of ${files.length} run, ${failed} failed so far (${((Date.now() - started) / 1000).toFixed(0)} s)`);
        }
      }
    }),
  );
  return results;
}

const parallel = listTests('parallel');
const sequential = listTests('sequential');
const started = Date.now();
console.log(`node-compat: ${parallel.length + sequential.length} of Node ${readFileSync(path.join(tree, 'VERSION'), 'utf8').trim()}'s tests ` +
  `(net, tls, http, https, http2, cluster) on Node ${process.versions.node}, with --require tcp-keepalive/register and TCP_KEEPALIVE=${TCP_KEEPALIVE}; ` +
  `${excluded.size} left out (scripts/node-compat/excluded.txt)`);
const first = [...(await runAll(parallel, true, 2)), ...(await runAll(sequential, true, 1))];
const failed = first.filter((r) => !r.ok);

const regressions = [];
const nodesOwn = [];
const flaky = [];
for (const failure of failed) {
  const without = await runOne(failure.file, false, 0);
  if (!without.ok) {
    nodesOwn.push(failure.file);
    continue;
  }
  const again = await runOne(failure.file, true, 0);
  if (again.ok) flaky.push(failure.file);
  else regressions.push(again);
}

const seconds = ((Date.now() - started) / 1000).toFixed(0);
console.log(`node-compat: ${first.length - failed.length} passed with the preload, ${nodesOwn.length} fail without it too (Node's own here), ` +
  `${flaky.length} flaky, ${regressions.length} fail only with it; ${seconds} s`);
for (const file of nodesOwn) console.log(`  fails without the preload too: ${file}`);
for (const file of flaky) console.log(`  failed once with the preload, passed when run again: ${file}`);
for (const r of regressions) {
  console.log(`\n  REGRESSION ${r.file} (exit ${r.code ?? r.signal}):`);
  console.log(r.output.split('\n').slice(0, 40).map((line) => `    ${line}`).join('\n'));
}
process.exitCode = regressions.length > 0 ? 1 : 0;
