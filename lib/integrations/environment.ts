// The TCP_KEEPALIVE environment variable's syntax, for tcp-keepalive/register:
// options (idle=10s,interval=2s,count=3) or a deadline (within=30s), and
// what to log (log=dead-peer).
import { parseDuration } from '../engine/durations';
import type * as Errors from '../engine/errors';
import { checkOptions, type KeepAliveOptions } from '../engine/options';
import type * as Plan from '../engine/plan';

const OPTION_DURATIONS = ['idle', 'interval', 'userTimeout'] as const;
const GOAL_DURATIONS = ['within', 'idle-below'] as const;
const LOG = 'log';
const ENV_KEYS = [...OPTION_DURATIONS, 'count', ...GOAL_DURATIONS, LOG];
/** What `log=` can name: each a diagnostics_channel message, one line each on stderr. */
const LOGS = ['dead-peer'];

/** ERR_INVALID_ARG_VALUE for TCP_KEEPALIVE; the errors' module is loaded only for one. */
function invalid(text: string, reason: string): TypeError {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../engine/errors') as typeof Errors).invalidArgValue('TCP_KEEPALIVE', text, reason);
}

/** What TCP_KEEPALIVE asks of tcp-keepalive/register. */
export interface EnvironmentSettings {
  /** The process-wide configuration; undefined for `off` (no registration). */
  options: KeepAliveOptions | undefined;
  /** `log=dead-peer`: a line on stderr for every tcp-keepalive:dead-peer message. */
  logDeadPeers: boolean;
}

/** The options TCP_KEEPALIVE names (see readEnvironment). */
export const optionsFromEnvironment = (text: string): KeepAliveOptions | undefined => readEnvironment(text).options;

/**
 * Reads the TCP_KEEPALIVE syntax: `idle=10s,interval=2s,count=3,userTimeout=20s`
 * (any subset; left-out options as in setKeepAlive), or `within=30s` with
 * optional `idle-below=4m` (planned with planKeepAlive); either with
 * `log=dead-peer`. Empty means the defaults; `off` means no registration.
 * Throws the errors setKeepAlive throws for the same values.
 */
export function readEnvironment(text: string): EnvironmentSettings {
  const value = text.trim();
  if (value === 'off') return { options: undefined, logDeadPeers: false };
  if (value === '') return { options: {}, logDeadPeers: false };
  const pairs = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    if (eq === -1 || !ENV_KEYS.includes(key)) {
      throw invalid(text, `has '${part.trim()}': expected key=value with a key among ${ENV_KEYS.join(', ')} (or 'off')`);
    }
    if (pairs.has(key)) throw invalid(text, `sets ${key} twice`);
    pairs.set(key, part.slice(eq + 1).trim());
  }
  const log = pairs.get(LOG);
  if (log !== undefined && !LOGS.includes(log)) {
    throw invalid(text, `has log='${log}': what can be logged is ${LOGS.join(', ')}`);
  }
  pairs.delete(LOG);
  return { options: optionsOf(pairs, text), logDeadPeers: log !== undefined };
}

function optionsOf(pairs: Map<string, string>, text: string): KeepAliveOptions {
  const duration = (key: string): number => {
    try {
      return parseDuration(pairs.get(key)!);
    } catch {
      throw invalid(text, `has ${key}='${pairs.get(key)}', not a duration (use 30s, 5m, 1h, 1500ms or whole milliseconds)`);
    }
  };
  if (pairs.has('within') || pairs.has('idle-below')) {
    if (!pairs.has('within')) throw invalid(text, 'has idle-below without within');
    const other = [...pairs.keys()].find((key) => !(GOAL_DURATIONS as readonly string[]).includes(key));
    if (other !== undefined) throw invalid(text, `mixes within with ${other}: give a deadline or options, not both`);
    // Loaded only for a deadline: most values name the options themselves.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { planKeepAlive } = require('../engine/plan') as typeof Plan;
    return planKeepAlive({
      detectWithin: duration('within'),
      ...(pairs.has('idle-below') ? { idleBelow: duration('idle-below') } : {}),
    });
  }
  const options: Record<string, number> = {};
  for (const key of OPTION_DURATIONS) if (pairs.has(key)) options[key] = duration(key);
  if (pairs.has('count')) {
    const count = pairs.get('count')!;
    if (!/^\d+$/.test(count)) throw invalid(text, `has count='${count}', not a whole number`);
    options.count = Number(count);
  }
  // The rules and error codes of setKeepAlive, once, now; what only the way to
  // the kernel can tell (what it sets, in what unit) is checked at register().
  checkOptions(options);
  return options;
}
