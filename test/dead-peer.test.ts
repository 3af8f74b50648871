// The `tcp-keepalive:dead-peer` event, on the real Linux TCP stack: each
// case in its own private network namespace (lib/tools/outage.ts), with a
// subscriber in the process whose socket dies. Published once when the
// kernel ends a connection this library configured (directly, through a
// listening socket, process-wide), never when the peer closed or reset it.
import { describe, expect, it } from 'vitest';
import { returnCutUnavailable, runOutage, type OutageDeadPeer, type OutageResult, type OutageScenario } from '../lib/tools/outage';
import { readEnvironment } from '../lib/integrations/environment';
import { have, haveNamespaces, notOnWindows, thrownBy } from './helpers';

const namespaces = haveNamespaces();
const nft = namespaces && have('nft (nftables)', () => returnCutUnavailable() === undefined, 'apt-get install -y nftables (scripts/test-deps.sh)');

// The harness's addresses (outage-child.ts): the server's and the client's.
const SERVER = '127.0.0.2';
const CLIENT = '127.0.0.3';
// The kernel's timers fire on jiffies and the harness starts its clock just
// after the peer vanished: a figure may exceed its budget by this much.
const SLACK_MS = 1500;

const idle = { idle: 1000, interval: 1000, count: 3 };
const scenarios: Record<string, OutageScenario | false> = {
  idleClient: namespaces && { keepalive: { with: 'tcp-keepalive', options: idle }, side: 'client', inFlight: false, waitMs: 15_000, deadPeerEvents: true },
  idleServer: namespaces && { keepalive: { with: 'tcp-keepalive', options: idle }, side: 'server', inFlight: false, waitMs: 15_000, deadPeerEvents: true },
  idleProcessWide: namespaces && { keepalive: { with: 'register', options: idle }, side: 'client', inFlight: false, waitMs: 15_000, deadPeerEvents: true },
  inFlight: nft && {
    keepalive: { with: 'tcp-keepalive', options: { idle: 1000, interval: 1000, count: 5, userTimeout: 3000 } },
    side: 'client',
    inFlight: true,
    cut: 'return',
    waitMs: 15_000,
    deadPeerEvents: true,
  },
  closes: namespaces && { keepalive: { with: 'tcp-keepalive', options: idle }, side: 'client', inFlight: false, peer: 'closes', waitMs: 5000, deadPeerEvents: true },
  resets: namespaces && { keepalive: { with: 'tcp-keepalive', options: idle }, side: 'client', inFlight: false, peer: 'resets', waitMs: 5000, deadPeerEvents: true },
  // The other end (the server's accepted socket) is ours, and dies first
  // (its probes' answers go to the blackholed address); the watched client,
  // Node's own setKeepAlive (1 s + 10 x 1 s), dies later.
  logged: namespaces && {
    keepalive: { with: 'nothing' },
    side: 'client',
    inFlight: false,
    waitMs: 15_000,
    preloadRegister: 'idle=1s,interval=1s,count=2,log=dead-peer',
  },
  unconfigured: namespaces && {
    keepalive: { with: 'node', initialDelay: 1000 },
    side: 'client',
    inFlight: false,
    waitMs: 20_000,
    deadPeerEvents: true,
    configureOther: idle,
  },
};
// All start at once (separate namespaces do not interfere); each test waits for its own.
const runs = Object.fromEntries(
  Object.entries(scenarios).map(([name, scenario]) => {
    const run = scenario === false ? undefined : runOutage(scenario);
    run?.catch(() => {}); // reported by the test that awaits it
    return [name, run];
  }),
) as Record<keyof typeof scenarios, Promise<OutageResult> | undefined>;

/** The one event the run published, for the socket that died. */
function onlyEvent(result: OutageResult): OutageDeadPeer {
  expect(result.deadPeers).toHaveLength(1);
  const [event] = result.deadPeers!;
  expect(event!.watched).toBe(true);
  expect(event!.error).toBe('ETIMEDOUT');
  expect(event!.tcpInfo.state).toBe('CLOSED');
  return event!;
}

