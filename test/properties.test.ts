// Property tests: any options, any target. Every call either succeeds and
// reads back exactly what a reference model of the contract predicts, or
// throws a documented error and leaves the socket as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EventEmitter } from 'node:events';
import net = require('node:net');
import { Duplex, PassThrough } from 'node:stream';
import { getKeepAlive, setKeepAlive, type KeepAliveState } from '../lib';
import { connectedPair, linuxOnly, notOnWindows, type Pair } from './helpers';

const DOCUMENTED = ['ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE', 'ERR_OUT_OF_RANGE'];
const KEYS = ['enable', 'idle', 'interval', 'count', 'userTimeout'] as const;

// The contract, written again from the README, independently of lib/engine/options.ts:
// the state a valid call leads to from `before`, or undefined for an invalid call.
// `derived`: whether the user timeout `before` holds is one this library
// derived from an enabling call (the last valid call enabled, with no userTimeout).
function model(options: unknown, before: KeepAliveState, derived = false): KeepAliveState | undefined {
  if (options === undefined || options === true) options = {};
  if (options === false) options = { enable: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return undefined;
  const o = options as Record<string, unknown>;
  for (const key in o) if (!(KEYS as readonly string[]).includes(key)) return undefined;
  const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  const seconds = (v: unknown) => v === undefined || (isInt(v, 1000, 32_767_000) && (v as number) % 1000 === 0);
  if (o.enable !== undefined && typeof o.enable !== 'boolean') return undefined;
  if (!seconds(o.idle) || !seconds(o.interval)) return undefined;
  if (o.count !== undefined && !isInt(o.count, 1, 127)) return undefined;
  if (o.userTimeout !== undefined && !isInt(o.userTimeout, 0, 2 ** 31 - 1)) return undefined;
  // Off: as if keepalive had never been configured, so no derived user timeout; an explicit one is set.
  // Off: as if keepalive had never been configured, so a derived user timeout goes (0); an
  // explicit one in the call is set; any other is left as it was.
  if (o.enable === false) {
    const userTimeout = o.userTimeout !== undefined ? (o.userTimeout as number) + 0 : derived ? 0 : before.userTimeout;
    return { ...before, enable: false, userTimeout };
  }
  const idle = (o.idle as number | undefined) ?? 60_000;
  const interval = (o.interval as number | undefined) ?? 10_000;
  const count = (o.count as number | undefined) ?? 6;
  // -0 is a valid 0, and the kernel holds an int: it reads back as 0.
  const userTimeout = ((o.userTimeout as number | undefined) ?? Math.min(idle + interval * count, 2 ** 31 - 1)) + 0;
  return { enable: true, idle, interval, count, userTimeout };
}

// Values near and across every boundary, and of every wrong type.
const anyValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 130 }) },
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }).map((s) => s * 1000) },
  { weight: 2, arbitrary: fc.constantFrom(32_767_000, 32_768_000, 2 ** 31 - 1, 2 ** 31, -1, -1000, 999, 1001, 1500) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 0.5) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.bigInt(), fc.constant(null), fc.constant(undefined), fc.object(), fc.array(fc.nat())) },
);
const optionsObject = fc.record(
  { enable: fc.oneof(fc.boolean(), anyValue), idle: anyValue, interval: anyValue, count: anyValue, userTimeout: anyValue },
  { requiredKeys: [] },
);
const withUnknownKey = fc.tuple(optionsObject, fc.constantFrom('intvl', 'cnt', 'keepIdle', 'Idle', 'user_timeout', 'timeout', '__x'), anyValue)
  .map(([o, k, v]) => ({ ...o, [k]: v }));
const validOptions = fc.record(
  {
    enable: fc.boolean(),
    idle: fc.integer({ min: 1, max: 32_767 }).map((x) => x * 1000),
    interval: fc.integer({ min: 1, max: 32_767 }).map((x) => x * 1000),
    count: fc.integer({ min: 1, max: 127 }),
    userTimeout: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  },
  { requiredKeys: [] },
);
const anyOptions = fc.oneof(
  { weight: 4, arbitrary: validOptions },
  { weight: 4, arbitrary: optionsObject },
  { weight: 2, arbitrary: withUnknownKey },
  { weight: 1, arbitrary: fc.oneof(fc.constant(undefined), fc.boolean(), fc.constant(null), fc.integer(), fc.string(), fc.array(fc.anything())) },
);

