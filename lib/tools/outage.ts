// A real outage on the real Linux TCP stack, with no root and no effect on
// the host: each scenario runs in a child `node` inside its own user and
// network namespace (`unshare --user --map-root-user --net`), where a
// blackhole route makes the peer vanish. The namespace dies with the child.
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path = require('node:path');
import type { KeepAliveOptions } from '../engine/options';

/** How the watched socket is configured before its peer vanishes. */
export type OutageKeepAlive =
  | { with: 'tcp-keepalive'; options: KeepAliveOptions }
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
}

export interface OutageResult {
  /** `error`: the socket failed (code says why); `open`: nothing happened within waitMs. */
  outcome: 'error' | 'open' | 'closed';
  code?: string;
  /** From the instant the peer vanished to the outcome, ms. */
  afterMs: number;
  /** With readTimer: seconds left on the kernel's keepalive timer (undefined when off). */
  timerSeconds?: number;
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
  return { unshare, ip, ss: findTool('ss') };
}

export function isUnavailable(t: Tools | Unavailable): t is Unavailable {
  return 'missing' in t;
}

// dist/tools/outage-child.js, whether this module runs from dist/tools/ or (in tests) lib/tools/.
const CHILD = path.join(__dirname, '..', '..', 'dist', 'tools', 'outage-child.js');

/** Runs one scenario in a fresh namespace and reports what the watched socket saw. */
export function runOutage(scenario: OutageScenario): Promise<OutageResult> {
  const t = outageTools();
  if (isUnavailable(t)) return Promise.reject(new Error(`cannot make an outage here: ${t.missing}; ${t.fix}`));
  const input: OutageChildInput = { ...scenario, ip: t.ip, ...(t.ss === undefined ? {} : { ss: t.ss }) };
  const args = ['--user', '--map-root-user', '--net', '--', process.execPath, CHILD, JSON.stringify(input)];
  return new Promise((resolve, reject) => {
    execFile(t.unshare, args, { timeout: scenario.waitMs + 30_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`outage scenario failed: ${error.message}\n${stderr}`));
        return;
      }
      const last = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as OutageResult);
      } catch {
        reject(new Error(`outage scenario printed no result: ${stdout}\n${stderr}`));
      }
    });
  });
}
