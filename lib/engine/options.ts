// Options: their defaults, and validation that turns user input into the
// kernel's units before any native call. Nothing here touches a socket.
import type * as KernelModule from '../kernel';
import type { KeepAliveState, Kernel, NativeConfig, OptionKey } from '../kernel/seam';
import { DEFAULTS } from './defaults';
import type * as Errors from './errors';

export type { KeepAliveState, NativeConfig };

/** What `setKeepAlive` accepts. Times in milliseconds, counts as integers. */
export interface KeepAliveOptions {
  /** SO_KEEPALIVE. `false` turns keepalive off and changes nothing else. Default `true`. */
  enable?: boolean;
  /** TCP_KEEPIDLE: idle time before the first probe, ms, whole seconds 1000..32_767_000. Default 60_000. */
  idle?: number;
  /** TCP_KEEPINTVL: time between probes, ms, whole seconds 1000..32_767_000. Default 10_000. */
  interval?: number;
  /** TCP_KEEPCNT: unanswered probes before the connection is dropped, 1..127. Default 6. */
  count?: number;
  /**
   * TCP_USER_TIMEOUT: how long sent data may stay unacknowledged before the
   * connection is dropped, ms, 0..2_147_483_647; 0 is the kernel's own behaviour.
   * Default `idle + interval * count` of the options given.
   */
  userTimeout?: number;
}

export { DEFAULTS };

// The errors' module is loaded with the first error: the preload validates
// TCP_KEEPALIVE with this module before the application runs, and a valid
// value needs no error.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const errors = (): typeof Errors => require('./errors') as typeof Errors;
// The way to the kernel, asked only what a valid value needs from it (the
// user timeout's unit, what it can set), once: the preload's check asks nothing.
let way: Kernel | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kernel = (): Kernel => (way ??= (require('../kernel') as typeof KernelModule).kernel);

export const OPTION_KEYS: readonly OptionKey[] = ['enable', 'idle', 'interval', 'count', 'userTimeout'];

// Bits of NativeConfig.given: the options the caller gave rather than left to
// their defaults (bit `1 << i` for OPTION_KEYS[i]).
const GIVEN_INTERVAL = 1 << 2;
const GIVEN_COUNT = 1 << 3;
export const GIVEN_USER_TIMEOUT = 1 << 4;

// A switch, not a Set: this runs for every key of every call.
function isOptionKey(key: string): boolean {
  switch (key) {
    case 'enable':
    case 'idle':
    case 'interval':
    case 'count':
    case 'userTimeout':
      return true;
    default:
      return false;
  }
}

export const MAX_SECONDS_MS = 32_767_000;
export const MAX_COUNT = 127;
export const MAX_USER_TIMEOUT = 2_147_483_647;

const DEFAULT_CONFIG: Readonly<NativeConfig> = Object.freeze({
  enable: true,
  idleSeconds: DEFAULTS.idle / 1000,
  intervalSeconds: DEFAULTS.interval / 1000,
  count: DEFAULTS.count,
  userTimeoutMs: DEFAULTS.userTimeout,
  given: 0,
});

// Off leaves a socket as if keepalive had never been configured: the user
// timeout derived from keepalive goes with it (0, the system's behaviour);
// only one the caller gives explicitly is set with it.
export const DISABLE_CONFIG: Readonly<NativeConfig> = Object.freeze({ ...DEFAULT_CONFIG, enable: false, userTimeoutMs: 0 });

export function integer(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw errors().invalidArgType(name, ['number'], value);
  if (!Number.isInteger(value)) throw errors().outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw errors().outOfRange(name, `>= ${min} && <= ${max}${secondsHint(value, min, max)}`, value);
  return value;
}

/** 30000 -> '30_000', as a number is written in code. */
export const asLiteral = (n: number): string =>
  Number.isInteger(n) ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, '_') : String(n);

// `{ idle: 30 }` where at least a second is needed was almost certainly meant
// in seconds: say that every time here is in milliseconds, and the number meant.
function secondsHint(value: number, min: number, max: number): string {
  if (min < 1000 || value < 1 || value >= 1000 || value * 1000 > max) return '';
  return ` (milliseconds: ${value} seconds is ${asLiteral(value * 1000)})`;
}

/**
 * setKeepAlive(socket, true, 30000), Node's own socket.setKeepAlive habit:
 * an argument setKeepAlive does not take, refused with the call meant.
 */