let pair: Pair;
beforeAll(async () => {
  pair = await connectedPair();
});
afterAll(() => pair.close());

describe.runIf(linuxOnly("the model is Linux's: any user timeout in whole milliseconds up to 2^31 - 1 (macOS: whole seconds)"))('setKeepAlive over any options', () => {
  it('succeeds exactly as the model says, else throws a documented code and changes nothing', () => {
    let valid = 0;
    let invalid = 0;
    let derived = false; // the client starts unconfigured
    fc.assert(
      fc.property(anyOptions, (options) => {
        const before = getKeepAlive(pair.client);
        const expected = model(options, before, derived);
        let thrown: (Error & { code?: string }) | undefined;
        try {
          expect(setKeepAlive(pair.client, options as never)).toBe(pair.client);
        } catch (error) {
          thrown = error as Error & { code?: string };
        }
        if (expected === undefined) {
          invalid++;
          expect(thrown, `should reject ${String(JSON.stringify(options, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)))}`).toBeDefined();
          expect(DOCUMENTED).toContain(thrown!.code);
          expect(getKeepAlive(pair.client)).toEqual(before);
        } else {
          valid++;
          expect(thrown).toBeUndefined();
          const o = (typeof options === 'object' && options !== null ? options : {}) as Record<string, unknown>;
          derived = options !== false && o.enable !== false && o.userTimeout === undefined;
          expect(getKeepAlive(pair.client)).toEqual(expected);
        }
      }),
      { numRuns: 3000 },
    );
    // Both sides of the contract were exercised, not just one.
    expect(valid).toBeGreaterThan(300);
    expect(invalid).toBeGreaterThan(300);
  });
});

describe.runIf(notOnWindows("it reads the victim's options back with getKeepAlive"))('any target', () => {
  it('is a socket or server in a usable state, or a documented error; no other socket changes', async () => {
    const victim = await connectedPair();
    setKeepAlive(victim.client, { idle: 9_000, interval: 9_000, count: 9, userTimeout: 9_000 }); // whole seconds, as macOS holds them too
    const victimState = getKeepAlive(victim.client);
    const victimFd = (victim.client as unknown as { _handle: { fd: number } })._handle.fd;
    const destroyed = new net.Socket();
    destroyed.destroy();
    const targets = fc.constantFrom<[string, () => unknown]>(
      ['undefined', () => undefined],
      ['null', () => null],
      ['a number that is an open fd', () => victimFd],
      ['a string', () => 'socket'],
      ['a plain object with a handle', () => ({ _handle: { fd: victimFd } })],
      ['an object with the fd', () => ({ fd: victimFd })],
      ['an EventEmitter', () => new EventEmitter()],
      ['a Duplex', () => new Duplex()],
      ['a PassThrough', () => new PassThrough()],
      ['a function', () => () => victimFd],
      ['an array', () => [victim.client]],
      ['a Symbol', () => Symbol('socket')],
      ['a destroyed socket', () => destroyed],
    );
    fc.assert(
      fc.property(targets, anyOptions, ([, make], options) => {
        const target = make();
        let code: string | undefined;
        try {
          setKeepAlive(target as never, options as never);
        } catch (error) {
          code = (error as { code?: string }).code;
        }
        expect([...DOCUMENTED, 'ERR_SOCKET_CLOSED']).toContain(code);
        try {
          getKeepAlive(target as never);
          throw new Error('getKeepAlive accepted it');
        } catch (error) {
          expect(['ERR_INVALID_ARG_TYPE', 'ERR_SOCKET_CLOSED']).toContain((error as { code?: string }).code);
        }
        expect(getKeepAlive(victim.client)).toEqual(victimState);
      }),
      { numRuns: 1000 },
    );
    await victim.close();
  });
});
