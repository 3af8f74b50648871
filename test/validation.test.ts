// Bad input: a coded, Node-style error, and nothing applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duplex } from 'node:stream';
import { getKeepAlive, setKeepAlive } from '../lib';
import { binding as loaded } from '../lib/kernel';
import { MAX_USER_TIMEOUT, toNativeConfig, wholeUnits } from '../lib/engine/options';

const binding = loaded!;
import { connectedPair, linuxOnly, type Pair } from './helpers';

// Its messages name Linux's options (TCP_KEEPIDLE), its setup and cases
// Linux's millisecond user timeout: on macOS (TCP_KEEPALIVE, whole seconds)
// the same checks word and bound them otherwise.
const linux = linuxOnly("the messages name Linux's options (TCP_KEEPIDLE) and a user timeout in milliseconds");

let pair: Pair;
beforeAll(async () => {
  pair = await connectedPair();
  // A distinctive configuration, so that any change would show.
  setKeepAlive(pair.client, { idle: 41_000, interval: 3_000, count: 5, userTimeout: 9_999 });
});
afterAll(() => pair.close());

const TYPE = 'ERR_INVALID_ARG_TYPE';
const VALUE = 'ERR_INVALID_ARG_VALUE';
const RANGE = 'ERR_OUT_OF_RANGE';

const bad: Array<[string, unknown, string, RegExp]> = [
  // options itself
  ['null', null, TYPE, /^The "options" argument must be one of type object or boolean\. Received null$/],
  ['a number', 5000, TYPE, /Received type number \(5000\)$/],
  ['a string', 'yes', TYPE, /Received type string \('yes'\)$/],
  ['an array', [1], TYPE, /Received an instance of Array$/],
  ['a function', () => 1, TYPE, /Received function /],
  // unknown names
  ['intvl', { intvl: 5000 }, VALUE, /^The property 'options\.intvl' is not a keepalive option \(valid options: enable, idle, interval, count, userTimeout\)\. Received 5000$/],
  ['cnt', { cnt: 3 }, VALUE, /options\.cnt/],
  ['a typo', { idel: 1000 }, VALUE, /options\.idel/],
  ['kernel units', { keepIdle: 60 }, VALUE, /options\.keepIdle/],
  // enable
  ['enable as a number', { enable: 1 }, TYPE, /^The "options\.enable" property must be of type boolean\. Received type number \(1\)$/],
  ['enable as null', { enable: null }, TYPE, /Received null$/],
  // idle / interval: integers, whole seconds, 1000..32_767_000
  ['idle as a string', { idle: '60000' }, TYPE, /^The "options\.idle" property must be of type number\. Received type string \('60000'\)$/],
  ['idle as bigint', { idle: 60000n }, TYPE, /Received type bigint \(60000n\)$/],
  ['idle as null', { idle: null }, TYPE, /Received null$/],
  ['idle NaN', { idle: NaN }, RANGE, /^The value of "options\.idle" is out of range\. It must be an integer\. Received NaN$/],
  ['idle Infinity', { idle: Infinity }, RANGE, /Received Infinity$/],
  ['idle fraction', { idle: 1000.5 }, RANGE, /It must be an integer/],
  ['idle negative', { idle: -1000 }, RANGE, />= 1000 && <= 32767000\. Received -1000$/],
  ['idle zero', { idle: 0 }, RANGE, />= 1000/],
  ['idle below a second', { idle: 999 }, RANGE, />= 1000/],
  ['idle too large', { idle: 32_768_000 }, RANGE, /<= 32767000/],
  ['idle not whole seconds', { idle: 1500 }, RANGE, /^The value of "options\.idle" is out of range\. It must be a whole number of seconds \(a multiple of 1000\): the kernel counts TCP_KEEPIDLE in seconds\. Received 1500$/],
  ['interval not whole seconds', { interval: 2500 }, RANGE, /kernel counts TCP_KEEPINTVL in seconds\. Received 2500$/],
  ['interval as a string', { interval: '1s' }, TYPE, /options\.interval/],
  ['interval too small', { interval: 1 }, RANGE, />= 1000/],
  // count: 1..127
  ['count zero', { count: 0 }, RANGE, /^The value of "options\.count" is out of range\. It must be >= 1 && <= 127\. Received 0$/],
  ['count 128', { count: 128 }, RANGE, /<= 127/],
  ['count fraction', { count: 2.5 }, RANGE, /an integer/],
  ['count string', { count: '5' }, TYPE, /options\.count/],
  // userTimeout: 0..2_147_483_647
  ['userTimeout negative', { userTimeout: -1 }, RANGE, />= 0 && <= 2147483647\. Received -1$/],
  ['userTimeout too large', { userTimeout: 2 ** 31 }, RANGE, /Received 2147483648$/],
  ['userTimeout huge', { userTimeout: 2 ** 40 }, RANGE, /Received 1_099_511_627_776$/],
  ['userTimeout -0 fraction', { userTimeout: 0.1 }, RANGE, /an integer/],
  ['userTimeout bigint', { userTimeout: 1n }, TYPE, /options\.userTimeout/],
  // a bad field after good ones: still nothing applied
  ['good fields then a bad one', { idle: 1000, interval: 1000, count: 1, userTimeout: -5 }, RANGE, /options\.userTimeout/],
  ['disable with a bad field', { enable: false, count: 0 }, RANGE, /options\.count/],
];

