// Bun: a supported runtime. A real Bun (npm: @oven/bun-linux-x64, fetched and
// cached by scripts/runtime.sh) runs the smoke suite test/fixtures/bun-smoke.cjs
// over the package as built here; it asserts with node:assert, prints one line
// per check and exits non-zero when any failed.
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import path = require('node:path');
import { have, haveOpenssl, havePython, linuxX64Only } from './helpers';

const root = path.join(__dirname, '..');
const BUN = '@oven/bun-linux-x64@1.4';

let bunPath: string | undefined;
function bun(): string {
  bunPath ??= path.join(
    execFileSync('bash', [path.join(root, 'scripts', 'runtime.sh'), BUN], { encoding: 'utf8' }).trim(),
    'bin',
    'bun',
  );
  return bunPath;
}

const haveBun = () =>
  have('Bun 1.4', () => /^1\.4\./.test(execFileSync(bun(), ['--version'], { encoding: 'utf8' })), `scripts/runtime.sh ${BUN} fetches it from npm`);

describe.runIf(linuxX64Only(`the Bun it runs is npm's ${BUN}`) && havePython() && haveOpenssl() && haveBun())('Bun 1.4', () => {
  it('runs the smoke suite: every target state, servers, TLS, coded errors, a worker, register(), getTcpInfo and inspectProcess', () => {
    const run = spawnSync(bun(), [path.join(__dirname, 'fixtures', 'bun-smoke.cjs')], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const output = `${run.stdout}${run.stderr}`;
    const passed = run.stdout.split('\n').filter((line) => line.startsWith('ok - '));
    expect(run.stdout, output).not.toMatch(/^not ok/m);
    expect(run.stdout, output).toMatch(new RegExp(`^Bun 1\\.4\\.\\d+: ${passed.length} passed, 0 failed$`, 'm'));
    expect(passed.length, output).toBeGreaterThanOrEqual(15);
    expect(run.status, output).toBe(0);
  }, 120_000);
});
