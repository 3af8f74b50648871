// Dead-peer detection on the real Linux TCP stack: each scenario runs in its
// own private network namespace, where a blackhole route makes the peer
// vanish at a known instant. Bounds follow from the options and the kernel's
// timer granularity (measured spread in the comments).
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../lib';
import { runOutage, type OutageResult, type OutageScenario } from '../lib/tools/outage';
import { haveNamespaces } from './helpers';

const namespaces = haveNamespaces();

const FAST = { idle: 1000, interval: 1000, count: 2 };
const scenarios = {
  // 1 s idle + 2 probes 1 s apart: 3 s (measured 3.05-3.07 s).
  idle: { keepalive: { with: 'tcp-keepalive', options: { ...FAST, userTimeout: 0 } }, side: 'client', inFlight: false, waitMs: 15_000 },
  // Unacknowledged data: only the user timeout applies, 2 s (measured 2.2-2.25 s, the first RTO tick after it).
  inFlight: { keepalive: { with: 'tcp-keepalive', options: { ...FAST, userTimeout: 2000 } }, side: 'client', inFlight: true, waitMs: 15_000 },
  // Control: Node's own keepalive cannot bound retransmissions (~15 min).
  control: { keepalive: { with: 'node', initialDelay: 1000 }, side: 'client', inFlight: true, waitMs: 8_000 },
  // The server is configured before listen; its accepted socket inherits it.
  server: { keepalive: { with: 'tcp-keepalive', options: { ...FAST, userTimeout: 0 } }, side: 'server', inFlight: false, waitMs: 15_000 },
  // The library defaults, as the kernel's timer shows them.
  defaults: { keepalive: { with: 'tcp-keepalive', options: {} }, side: 'client', inFlight: false, waitMs: 0, readTimer: true },
} satisfies Record<string, OutageScenario>;

const results: Partial<Record<keyof typeof scenarios, OutageResult>> = {};

describe.runIf(namespaces)('a peer that vanishes', () => {
  beforeAll(async () => {
    // Separate namespaces do not interfere: run them all at once.
    await Promise.all(
      (Object.keys(scenarios) as Array<keyof typeof scenarios>).map(async (key) => {
        results[key] = await runOutage(scenarios[key]);
      }),
    );
  }, 60_000);

  it('1. idle, { idle: 1000, interval: 1000, count: 2, userTimeout: 0 }: ETIMEDOUT in 2.5-4.5 s', () => {
    expect(results.idle).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    expect(results.idle!.afterMs).toBeGreaterThanOrEqual(2500);
    expect(results.idle!.afterMs).toBeLessThanOrEqual(4500);
  });

  it('2. with unacknowledged data, userTimeout: 2000: ETIMEDOUT in 1.8-3.5 s', () => {
    expect(results.inFlight).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    expect(results.inFlight!.afterMs).toBeGreaterThanOrEqual(1800);
    expect(results.inFlight!.afterMs).toBeLessThanOrEqual(3500);
  });

  it("3. control: the same with Node's socket.setKeepAlive(true, 1000) is still open after 8 s", () => {
    expect(results.control).toMatchObject({ outcome: 'open' });
    expect(results.control!.afterMs).toBeGreaterThanOrEqual(8000);
  });

  it('4. server side: setKeepAlive(server) before listen; the accepted socket notices a vanished client in 2.5-4.5 s', () => {
    expect(results.server).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    expect(results.server!.afterMs).toBeGreaterThanOrEqual(2500);
    expect(results.server!.afterMs).toBeLessThanOrEqual(4500);
  });

  it("5. the defaults are in force: the kernel's keepalive timer starts at the default idle (60 s)", () => {
    const timer = results.defaults!.timerSeconds;
    expect(timer).toBeDefined();
    expect(timer!).toBeLessThanOrEqual(DEFAULTS.idle / 1000);
    expect(timer!).toBeGreaterThan(DEFAULTS.idle / 1000 - 5);
  });
});
