// Errors shaped like Node's own (lib/internal/errors.js): the same codes, the
// same message formats, and system errors with errno/code/syscall. Imports
// nothing of lib/: the kernel's ways build their errors with it too.
import { inspect } from 'node:util';

// The shape of Node's own coded errors: `code` as an own property, and
// `TypeError [ERR_INVALID_ARG_TYPE]: The ...` both in String(error) and in
// the first line of error.stack.

/** An error this library throws or emits; `code` is stable, messages are not. */
export interface KeepAliveError extends Error {
  code: string;
}

// Node defines toString on each error class's prototype; one shared,
// non-enumerable own function does the same here without a class per code.
function toString(this: KeepAliveError): string {
  return `${this.name} [${this.code}]: ${this.message}`;
}

/**
 * Gives `error` the code `code` in Node's shape. The stack's first line is
 * written by V8 from `name` and `message` when the stack is first read, so
 * the name carries the code for that one read and is then the class's again
 * (`error.name` stays 'TypeError', as on Node's errors). System errors
 * (`setsockopt EINVAL`, code 'EINVAL') keep the plain `Error: ...` form, as
 * Node's do: only ERR_ codes take the brackets.
 */
export function coded<E extends Error>(error: E, code: string): E & KeepAliveError {
  const e = error as E & KeepAliveError;
  e.code = code;
  if (code.startsWith('ERR_')) {
    e.name = `${e.name} [${code}]`;
    void e.stack;
    delete (e as { name?: string }).name;
    Object.defineProperty(e, 'toString', { value: toString, writable: true, configurable: true, enumerable: false });
  }
  return e;
}

/** A failed setsockopt/getsockopt, as Node reports one (`setsockopt EINVAL`). */
export interface KeepAliveSystemError extends KeepAliveError {
  /** Negative errno, as in Node's own system errors. */
  errno: number;
  syscall: 'setsockopt' | 'getsockopt';
  /** The socket option that failed, e.g. `TCP_KEEPCNT`. */
  option: string;
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

// Node's list wording: "a", "a or b", "a, b, or c".
function list(items: readonly string[]): string {
  if (items.length < 3) return items.join(' or ');
  return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;
}

const TYPE_NAMES = new Set(['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']);
const CLASS_NAME = /^[A-Z][a-zA-Z0-9]*$/;

/**
 * What ERR_INVALID_ARG_TYPE says is expected, worded as Node's formatter
 * words a list (lib/internal/errors.js): type names ('object'), then class
 * names ('Buffer'), then anything else ('net.Socket'), each group as a list:
 * ['object', 'boolean'] is "one of type object or boolean",
 * ['net.Socket', 'tls.TLSSocket', 'net.Server'] "one of net.Socket, tls.TLSSocket, or net.Server".
 */
export function expectedTypes(expected: readonly string[]): string {
  const types: string[] = [];
  const instances: string[] = [];
  const other: string[] = [];
  for (const value of expected) {
    if (TYPE_NAMES.has(value)) types.push(value.toLowerCase());
    else if (CLASS_NAME.test(value)) instances.push(value);
    else other.push(value);
  }
  // With instances allowed, a plain object is named as the class Object.
  if (instances.length > 0 && types.includes('object')) {
    types.splice(types.indexOf('object'), 1);
    instances.push('Object');
  }
  const parts: string[] = [];
  if (types.length > 0) parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${list(types)}`);
  if (instances.length > 0) parts.push(`an instance of ${list(instances)}`);
  if (other.length > 1) parts.push(`one of ${list(other)}`);
  else if (other.length === 1) parts.push(other[0]!.toLowerCase() === other[0] ? other[0]! : `an ${other[0]}`);
  return parts.join(' or ');
}

/**
 * ERR_INVALID_ARG_TYPE. `expected` is a list worded as Node words it (see
 * expectedTypes), or a description already in words; `hint`, if any, follows
 * in parentheses (the helper to use instead, say).
 */
export function invalidArgType(
  name: string,
  expected: string | readonly string[],
  actual: unknown,
  hint?: string,
): TypeError & KeepAliveError {
  const wanted = typeof expected === 'string' ? expected : expectedTypes(expected);
  const why = hint === undefined ? '' : ` (${hint})`;
  return coded(
    new TypeError(`The "${name}" ${kind(name)} must be ${wanted}${why}. Received ${describe(actual)}`),
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

export function listensElsewhere(): KeepAliveError {
  return coded(
    new Error(
      "The server is a cluster worker's with round-robin scheduling: its listening socket is in the primary process, " +
        'out of reach. setKeepAlive(server) configures each connection it accepts instead: read one with getKeepAlive(socket)',
    ),
    'ERR_SERVER_LISTENS_IN_PRIMARY',
  );
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
