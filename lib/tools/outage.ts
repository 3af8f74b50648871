// A real outage on the real Linux TCP stack, with no root and no effect on
// the host: each scenario runs in a child `node` inside its own user and
// network namespace (`unshare --user --map-root-user --net`), where a
// blackhole route makes the peer vanish, or nftables drops only what the
// peer sends back. The namespace dies with the child.
import { execFileSync, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path = require('node:path');
import { createInterface } from 'node:readline';
import type { DeadPeer } from '../engine/dead-peer';
import type { KeepAliveOptions } from '../engine/options';
import type { TcpInfo } from '../kernel/seam';

/** How the watched socket is configured before its peer vanishes. */
export type OutageKeepAlive =
  | { with: 'tcp-keepalive'; options: KeepAliveOptions }
  // The process-wide mode: register(options) before any socket is made.
  | { with: 'register'; options: KeepAliveOptions }
  // Node's own socket.setKeepAlive(true, initialDelay), or with interval and
  // count (initialDelay, interval, count) where Node takes four arguments (24.21+, 26).
  | { with: 'node'; initialDelay: number; interval?: number; count?: number }
  | { with: 'nothing' };

export interface OutageScenario {
  keepalive: OutageKeepAlive;
  /** Whose socket must notice: the client's, or the server's accepted socket (configured through the server). */
  side: 'client' | 'server';
  /** Write a few bytes right after the peer vanished, so they stay unacknowledged. */
  inFlight: boolean;
  /** Give up and report the socket still open after this many ms. */
  waitMs: number;
  /** Instead of an outage, read the keepalive timer `ss -tio` shows for the watched socket. */
  readTimer?: boolean;
  /**
   * How the peer vanishes. `blackhole` (the default): a blackhole route
   * drops everything sent to it, so nothing leaves at all (a write then sits
   * unsent). `return`: nftables drops everything the peer sends, so data
   * leaves and is never acknowledged: really in flight.
   */
  cut?: 'blackhole' | 'return';
  /** Read getTcpInfo of the watched socket at firstMs after the peer vanished, then every everyMs, until the outcome. */
  sample?: { firstMs: number; everyMs: number };
  /**
   * What the peer does instead of vanishing: closes its end normally (FIN),
   * or resets it (RST). Either way the watched socket hears of it at once.
   */
  peer?: 'vanishes' | 'closes' | 'resets';
  /** Subscribe to `tcp-keepalive:dead-peer` in the child and report every message. */
  deadPeerEvents?: boolean;
  /** Configure the other end of the connection too (with setKeepAlive), so that it dies as well. */
  configureOther?: KeepAliveOptions;
  /**
   * Start the child with `--require tcp-keepalive/register` and this
   * TCP_KEEPALIVE, as an operator would; what it writes on stderr is reported.
   */
  preloadRegister?: string;
}

/** A `tcp-keepalive:dead-peer` message as the child saw it: its socket told by `watched`, its error by code. */
export type OutageDeadPeer = Omit<DeadPeer, 'socket' | 'error'> & { watched: boolean; error: string | undefined };

/** One reading of the watched socket during an outage. */
export interface OutageSample {
  /** Since the peer vanished, ms. */
  atMs: number;
  info: TcpInfo;
}

export interface OutageResult {
  /** `error`: the socket failed (code says why); `open`: nothing happened within waitMs. */
  outcome: 'error' | 'open' | 'closed';
  code?: string;
  /** From the instant the peer vanished to the outcome, ms. */
  afterMs: number;
  /** With readTimer: seconds left on the kernel's keepalive timer (undefined when off). */
  timerSeconds?: number;
  /** With sample: every reading, in order. */
  samples?: OutageSample[];
  /** With deadPeerEvents: every message published, in order. */
  deadPeers?: OutageDeadPeer[];
  /** With preloadRegister: the lines the child wrote on stderr. */
  stderr?: string[];
}

/**
 * The keepalive timer in `ss -tion` output, in seconds left (undefined when
 * the socket has none). ss prints it as [<m>min][<s>sec | <s>.][<ms>ms],
 * e.g. "49min", "59sec" or "4.480ms" (4 s 480 ms).
 */
export function parseKeepaliveTimer(ssOutput: string): number | undefined {
  const m = /timer:\(keepalive,(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)ms)?,\d+\)/.exec(ssOutput);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) + Number(m[3] ?? 0) / 1000;
}

/** What the child needs besides the scenario. */
export interface OutageChildInput extends OutageScenario {
  ip: string;
  ss?: string;
  nft?: string;
}

/** Why outages cannot be made here, with what to do about it. */
export interface Unavailable {
  missing: string;
  fix: string;
}