describe.runIf(linux)('setKeepAlive rejects bad options before any native call', () => {
  it.each(bad)('%s', (_name, options, code, message) => {
    const before = getKeepAlive(pair.client);
    let thrown: unknown;
    try {
      setKeepAlive(pair.client, options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code });
    expect((thrown as Error).name).toBe(code === RANGE ? 'RangeError' : 'TypeError');
    expect((thrown as Error).message).toMatch(message);
    expect(getKeepAlive(pair.client)).toEqual(before);
  });

  it('explicit undefined fields take their defaults', () => {
    setKeepAlive(pair.accepted, { idle: undefined, interval: undefined, count: undefined, userTimeout: undefined, enable: undefined });
    expect(getKeepAlive(pair.accepted)).toEqual({ enable: true, idle: 60_000, interval: 10_000, count: 6, userTimeout: 120_000 });
  });

  it('reads each option once, so a getter cannot change what was validated', () => {
    let reads = 0;
    const options = {
      get count() {
        reads++;
        return reads === 1 ? 3 : 1000;
      },
    };
    setKeepAlive(pair.accepted, options);
    expect(reads).toBe(1);
    expect(getKeepAlive(pair.accepted).count).toBe(3);
  });
});

describe.runIf(linux)('targets that are not sockets or servers', () => {
  const targets: Array<[string, unknown, RegExp]> = [
    ['undefined', undefined, /Received undefined$/],
    ['null', null, /Received null$/],
    ['a number (an fd)', 3, /Received type number \(3\)$/],
    ['a plain object', { _handle: { fd: 3 } }, /Received an instance of Object$/],
    ['a Duplex stream', new Duplex(), /Received an instance of Duplex$/],
  ];
  it.each(targets)('%s: ERR_INVALID_ARG_TYPE from setKeepAlive and getKeepAlive', (_name, target, received) => {
    for (const call of [() => setKeepAlive(target as never), () => getKeepAlive(target as never)]) {
      let thrown: unknown;
      try {
        call();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ code: TYPE, name: 'TypeError' });
      expect((thrown as Error).message).toMatch(
        /^The "target" argument must be one of net\.Socket, tls\.TLSSocket, or net\.Server\. /,
      );
      expect((thrown as Error).message).toMatch(received);
    }
  });

  it('the target is checked before the options', () => {
    expect(() => setKeepAlive({} as never, { count: 0 })).toThrow(expect.objectContaining({ code: TYPE }));
  });
});

// The user timeout's unit is the platform's, reported by the addon: Linux's
// TCP_USER_TIMEOUT counts milliseconds, macOS's TCP_RXT_CONNDROPTIME whole
// seconds. The same check serves both; macOS's unit is exercised here with
// the value its addon reports (src/keepalive_darwin.cc), since no macOS
// kernel can run here.
describe.runIf(linux)('the user timeout in the platform unit', () => {
  it('on this Linux build: milliseconds, under the kernel names the addon reports', () => {
    expect(binding.userTimeoutUnitMs).toBe(1);
    // And accepted sockets inherit all five (set-get.test.ts reads them back), so
    // a server's connections cost no syscall of their own (syscalls.test.ts).
    expect(binding.acceptedSocketsInherit).toBe(true);
    expect(binding.optionNames).toEqual(['SO_KEEPALIVE', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_USER_TIMEOUT', 'SO_PROTOCOL', 'TCP_INFO']);
    expect(toNativeConfig({ userTimeout: 1_500 }).userTimeoutMs).toBe(1_500);
    expect(toNativeConfig({ idle: 2_147_000, interval: 32_767_000, count: 127 }).userTimeoutMs).toBe(MAX_USER_TIMEOUT);
  });

  it('in seconds: whole seconds pass, anything else is ERR_OUT_OF_RANGE naming the option and the unit', () => {
    const check = (ms: unknown) => wholeUnits(ms, 'options.userTimeout', 'TCP_RXT_CONNDROPTIME', 1000, 0, MAX_USER_TIMEOUT);
    expect([0, 1_000, 120_000, 2_147_483_000].map(check)).toEqual([0, 1_000, 120_000, 2_147_483_000]);
    for (const ms of [1, 1_500, 999, MAX_USER_TIMEOUT]) {
      expect(() => check(ms)).toThrow(
        expect.objectContaining({
          code: RANGE,
          message: `The value of "options.userTimeout" is out of range. It must be a whole number of seconds (a multiple of 1000): the kernel counts TCP_RXT_CONNDROPTIME in seconds. Received ${ms}`,
        }),
      );
    }
    expect(() => check(-1000)).toThrow(expect.objectContaining({ code: RANGE }));
    expect(() => check('1000')).toThrow(expect.objectContaining({ code: TYPE }));
  });
});
