// From deadlines to settings: planKeepAlive turns "notice a dead peer within
// X" into options, systemDefaults reads what this host does without them.
import { readFileSync } from 'node:fs';
import { invalidArgType, invalidArgValue, unsupported } from './errors';
import { integer, MAX_COUNT, derivedUserTimeout, MAX_SECONDS_MS, type KeepAliveOptions } from './options';

export interface KeepAliveGoal {
  /** A dead peer, idle or with data in flight, must be noticed within this many ms (>= 2000). */
  detectWithin: number;
  /** Idle timeout of a NAT or load balancer on the path, ms: no probe gap may reach it (>= 1001). */
  idleBelow?: number;
}

export const MIN_BUDGET = 2000;
export const MIN_IDLE_BELOW = 1001;
/** Probes that a plan aims for: enough that one lost probe is no false alarm. */
export const PLAN_PROBES = 5;

const GOAL_KEYS = ['detectWithin', 'idleBelow'];

/**
 * Options that `setKeepAlive` accepts as they are, such that a dead idle peer
 * and unacknowledged data are both noticed within `goal.detectWithin`.
 *
 * The rule: the budget, in whole seconds, goes half to idle time and half to
 * probes; the probe half is split evenly into 5 probes, or fewer when it is
 * shorter than 5 s, and more (up to 127) when the interval would otherwise
 * exceed its cap. With `idleBelow`, idle time and interval are both capped at
 * 90 % of it (and at least 1 s below it), so the path never sees the
 * connection idle for that long. `userTimeout` is `idle + interval * count`:
 * the same deadline for a peer that vanishes while data is in flight.
 */
export function planKeepAlive(goal: KeepAliveGoal): Required<KeepAliveOptions> {
  if (typeof goal !== 'object' || goal === null || Array.isArray(goal)) throw invalidArgType('goal', ['object'], goal);
  for (const key in goal) {
    if (!GOAL_KEYS.includes(key)) {
      throw invalidArgValue(`goal.${key}`, (goal as unknown as Record<string, unknown>)[key], `is not a goal (valid: ${GOAL_KEYS.join(', ')})`);
    }
  }
  const { detectWithin, idleBelow } = goal as unknown as Record<string, unknown>;
  const budget = Math.floor(integer(detectWithin, 'goal.detectWithin', MIN_BUDGET, Number.MAX_SAFE_INTEGER) / 1000);
  let cap = MAX_SECONDS_MS / 1000;
  if (idleBelow !== undefined) {
    const below = integer(idleBelow, 'goal.idleBelow', MIN_IDLE_BELOW, Number.MAX_SAFE_INTEGER);
    // Whole seconds, at most 90 % of it and at least a second below it; never under 1 s.
    cap = Math.min(cap, Math.max(1, Math.floor((below - Math.max(1000, below / 10)) / 1000)));
  }
  const idle = Math.min(Math.max(1, Math.floor(budget / 2)), cap);
  const rest = budget - idle; // >= 1, since budget >= 2 and idle <= budget / 2
  const count = Math.min(MAX_COUNT, Math.max(Math.min(PLAN_PROBES, rest), Math.ceil(rest / cap)));
  const interval = Math.max(1, Math.min(cap, Math.floor(rest / count)));
  return {
    enable: true,
    idle: idle * 1000,
    interval: interval * 1000,
    count,
    // The largest whole unit of this platform's user timeout (macOS: seconds) that fits.
    userTimeout: derivedUserTimeout((idle + interval * count) * 1000),
  };
}

export interface SystemDefaults {
  /** net.ipv4.tcp_keepalive_time, ms. */
  idle: number;
  /** net.ipv4.tcp_keepalive_intvl, ms. */
  interval: number;
  /** net.ipv4.tcp_keepalive_probes. */
  count: number;
  /** net.ipv4.tcp_retries2: retransmissions before unacknowledged data is given up. */
  retries2: number;
}

const SYSCTL = '/proc/sys/net/ipv4/';

function sysctl(name: string): number {
  let text: string;
  try {
    text = readFileSync(SYSCTL + name, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw unsupported(`systemDefaults needs ${SYSCTL}${name}, which this system does not have`);
    throw error;
  }
  const value = Number(text.trim());
  if (!Number.isInteger(value)) throw new Error(`${SYSCTL}${name} holds ${JSON.stringify(text)}, not an integer`);
  return value;
}

/** What this host (network namespace) uses for sockets that do not set their own options. */
export function systemDefaults(): SystemDefaults {
  if (process.platform !== 'linux') throw unsupported('systemDefaults reads the Linux sysctls net.ipv4.tcp_keepalive_*');
  return {
    idle: sysctl('tcp_keepalive_time') * 1000,
    interval: sysctl('tcp_keepalive_intvl') * 1000,
    count: sysctl('tcp_keepalive_probes'),
    retries2: sysctl('tcp_retries2'),
  };
}

// include/net/tcp.h
const TCP_RTO_MIN_MS = 200;
const TCP_RTO_MAX_MS = 120_000;

/**
 * How long the kernel retransmits unacknowledged data before it gives up,
 * for `retries2` retransmissions, in ms: the RTO starts at its 200 ms minimum
 * and doubles up to 120 s (net/ipv4/tcp_timer.c, tcp_model_timeout). A slower
 * path starts higher, so this is the shortest it can be.
 */
export function retransmissionTimeout(retries2: number): number {
  const linearBackoffThreshold = Math.floor(Math.log2(TCP_RTO_MAX_MS / TCP_RTO_MIN_MS));
  if (retries2 <= linearBackoffThreshold) return (2 ** (retries2 + 1) - 1) * TCP_RTO_MIN_MS;
  return (
    (2 ** (linearBackoffThreshold + 1) - 1) * TCP_RTO_MIN_MS + (retries2 - linearBackoffThreshold) * TCP_RTO_MAX_MS
  );
}
