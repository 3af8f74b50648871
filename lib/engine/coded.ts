// The shape of Node's own coded errors (lib/internal/errors.js), in one
// place both lib/binding.ts and lib/errors.ts can use: `code` as an own
// property, and `TypeError [ERR_INVALID_ARG_TYPE]: The ...` both in
// String(error) and in the first line of error.stack.

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
