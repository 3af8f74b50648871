// `npm run demo` is the project's main job: run the real command.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import net = require('node:net');
import path = require('node:path');
import { returnCutUnavailable } from '../lib/tools/outage';
import { have, haveNamespaces, runs } from './helpers';

const cli = path.join(__dirname, '..', 'dist', 'tools', 'cli.js');
const namespaces = haveNamespaces();
const nft = namespaces && have('nft (nftables)', () => returnCutUnavailable() === undefined, 'apt-get install -y nftables (scripts/test-deps.sh)');

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// Node 24.21+ and 26 take setKeepAlive(enable, delay, interval, count): there
// the demo compares with Node's call at its best, interval and count set.
const fourArguments = net.Socket.prototype.setKeepAlive.length >= 4;

describe.runIf(namespaces)('tcp-keepalive demo', () => {
  it(`shows the four cases, detection times, and exits 0; Node's own call ${fourArguments ? 'with interval and count (Node 24.21+, 26)' : 'with the idle time only (Node 20, 22)'}`, async () => {
    const { code, stdout, stderr } = await run(process.execPath, [cli, 'demo']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const line = (start: string) => stdout.split('\n').find((l) => l.trimStart().startsWith(start)) ?? '';
    // The kernel counts an idle peer's 3 s from the data last received, which
    // is just before the route that makes the peer vanish is in place (and
    // the demo's clock starts): 2.9 s measured under AddressSanitizer.
    if (fourArguments) {
      expect(line('peer vanished')).toMatch(/Node's socket\.setKeepAlive\(true, 1000, 1000, 2\)\s+tcp-keepalive/);
      expect(line('idle peer ')).toMatch(/^\s+idle peer\s+ETIMEDOUT after [2-4]\.\d s\s+ETIMEDOUT after [2-4]\.\d s \(userTimeout: 0\)$/);
      expect(stdout).toMatch(/'s own call takes an interval and a count too, so it finds an idle peer as fast/);
    } else {
      expect(line('peer vanished')).toMatch(/Node's socket\.setKeepAlive\(true, 1000\)\s+tcp-keepalive/);
      expect(line('idle peer ')).toMatch(/^\s+idle peer\s+ETIMEDOUT after (1[01]|12)\.\d s\s+ETIMEDOUT after [2-4]\.\d s \(userTimeout: 0\)$/);
      expect(stdout).toMatch(/sets only the idle time and forces 10 probes 1 s apart \(11 s\)/);
    }
    expect(line('data in flight ')).toMatch(
      /^\s+data in flight\s+still open after 8\.\d s, gave up waiting\s+ETIMEDOUT after [23]\.\d s \(userTimeout: 2000\)$/,
    );
    expect(stdout).toMatch(/the control case waits 8 s for an error that will not come/);
    expect(stdout).toMatch(/only TCP_USER_TIMEOUT bounds that/);

    // Which case is which, and what getTcpInfo read while it happened.
    expect(stdout).toMatch(/^ {2}idle peer: a blackhole route drops every packet to the peer\. Nothing is in flight, so only keepalive$/m);
    const rows = (row: string) => stdout.split('\n').filter((l) => new RegExp(`^\\s+\\d+\\.\\d s\\s+${row}\\s{2}`).test(l));
    const readings = (row: string) => rows(row).filter((l) => !l.includes('tcp-keepalive:dead-peer: '));
    // What a subscriber to tcp-keepalive:dead-peer is told, once per tcp-keepalive socket, just before its error.
    const told = (row: string) => rows(row).filter((l) => l.includes('tcp-keepalive:dead-peer: '));
    expect(told('idle peer')).toHaveLength(1);
    expect(told('idle peer')[0]).toMatch(
      /^\s+[2-4]\.\d s\s+idle peer\s+tcp-keepalive:dead-peer: dead peer 127\.0\.0\.2:\d+ \(from 127\.0\.0\.3:\d+\): keepalive, 2 probes unanswered, silent for [2-4](\.\d)? s; the configuration promised 3 s$/,
    );
    expect(told('data in flight')).toHaveLength(1);
    expect(told('data in flight')[0]).toMatch(
      /^\s+[23]\.\d s\s+data in flight\s+tcp-keepalive:dead-peer: dead peer 127\.0\.0\.2:\d+ \(from 127\.0\.0\.3:\d+\): user timeout, data unacknowledged for [2-4](\.\d)? s; the configuration promised 2 s$/,
    );
    const idle = readings('idle peer');
    // Half-way between probes (they go out at 1 s and 2 s): 0, 1, 2 unanswered, then the kernel gives up.
    expect(idle.slice(0, 3).map((l) => /(\d) of 2 keepalive probes unanswered, nothing received for \d+\.\d s$/.exec(l)?.[1])).toEqual(['0', '1', '2']);
    expect(idle[3]).toMatch(/^\s+[2-4]\.\d s\s+idle peer\s+ETIMEDOUT: 2 keepalive probes went unanswered, so the kernel gave up$/);
    expect(idle).toHaveLength(4);
    const inFlight = readings('data in flight');
    expect(inFlight.at(-1)).toMatch(/^\s+[23]\.\d s\s+data in flight\s+ETIMEDOUT: the user timeout \(2 s\) ran out with the data still unacknowledged$/);
    if (nft) {
      expect(stdout).toMatch(/^ {2}data in flight: nftables drops every packet from the peer\. A request has left and waits for its ACK, so$/m);
      // Retransmissions, not probes: one segment unacknowledged, the backoff climbing, no probe.
      const backoff = inFlight.slice(0, -1).map((l) => {
        const m = /ESTABLISHED, 1 segment unacknowledged, (\d+) retransmissions?, backoff (\d+) \(retransmission timeout \d+\.\d s\), 0 probes$/.exec(l);
        expect(m, l).not.toBeNull();
        expect(m![1]).toBe(m![2]);
        return Number(m![2]);
      });
      expect(backoff.length).toBeGreaterThanOrEqual(3);
      expect(backoff[0]).toBeGreaterThanOrEqual(1);
      expect(backoff.every((b, i) => i === 0 || b >= backoff[i - 1]!)).toBe(true);
      expect(backoff.at(-1)).toBeGreaterThan(backoff[0]!);
    }
  });

  it('where namespaces are refused: says what is missing, no stack trace, exit 2', async () => {
    // A user namespace whose limit for further namespaces is 0: the demo's own
    // unshare is refused, as on a host that forbids them.
    if (!have('unshare', runs('unshare', ['--version']), 'install util-linux')) return;
    const { code, stdout, stderr } = await run('unshare', [
      '--user',
      '--map-root-user',
      'sh',
      '-c',
      `echo 0 > /proc/sys/user/max_user_namespaces && exec "${process.execPath}" "${cli}" demo`,
    ]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^tcp-keepalive demo makes a peer vanish inside a private network namespace, and cannot make one here\.\n/);
    expect(stderr).toMatch(/missing: an unprivileged user \+ network namespace \(unshare said: .+\)/);
    expect(stderr).toMatch(/fix: {5}allow unprivileged user namespaces/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

describe('tcp-keepalive command line', () => {
  it('--help explains, an unknown command is a one-line error', async () => {
    const help = await run(process.execPath, [cli, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: tcp-keepalive <command>/);
    const bad = await run(process.execPath, [cli, 'demoo']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("tcp-keepalive: unknown command 'demoo' (see tcp-keepalive --help)\n");
  });
});
