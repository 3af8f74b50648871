// Docs that run: every JavaScript and TypeScript example in README.md and
// docs/ is executed here, as a user's ES module importing the package by name,
// against real sockets and, where the example is a client's, a real server.
// Where an example shows what a console.log prints (a `// ...` comment at the
// end of its line, or on the line right under it), the output must be exactly
// that, spacing aside; a console.log without one prints what differs from run
// to run (times, ports), and only its line is counted. Fences
// without a language (signatures) and shell blocks are not run; the package
// test type-checks the examples against the packed package.
//
// The examples name the servers' usual addresses; each is replaced with the
// test server's: Redis 6379, PostgreSQL 5432 (and DATABASE_URL), MariaDB 3306
// (its user `app` with root, which the test server lets in), an HTTP and
// WebSocket server 8080.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http = require('node:http');
import type net = require('node:net');
import path = require('node:path');
import { transformSync } from 'esbuild';
import { WebSocketServer } from 'ws';
import { linuxOnly, notOnWindows } from './helpers';
import { haveMariaDB, havePostgres, haveRedis, startMariaDB, startPostgres, startRedis, type Server } from './servers';

const root = path.join(__dirname, '..');
// Inside the package, so that `import ... from 'tcp-keepalive'` finds the
// package itself (its own exports) and the clients from its node_modules.
const work = path.join(root, '.docs-run');

interface Example {
  file: string;
  line: number;
  lang: string;
  code: string;
  /** What each console.log prints, in order: its `// ...` comment, or undefined where it shows none. */
  prints: Array<string | undefined>;
}

function examplesOf(file: string): Example[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/^```(js|ts)\n([\s\S]*?)^```$/gm)].map((m) => {
    const code = m[2]!;
    const lines = code.split('\n');
    const prints = lines.flatMap((l, i) => {
      if (!/console\.log\(/.test(l)) return [];
      const sameLine = /\);\s*\/\/ (.*)$/.exec(l);
      if (sameLine) return [sameLine[1]!];
      return [/^\s*\/\/ /.test(lines[i + 1] ?? '') ? lines[i + 1]!.replace(/^\s*\/\/ /, '') : undefined];
    });
    return { file, line: text.slice(0, m.index).split('\n').length + 1, lang: m[1]!, code, prints };
  });
}

const files = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const examples = files.flatMap(examplesOf);
const uses = (e: Example, what: RegExp) => what.test(e.code);
const needsRedis = (e: Example) => uses(e, /ioredis|iovalkey|\b6379\b/);
const needsPostgres = (e: Example) => uses(e, /from 'pg'|from 'postgres'|DATABASE_URL/);
const needsMariaDB = (e: Example) => uses(e, /mysql2/);
// What only Linux shows: another process's sockets, getTcpInfo's probe and
// backoff fields (macOS reports five fields), the keepalive sysctls.
const needsLinux = (e: Example) => uses(e, /inspectProcess|getTcpInfo|systemDefaults/);

// One spelling for comparison: whitespace collapsed, digit groups (30_000) joined.
const normal = (text: string) => text.replace(/(\d)_(?=\d)/g, '$1').replace(/\s+/g, ' ').trim();

let redis: Server | undefined;
let postgres: Server | undefined;
let mariadb: Server | undefined;
let web: http.Server;
let wss: WebSocketServer;
const canRedis = examples.some(needsRedis) && haveRedis();
const canPostgres = examples.some(needsPostgres) && havePostgres();
const canMariaDB = examples.some(needsMariaDB) && haveMariaDB();
const canLinux = examples.some(needsLinux) && linuxOnly('inspectProcess, the fields of getTcpInfo they print and systemDefaults are Linux\'s');
// Windows has no addon: the examples' interval, count and user timeout cannot be set there, nor anything read back.
const canRead = notOnWindows('the examples set what only the addon can and read it back');

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  web = http.createServer((_, res) => res.end('ok'));
  wss = new WebSocketServer({ server: web });
  web.listen(0, '127.0.0.1');
  await once(web, 'listening');
  [redis, postgres, mariadb] = await Promise.all([
    canRedis ? startRedis() : undefined,
    canPostgres ? startPostgres() : undefined,
    canMariaDB ? startMariaDB() : undefined,
  ]);
}, 120_000);

