// Errors shaped like Node's own (lib/internal/errors.js): the same codes, the
// same message formats, and system errors with errno/code/syscall.
import { getSystemErrorName, inspect } from 'node:util';
import { OPTION_NAMES, type NativeFailure } from './binding';

/** An error this library throws or emits; `code` is stable, messages are not. */
export interface KeepAliveError extends Error {
  code: string;
}

/** A failed setsockopt/getsockopt, as Node reports one (`setsockopt EINVAL`). */
export interface KeepAliveSystemError extends KeepAliveError {
  /** Negative errno, as in Node's own system errors. */
  errno: number;
  syscall: 'setsockopt' | 'getsockopt';
  /** The socket option that failed, e.g. `TCP_KEEPCNT`. */
  option: string;
}

function coded<E extends Error>(error: E, code: string): E & KeepAliveError {
  const e = error as E & KeepAliveError;
  e.code = code;
  return e;
}

// Node's addNumericalSeparator: 4294967296 -> 4_294_967_296.
function withSeparators(digits: string): string {
  let res = '';
  let i = digits.length;
  const start = digits[0] === '-' ? 1 : 0;
  for (; i >= start + 4; i -= 3) res = `_${digits.slice(i - 3, i)}${res}`;
  return `${digits.slice(0, i)}${res}`;
}

// Node's determineSpecificType, used in "Received ..." of ERR_INVALID_ARG_TYPE.
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      return `type number (${inspect(value)})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && typeof ctor.name === 'string' && ctor.name !== '') return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const s = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return s.includes("'") ? `type string (${JSON.stringify(s)})` : `type string ('${s}')`;
    }
    default:
      return `type ${typeof value}`;
  }
}

// "argument" for a plain name, "property" for a dotted one, as Node words it.
const kind = (name: string): string => (name.includes('.') ? 'property' : 'argument');

export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & KeepAliveError {
  return coded(
    new TypeError(`The "${name}" ${kind(name)} must be ${expected}. Received ${describe(actual)}`),
    'ERR_INVALID_ARG_TYPE',
  );
}

export function invalidArgValue(name: string, value: unknown, reason: string): TypeError & KeepAliveError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return coded(new TypeError(`The ${kind(name)} '${name}' ${reason}. Received ${shown}`), 'ERR_INVALID_ARG_VALUE');
}

export function outOfRange(name: string, range: string, value: unknown): RangeError & KeepAliveError {
  const shown =
    typeof value === 'number' && Number.isInteger(value) && Math.abs(value) > 2 ** 32
      ? withSeparators(String(value))
      : inspect(value);
  return coded(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`),
    'ERR_OUT_OF_RANGE',
  );
}

export function socketClosed(): KeepAliveError {
  return coded(
    new Error('The socket is closed: its file descriptor may already belong to another socket, so it is not touched'),
    'ERR_SOCKET_CLOSED',
  );
}

export function socketNotConnected(): KeepAliveError {
  return coded(new Error('The socket is not connected yet: there is no kernel socket to read'), 'ERR_SOCKET_NOT_CONNECTED');
}

export function serverNotListening(): KeepAliveError {
  return coded(new Error('The server is not listening: there is no kernel socket to read'), 'ERR_SERVER_NOT_LISTENING');
}

export function notTcp(detail: string, cause?: Error): KeepAliveError {
  const error = coded(
    new Error(`The socket is not a TCP socket (${detail}); keepalive options apply to TCP only`),
    'ERR_SOCKET_NOT_TCP',
  );
  if (cause !== undefined) error.cause = cause;
  return error;
}

export function unsupported(detail: string): KeepAliveError {
  return coded(new Error(`${detail} (platform: ${process.platform})`), 'ERR_KEEPALIVE_UNSUPPORTED');
}

/** Turns a native failure into the error a caller sees. */
export function fromFailure(failure: NativeFailure): KeepAliveError {
  const code = getSystemErrorName(failure.errno);
  const option = OPTION_NAMES[failure.option] ?? `option ${failure.option}`;
  const error = coded(new Error(`${failure.syscall} ${code}`), code) as KeepAliveSystemError;
  error.errno = failure.errno;
  error.syscall = failure.syscall;
  error.option = option;
  if (failure.notTcp) return notTcp(`the kernel answered ${code} to ${option}`, error);
  return error;
}