describe.runIf(namespaces)('tcp-keepalive:dead-peer when an idle peer vanishes (blackhole route)', () => {
  it('a client configured with setKeepAlive: once, cause keepalive, 3 probes, silent for its budget of 1 + 3 x 1 s, and which peer', async () => {
    const result = await runs.idleClient!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    const event = onlyEvent(result);
    expect(event).toMatchObject({
      family: 'IPv4',
      localAddress: CLIENT,
      remoteAddress: SERVER,
      cause: 'keepalive',
      probesSent: 3,
      unackedFor: 0,
      budget: 4000,
      configuration: { enable: true, idle: 1000, interval: 1000, count: 3, userTimeout: 4000 },
    });
    expect(event.localPort).toBeGreaterThan(0);
    expect(event.remotePort).toBeGreaterThan(0);
    expect(event.silentFor).toBeGreaterThanOrEqual(event.budget! - SLACK_MS);
    expect(event.silentFor).toBeLessThanOrEqual(event.budget! + SLACK_MS);
    expect(event.tcpInfo.unansweredProbes).toBe(3);
  }, 40_000);

  it("a server's accepted connection, configured through its listening socket: the client is the peer", async () => {
    const result = await runs.idleServer!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    const event = onlyEvent(result);
    expect(event).toMatchObject({ localAddress: SERVER, remoteAddress: CLIENT, cause: 'keepalive', probesSent: 3, budget: 4000 });
  }, 40_000);

  it('process-wide (register): both ends are ours, and each gets its event', async () => {
    const result = await runs.idleProcessWide!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    const byEnd = Object.fromEntries(result.deadPeers!.map((e) => [e.localAddress, e]));
    expect(result.deadPeers).toHaveLength(2);
    const configuration = { enable: true, idle: 1000, interval: 1000, count: 3, userTimeout: 4000 };
    expect(byEnd[CLIENT]).toMatchObject({ watched: true, remoteAddress: SERVER, cause: 'keepalive', probesSent: 3, configuration });
    expect(byEnd[SERVER]).toMatchObject({ watched: false, remoteAddress: CLIENT, cause: 'keepalive', probesSent: 3, configuration });
  }, 40_000);
});

describe.runIf(namespaces)('TCP_KEEPALIVE=...,log=dead-peer with --require tcp-keepalive/register', () => {
  it('one line on stderr for each dead end of the connection, saying which peer, why and against what budget', async () => {
    const result = await runs.logged!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    const lines = result.stderr!.filter((line) => line.startsWith('tcp-keepalive: '));
    expect(lines).toHaveLength(2); // the process-wide mode configured both ends
    const pattern = (from: string, to: string) =>
      new RegExp(`^tcp-keepalive: dead peer ${to.replaceAll('.', '\\.')}:\\d+ \\(from ${from.replaceAll('.', '\\.')}:\\d+\\): keepalive, 2 probes unanswered, silent for 3(\\.\\d)? s; the configuration promised 3 s$`);
    expect(lines.some((line) => pattern(CLIENT, SERVER).test(line)), lines.join('\n')).toBe(true);
    expect(lines.some((line) => pattern(SERVER, CLIENT).test(line)), lines.join('\n')).toBe(true);
  }, 40_000);
});

describe.runIf(nft)('tcp-keepalive:dead-peer when data is in flight and the way back is cut (nftables)', () => {
  it('cause userTimeout: no probe sent, data unacknowledged for its budget of 3 s', async () => {
    const result = await runs.inFlight!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    const event = onlyEvent(result);
    expect(event).toMatchObject({ cause: 'userTimeout', probesSent: 0, budget: 3000, remoteAddress: SERVER });
    expect(event.tcpInfo.retransmits).toBeGreaterThan(0);
    expect(event.unackedFor).toBeGreaterThanOrEqual(3000 - SLACK_MS);
    expect(event.unackedFor).toBeLessThanOrEqual(3000 + SLACK_MS);
  }, 40_000);
});

describe.runIf(namespaces)('no tcp-keepalive:dead-peer where the peer did not die silently', () => {
  it('the peer closes its end normally: closed, no event', async () => {
    const result = await runs.closes!;
    expect(result.outcome).toBe('closed');
    expect(result.deadPeers).toEqual([]);
  }, 30_000);

  it('the peer resets the connection: ECONNRESET, no event', async () => {
    const result = await runs.resets!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ECONNRESET' });
    expect(result.deadPeers).toEqual([]);
  }, 30_000);

  it("a socket this library did not configure (Node's own setKeepAlive) dies of ETIMEDOUT: no event for it, one for the end that was ours", async () => {
    const result = await runs.unconfigured!;
    expect(result).toMatchObject({ outcome: 'error', code: 'ETIMEDOUT' });
    expect(result.afterMs).toBeGreaterThan(9000); // Node's 1 s + 10 x 1 s, not ours
    expect(result.deadPeers).toHaveLength(1);
    expect(result.deadPeers![0]).toMatchObject({ watched: false, localAddress: SERVER, remoteAddress: CLIENT, cause: 'keepalive', probesSent: 3 });
  }, 40_000);
});

describe.runIf(notOnWindows('a deadline is checked as setKeepAlive checks it, and Node 20 and 22 cannot set its interval and count there'))('TCP_KEEPALIVE log=dead-peer, as read', () => {
  it('is taken beside options or a deadline, and names what to log; anything else is refused as setKeepAlive refuses', () => {
    expect(readEnvironment('idle=10s,log=dead-peer')).toEqual({ options: { idle: 10_000 }, logDeadPeers: true });
    expect(readEnvironment('log=dead-peer')).toEqual({ options: {}, logDeadPeers: true });
    expect(readEnvironment('within=30s,log=dead-peer').logDeadPeers).toBe(true);
    expect(readEnvironment('idle=10s')).toEqual({ options: { idle: 10_000 }, logDeadPeers: false });
    for (const text of ['log=everything', 'log=', 'idle=10s,log=dead-peer,log=dead-peer']) {
      expect({ text, code: thrownBy(() => readEnvironment(text)).code }).toEqual({ text, code: 'ERR_INVALID_ARG_VALUE' });
    }
  });
});