export function extraArgument(options: unknown, extra: unknown): TypeError {
  const meant =
    options === false
      ? 'setKeepAlive(socket, false)'
      : `setKeepAlive(socket, { idle: ${typeof extra === 'number' ? asLiteral(extra) : '30_000'} })`;
  return errors().invalidArgValue(
    typeof extra === 'number' ? 'initialDelay' : 'arguments[2]',
    extra,
    `is not taken: setKeepAlive(target, options) takes times in the options object, in milliseconds, as in ${meant}`,
  );
}

/**
 * A time in ms that the kernel's `option` counts in units of `unitMs` (1000:
 * seconds). Rounding would silently change what the user asked for, so a
 * value the unit cannot express is an error. Returns the ms.
 */
export function wholeUnits(value: unknown, name: string, option: string, unitMs: number, min: number, max: number): number {
  const ms = integer(value, name, min, max);
  if (ms % unitMs !== 0) {
    const whole = unitMs === 1000 ? 'a whole number of seconds (a multiple of 1000)' : `a multiple of ${unitMs}`;
    const unit = unitMs === 1000 ? 'seconds' : `units of ${unitMs} ms`;
    throw errors().outOfRange(name, `${whole}: the kernel counts ${option} in ${unit}`, ms);
  }
  return ms;
}

// These run on every setKeepAlive call: a valid value passes one inline test
// (for a number, `% unit === 0` also rules out fractions, NaN and Infinity),
// which accepts exactly what the full checks above accept. Anything else goes
// to those, which find the rule it breaks and word the error; nothing an
// error needs (the option's native name, say) is looked up on the valid path.

// Idle time and interval are whole seconds on every platform (Linux's
// TCP_KEEPIDLE and TCP_KEEPINTVL, macOS's TCP_KEEPALIVE and TCP_KEEPINTVL).
const IDLE = 1;
const INTERVAL = 2;
const seconds = (value: unknown, option: typeof IDLE | typeof INTERVAL): number =>
  (typeof value === 'number' && value >= 1000 && value <= MAX_SECONDS_MS && value % 1000 === 0
    ? value
    : wholeUnits(value, `options.${OPTION_KEYS[option]!}`, kernel().optionNames[option]!, 1000, 1000, MAX_SECONDS_MS)) / 1000;

const probes = (value: unknown): number =>
  typeof value === 'number' && value >= 1 && value <= MAX_COUNT && Number.isInteger(value)
    ? value
    : integer(value, 'options.count', 1, MAX_COUNT);

// The user timeout's unit is the platform's, as the addon reports it:
// milliseconds on Linux (TCP_USER_TIMEOUT), seconds on macOS
// (TCP_RXT_CONNDROPTIME). The derived value is capped at the largest whole
// unit that fits the kernel's int of milliseconds. Asked of the kernel when
// first needed, not at load (lib/kernel/index.ts chooses it at first use).
let unitMs: number | undefined;
const userTimeoutUnitMs = (): number => (unitMs ??= kernel().userTimeoutUnitMs);
/** The largest derived user timeout: the largest whole unit of the platform's that fits the kernel's int. */
export const maxDerivedUserTimeout = (): number => MAX_USER_TIMEOUT - (MAX_USER_TIMEOUT % userTimeoutUnitMs());

const userTimeoutMs = (value: unknown): number =>
  !kernelFacts
    ? integer(value, 'options.userTimeout', 0, MAX_USER_TIMEOUT)
    : typeof value === 'number' && value >= 0 && value <= MAX_USER_TIMEOUT && value % (unitMs ?? userTimeoutUnitMs()) === 0
      ? value
      : wholeUnits(value, 'options.userTimeout', kernel().optionNames[4]!, userTimeoutUnitMs(), 0, MAX_USER_TIMEOUT);

// Off only inside checkOptions: what needs the kernel's facts (the user
// timeout's unit, what the way to the kernel can set) is left to the real
// validation, which the process-wide preload runs at the first connect or listen.
let kernelFacts = true;

// Where the kernel way cannot set every option (the fallback, lib/kernel/node.ts),
// an option the caller gave explicitly and it cannot set is refused before
// anything changes; one left to its default is left to the system.
// `userTimeout: 0` (the system's behaviour) is what the socket has without one,
// so it is accepted. Turning keepalive off works everywhere.
let supportsAll: boolean | undefined;
function refuseUnsupported(config: Readonly<NativeConfig>): void {
  if (!config.enable) return;
  const { supported } = kernel();
  const refused: string[] = [];
  if (!supported.interval && (config.given & GIVEN_INTERVAL) !== 0) refused.push('options.interval');
  if (!supported.count && (config.given & GIVEN_COUNT) !== 0) refused.push('options.count');
  if (!supported.userTimeout && (config.given & GIVEN_USER_TIMEOUT) !== 0 && config.userTimeoutMs !== 0) {
    refused.push('options.userTimeout');
  }
  if (refused.length > 0) throw kernel().cannotSet(refused);
}

