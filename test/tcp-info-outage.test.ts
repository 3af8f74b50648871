// What getTcpInfo shows while a peer dies, on the real Linux TCP stack, each
// case in its own private network namespace (lib/tools/outage.ts):
// - an idle peer behind a blackhole route: keepalive probes go out one per
//   interval and stay unanswered, the count climbs 1, 2, 3... while the time
//   since data was last received grows, until ETIMEDOUT;
// - data in flight with only the way back cut (nftables drops what the peer
//   sends): the request leaves and is never acknowledged, so the kernel sends
//   no keepalive probe; it retransmits, the backoff climbs 1, 2, 3..., until
//   TCP_USER_TIMEOUT ends it.
import { beforeAll, describe, expect, it } from 'vitest';
import { returnCutUnavailable, runOutage, type OutageResult } from '../lib/tools/outage';
import { have, haveNamespaces } from './helpers';

const namespaces = haveNamespaces();
const nft = namespaces && have('nft (nftables)', () => returnCutUnavailable() === undefined, 'apt-get install -y nftables (scripts/test-deps.sh)');

// Strictly climbing by one from `from` to at least `to`, then holding: the
// readings between two probes (or two retransmissions) repeat the last count.
function climbs(values: number[], from: number, to: number): boolean {
  const distinct = values.filter((v, i) => i === 0 || v !== values[i - 1]);
  return distinct[0] === from && distinct.every((v, i) => v === from + i) && distinct[distinct.length - 1]! >= to;
}

// Both start at once (separate namespaces do not interfere); each describe waits for its own.
const idlePeer =
  namespaces &&
  runOutage({
    keepalive: { with: 'tcp-keepalive', options: { idle: 1000, interval: 1000, count: 5 } },
    side: 'client',
    inFlight: false,
    waitMs: 20_000,
    // A reading half-way between probes, which go out at 1, 2, 3, 4 and 5 s.
    sample: { firstMs: 500, everyMs: 1000 },
  });
const inFlight =
  nft &&
  runOutage({
    keepalive: { with: 'tcp-keepalive', options: { idle: 1000, interval: 1000, count: 5, userTimeout: 5000 } },
    side: 'client',
    inFlight: true,
    cut: 'return',
    waitMs: 20_000,
    sample: { firstMs: 100, everyMs: 100 },
  });

// Awaited in the describes below; a failure is reported there, not as an unhandled rejection first.
for (const run of [idlePeer, inFlight]) if (run) run.catch(() => {});

describe.runIf(namespaces)('getTcpInfo while an idle peer vanishes (blackhole route)', () => {
  let result: OutageResult;
  beforeAll(async () => {
    result = await (idlePeer as Promise<OutageResult>);
  }, 40_000);

  it('{ idle: 1000, interval: 1000, count: 5 }: ETIMEDOUT after 1 + 5 x 1 s (5.5-7.5 s)', () => {
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    expect(result.afterMs).toBeGreaterThanOrEqual(5500);
    expect(result.afterMs).toBeLessThanOrEqual(7500);
  });

  it('unanswered probes climb 0, 1, 2, 3, 4, 5, one a second, while the time since data was received grows', () => {
    const samples = result.samples!;
    expect(samples.length).toBeGreaterThanOrEqual(6);
    expect(samples.every((s) => s.info.state === 'ESTABLISHED')).toBe(true);
    const probes = samples.map((s) => s.info.unansweredProbes);
    expect(climbs(probes, 0, 5), probes.join(' ')).toBe(true);
    // Each probe one second after the one before: the count at a reading is the whole seconds since the idle time ran out.
    for (const s of samples) expect(s.info.unansweredProbes, `at ${s.atMs} ms`).toBe(Math.min(5, Math.floor(s.atMs / 1000)));
    const silence = samples.map((s) => s.info.sinceLastDataReceived);
    for (let i = 1; i < silence.length; i++) expect(silence[i]!).toBeGreaterThan(silence[i - 1]!);
    for (const s of samples) expect(s.info.sinceLastDataReceived).toBeGreaterThanOrEqual(s.atMs);
    // Keepalive, not retransmission: nothing was in flight.
    expect(samples.every((s) => s.info.unackedSegments === 0 && s.info.retransmits === 0)).toBe(true);
  });
});

describe.runIf(nft)('getTcpInfo while data is in flight and the way back is cut (nftables)', () => {
  let result: OutageResult;
  beforeAll(async () => {
    result = await (inFlight as Promise<OutageResult>);
  }, 40_000);

  it('userTimeout: 5000 ends it: ETIMEDOUT in 5-6.5 s', () => {
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    expect(result.afterMs).toBeGreaterThanOrEqual(5000);
    expect(result.afterMs).toBeLessThanOrEqual(6500);
  });

  it('one segment unacknowledged throughout, backoff and retransmits climbing 1, 2, 3..., and no keepalive probe sent', () => {
    const samples = result.samples!;
    expect(samples.length).toBeGreaterThanOrEqual(40);
    expect(samples.every((s) => s.info.state === 'ESTABLISHED' && s.info.unackedSegments === 1)).toBe(true);
    expect(samples.every((s) => s.info.unansweredProbes === 0)).toBe(true);
    const backoff = samples.map((s) => s.info.backoff);
    expect(climbs(backoff, 0, 3), backoff.join(' ')).toBe(true);
    expect(samples.map((s) => s.info.retransmits)).toEqual(backoff);
    // Each retransmission doubles the timeout.
    const byBackoff = new Map(samples.map((s) => [s.info.backoff, s.info.retransmitTimeout]));
    for (const [b, rto] of byBackoff) if (b > 0 && byBackoff.has(b - 1)) expect(rto).toBe(byBackoff.get(b - 1)! * 2);
    expect(samples[samples.length - 1]!.info.totalRetransmits).toBeGreaterThanOrEqual(3);
  });
});