function findTool(name: string): string | undefined {
  // ip and ss live in /usr/sbin or /sbin, which an ordinary user's PATH may lack.
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface Tools {
  unshare: string;
  ip: string;
  ss?: string;
  /** nftables, for cutting only the way back (cut: 'return'). */
  nft?: string;
}

let tools: Tools | Unavailable | undefined;

/** Checks once that namespaces can be made here; the tools, or why not. */
export function outageTools(): Tools | Unavailable {
  if (tools !== undefined) return tools;
  tools = probe();
  return tools;
}

function probe(): Tools | Unavailable {
  if (process.platform !== 'linux') {
    return { missing: `Linux network namespaces (this is ${process.platform})`, fix: 'run it on Linux' };
  }
  const unshare = findTool('unshare');
  if (unshare === undefined) {
    return { missing: 'the unshare command', fix: 'install util-linux (Debian/Ubuntu: apt-get install util-linux)' };
  }
  const ip = findTool('ip');
  if (ip === undefined) {
    return { missing: 'the ip command', fix: 'install iproute2 (Debian/Ubuntu: apt-get install iproute2)' };
  }
  try {
    execFileSync(unshare, ['--user', '--map-root-user', '--net', '--', ip, 'link', 'set', 'lo', 'up'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 10_000,
    });
  } catch (error) {
    const said = String((error as { stderr?: Buffer }).stderr ?? '').trim() || (error as Error).message;
    return {
      missing: `an unprivileged user + network namespace (unshare said: ${said})`,
      fix:
        'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and ' +
        'user.max_user_namespaces > 0; AppArmor: kernel.apparmor_restrict_unprivileged_userns=0), ' +
        'or in a container allow the unshare syscall',
    };
  }
  const ss = findTool('ss');
  const nft = findTool('nft');
  return { unshare, ip, ...(ss === undefined ? {} : { ss }), ...(nft === undefined ? {} : { nft }) };
}

/** Why the way back cannot be cut here (no nft), or undefined when it can. */
export function returnCutUnavailable(): Unavailable | undefined {
  const t = outageTools();
  if (isUnavailable(t)) return t;
  if (t.nft === undefined) return { missing: 'the nft command', fix: 'install nftables (Debian/Ubuntu: apt-get install nftables)' };
  return undefined;
}

export function isUnavailable(t: Tools | Unavailable): t is Unavailable {
  return 'missing' in t;
}

// dist/tools/outage-child.js, whether this module runs from dist/tools/ or (in tests) lib/tools/.
const CHILD = path.join(__dirname, '..', '..', 'dist', 'tools', 'outage-child.js');
const REGISTER = path.join(__dirname, '..', '..', 'dist', 'integrations', 'register.js');

// Lines the child prints before its result: one per sample, as it is taken.
const SAMPLE_PREFIX = 'sample ';

/** Prints one sample for the parent (outage-child.ts). */
export function sampleLine(sample: OutageSample): string {
  return `${SAMPLE_PREFIX}${JSON.stringify(sample)}\n`;
}

/**
 * Runs one scenario in a fresh namespace and reports what the watched socket
 * saw; `onSample` sees each sample as it is taken.
 */
export function runOutage(scenario: OutageScenario, onSample?: (sample: OutageSample) => void): Promise<OutageResult> {
  const t = outageTools();
  if (isUnavailable(t)) return Promise.reject(new Error(`cannot make an outage here: ${t.missing}; ${t.fix}`));
  const noReturnCut = scenario.cut === 'return' ? returnCutUnavailable() : undefined;
  if (noReturnCut !== undefined) return Promise.reject(new Error(`cannot cut only the way back here: ${noReturnCut.missing}; ${noReturnCut.fix}`));
  const input: OutageChildInput = {
    ...scenario,
    ip: t.ip,
    ...(t.ss === undefined ? {} : { ss: t.ss }),
    ...(t.nft === undefined ? {} : { nft: t.nft }),
  };
  const preload = scenario.preloadRegister === undefined ? [] : ['--require', REGISTER];
  const args = ['--user', '--map-root-user', '--net', '--', process.execPath, ...preload, CHILD, JSON.stringify(input)];
  const env = scenario.preloadRegister === undefined ? process.env : { ...process.env, TCP_KEEPALIVE: scenario.preloadRegister };
  return new Promise((resolve, reject) => {
    const child = spawn(t.unshare, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const timer = setTimeout(() => child.kill('SIGKILL'), scenario.waitMs + 30_000);
    let stderr = '';
    let last = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      if (line.startsWith(SAMPLE_PREFIX)) onSample?.(JSON.parse(line.slice(SAMPLE_PREFIX.length)) as OutageSample);
      else if (line.trim() !== '') last = line;
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`outage scenario failed: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`outage scenario failed: exit ${code ?? signal}\n${stderr}`));
        return;
      }
      try {
        const result = JSON.parse(last) as OutageResult;
        resolve(scenario.preloadRegister === undefined ? result : { ...result, stderr: stderr.split('\n').filter(Boolean) });
      } catch {
        reject(new Error(`outage scenario printed no result: ${stdout}\n${stderr}`));
      }
    });
  });
}