// The configuration validated last, returned again for options that come to
// the same: a program usually gives every socket the same options, and each
// socket keeps its configuration (for its next connect), so equal options
// share one frozen object instead of one allocation per call and per socket.
let lastConfig: Readonly<NativeConfig> = DEFAULT_CONFIG;

/**
 * Validates `options` as `setKeepAlive` takes them and returns the kernel
 * configuration. Each option is read exactly once, so a getter cannot make
 * the applied value differ from the validated one.
 */
export function toNativeConfig(options: unknown): Readonly<NativeConfig> {
  if (options === undefined || options === true) return DEFAULT_CONFIG;
  if (options === false) return DISABLE_CONFIG;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw errors().invalidArgType('options', ['object', 'boolean'], options);
  }
  for (const key in options) {
    if (!isOptionKey(key)) {
      throw errors().invalidArgValue(
        `options.${key}`,
        (options as Record<string, unknown>)[key],
        `is not a keepalive option (valid options: ${OPTION_KEYS.join(', ')})`,
      );
    }
  }
  const { enable, idle, interval, count, userTimeout } = options as Record<string, unknown>;
  if (enable !== undefined && typeof enable !== 'boolean') throw errors().invalidArgType('options.enable', ['boolean'], enable);
  const idleSeconds = idle === undefined ? DEFAULT_CONFIG.idleSeconds : seconds(idle, IDLE);
  const intervalSeconds = interval === undefined ? DEFAULT_CONFIG.intervalSeconds : seconds(interval, INTERVAL);
  const probeCount = count === undefined ? DEFAULT_CONFIG.count : probes(count);
  // The derived timeout matches the idle-peer deadline, so a peer that vanishes
  // with data in flight is dropped no later than an idle one. Its largest
  // possible value (32767 s * 128) exceeds the kernel's int, hence the cap.
  // Off (enable: false) derives none: a derived timeout must not outlive the keepalive it was derived from.
  const timeoutMs =
    userTimeout === undefined
      ? enable === false
        ? 0
        : derivedUserTimeout((idleSeconds + intervalSeconds * probeCount) * 1000)
      : userTimeoutMs(userTimeout);
  const given =
    (interval === undefined ? 0 : GIVEN_INTERVAL) |
    (count === undefined ? 0 : GIVEN_COUNT) |
    (userTimeout === undefined ? 0 : GIVEN_USER_TIMEOUT);
  const on = enable !== false;
  if (!kernelFacts) return { enable: on, idleSeconds, intervalSeconds, count: probeCount, userTimeoutMs: timeoutMs, given };
  const held = lastConfig;
  if (
    held.enable === on &&
    held.idleSeconds === idleSeconds &&
    held.intervalSeconds === intervalSeconds &&
    held.count === probeCount &&
    held.userTimeoutMs === timeoutMs &&
    held.given === given
  ) {
    return held;
  }
  const config = { enable: on, idleSeconds, intervalSeconds, count: probeCount, userTimeoutMs: timeoutMs, given };
  // What this platform cannot do, refused here, where every entry point
  // (setKeepAlive, the client helpers, register) validates its options once.
  if (!(supportsAll ??= OPTION_KEYS.every((key) => kernel().supported[key]))) refuseUnsupported(config);
  lastConfig = Object.freeze(config);
  return lastConfig;
}

/** A derived user timeout, capped. Every derived value is whole seconds; only one past the kernel's int needs the platform's unit to cap it. */
export const derivedUserTimeout = (ms: number): number => (ms <= MAX_USER_TIMEOUT - 1000 || !kernelFacts ? ms : Math.min(ms, maxDerivedUserTimeout()));

/**
 * Validates `options` as toNativeConfig does, without the facts of the way to
 * the kernel (which would choose it, and load the addon): for the preload,
 * which stops a process with a bad TCP_KEEPALIVE before the application runs
 * and validates against the kernel at the first connect or listen.
 */
export function checkOptions(options: unknown): void {
  kernelFacts = false;
  try {
    toNativeConfig(options);
  } finally {
    kernelFacts = true;
  }
}