afterAll(async () => {
  wss?.close();
  web?.closeAllConnections();
  web?.close();
  await Promise.all([redis?.stop(), postgres?.stop(), mariadb?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

function prepare(e: Example): string {
  let code = e.code
    .replace(/\b8080\b/g, String((web.address() as net.AddressInfo).port))
    .replace(/\b6379\b/g, String(redis?.port ?? 6379))
    .replace(/\b5432\b/g, String(postgres?.port ?? 5432))
    .replace(/\b3306\b/g, String(mariadb?.port ?? 3306))
    .replace(/user: 'app'/g, "user: 'root'");
  if (e.lang === 'ts') code = transformSync(code, { loader: 'ts', format: 'esm', target: 'node20' }).code;
  const file = path.join(work, `${e.file.replace(/\W/g, '-')}-${e.line}.mjs`);
  writeFileSync(file, code);
  return file;
}

/**
 * Runs an example until it exits, or until it has printed all it promises
 * and stayed quiet a moment (a client example keeps its connection open, as
 * an application would): its output, its stderr, and how it ended.
 */
async function run(e: Example): Promise<{ stdout: string; stderr: string; code: number | null; stillRunning: boolean }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGUSER: 'postgres' };
  delete env.TCP_KEEPALIVE;
  delete env.NODE_OPTIONS;
  if (postgres) env.DATABASE_URL = `postgres://postgres@127.0.0.1:${postgres.port}/postgres`;
  const child = spawn(process.execPath, [prepare(e)], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const done = () => stdout.split('\n').length > e.prints.length;
  const deadline = Date.now() + 15_000;
  let settledAt: number | undefined;
  for (;;) {
    const result = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 100))]);
    if (result !== undefined) return { stdout, stderr, code: result[0], stillRunning: false };
    if (done()) settledAt ??= Date.now();
    if ((settledAt !== undefined && Date.now() - settledAt > 1500) || Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      return { stdout, stderr, code: null, stillRunning: true };
    }
  }
}

// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
function anchorsOf(file: string): Set<string> {
  let fenced = false;
  const anchors = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = /^#+ (.*)$/.exec(line);
    if (!fenced && heading) anchors.add(heading[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));
  }
  return anchors;
}

describe('README.md and docs/', () => {
  it('link only to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^https?:/.test(link!)) continue;
        const [target, anchor] = link!.split('#');
        const resolved = target === '' ? path.join(root, file) : path.join(root, path.dirname(file), target!);
        if (!existsSync(resolved)) broken.push(`${file}: ${link} (no such file)`);
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) broken.push(`${file}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe.runIf(canRead)('every JavaScript and TypeScript example in README.md and docs/ runs', () => {
  it('finds them', () => {
    expect(examples.length).toBeGreaterThanOrEqual(10);
    // The signatures in the API reference are not examples: they sit in fences without a language.
    for (const e of examples) expect(e.code, `${e.file}:${e.line}`).toMatch(/\bimport\b/);
  });

  for (const e of examples) {
    const missing =
      (needsRedis(e) && !canRedis && 'redis-server') || (needsPostgres(e) && !canPostgres && 'PostgreSQL') || (needsMariaDB(e) && !canMariaDB && 'MariaDB') ||
      (needsLinux(e) && !canLinux && 'Linux');
    it.skipIf(Boolean(missing))(`${e.file}:${e.line}${e.prints.some((p) => p !== undefined) ? ', printing what it shows' : ''}`, async () => {
      const { stdout, stderr, code, stillRunning } = await run(e);
      expect(stderr, `${e.file}:${e.line} wrote to stderr`).toBe('');
      if (!stillRunning) expect(code, `${e.file}:${e.line} exit code`).toBe(0);
      if (e.prints.every((p) => p !== undefined)) {
        // All shown: compared as one text, as an object console.log spreads over lines reads the same.
        expect(normal(stdout)).toBe(normal(e.prints.join(' ')));
      } else {
        // Some lines differ from run to run: one line per console.log, the shown ones exact.
        const printed = stdout.trimEnd().split('\n');
        expect(printed).toHaveLength(e.prints.length);
        e.prints.forEach((shown, i) => {
          if (shown !== undefined) expect(normal(printed[i]!)).toBe(normal(shown));
        });
      }
    }, 30_000);
  }
});
