// The examples in docs/live-state.md and docs/api.md run as written: each
// ```js block, as a user's ES module importing 'tcp-keepalive' (this
// package, built), exits 0 with nothing on stderr, and every console.log with
// a `// ...` comment after it prints exactly that (the other lines print
// times and ports, which differ on every run).
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path = require('node:path');

const root = path.join(__dirname, '..');
const dir = mkdtempSync(path.join(tmpdir(), 'tcp-keepalive-docs-'));
mkdirSync(path.join(dir, 'node_modules'));
symlinkSync(root, path.join(dir, 'node_modules', 'tcp-keepalive'));
writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'docs', private: true, type: 'module' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const examples = ['docs/live-state.md', 'docs/api.md'].flatMap((file) => {
  const text = readFileSync(path.join(root, file), 'utf8');
  return [...text.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => ({
    file,
    line: text.slice(0, m.index).split('\n').length,
    code: m[1]!,
  }));
});

describe('the examples in docs/', () => {
  it('are there', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
  });

  for (const example of examples) {
    it(`${example.file}, line ${example.line}: runs, and prints what its comments say`, async () => {
      const script = path.join(dir, `${example.file.replace(/\W/g, '-')}-${example.line}.mjs`);
      writeFileSync(script, example.code);
      const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [script], { cwd: dir, encoding: 'utf8', timeout: 30_000 }, (error, out, err) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
        ),
      );
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const promised = [...example.code.matchAll(/console\.log\(.*\);(?: \/\/ (.*))?$/gm)].map((m) => m[1]);
      const printed = stdout === '' ? [] : stdout.trimEnd().split('\n');
      expect(printed).toHaveLength(promised.length);
      promised.forEach((text, i) => {
        if (text !== undefined) expect(printed[i]).toBe(text);
      });
    });
  }
});
