// planKeepAlive: the invariants over the whole range of budgets, each plan
// applied to a real socket; systemDefaults against /proc read directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { getKeepAlive, planKeepAlive, setKeepAlive, systemDefaults } from '../lib';
import { retransmissionTimeout } from '../lib/engine/plan';
import { connectedPair, linuxOnly, notOnWindows, thrownBy, type Pair } from './helpers';

let pair: Pair;
beforeAll(async () => {
  pair = await connectedPair();
});
afterAll(() => pair.close());

const MAX_BUDGET = 32_767_000 * 128; // past this, every plan is the same
const budgets = fc.oneof(
  fc.integer({ min: 2000, max: 120_000 }),
  fc.integer({ min: 2000, max: 4 * 3_600_000 }),
  fc.integer({ min: 2000, max: MAX_BUDGET }),
);
const idleBelows = fc.option(fc.oneof(fc.integer({ min: 1001, max: 600_000 }), fc.integer({ min: 1001, max: MAX_BUDGET })), {
  nil: undefined,
});

describe('planKeepAlive', () => {
  it.runIf(notOnWindows('each plan is applied and read back with getKeepAlive'))('meets the deadline, keeps idle below idleBelow, and passes setKeepAlive on a real socket', () => {
    fc.assert(
      fc.property(budgets, idleBelows, (detectWithin, idleBelow) => {
        const plan = planKeepAlive(idleBelow === undefined ? { detectWithin } : { detectWithin, idleBelow });
        const { idle, interval, count, userTimeout } = plan;
        expect(plan.enable).toBe(true);
        expect(idle + interval * count).toBeLessThanOrEqual(detectWithin);
        expect(userTimeout).toBeGreaterThan(0);
        expect(userTimeout).toBeLessThanOrEqual(detectWithin);
        if (idleBelow !== undefined) {
          expect(idle).toBeLessThan(idleBelow);
          expect(interval).toBeLessThan(idleBelow); // no gap between probes reaches it either
        } else {
          // Spends the budget: at least half of it goes to detection.
          expect(idle + interval * count).toBeGreaterThanOrEqual(detectWithin / 2);
        }
        // More than one probe wherever the budget has room for two.
        if (detectWithin >= 3000) expect(count).toBeGreaterThanOrEqual(2);
        setKeepAlive(pair.client, plan);
        expect(getKeepAlive(pair.client)).toEqual(plan);
      }),
      { numRuns: 2000 },
    );
  });

  it('spends an hour sensibly: not a probe a second', () => {
    const plan = planKeepAlive({ detectWithin: 3_600_000 });
    expect(plan).toEqual({ enable: true, idle: 1_800_000, interval: 360_000, count: 5, userTimeout: 3_600_000 });
    const behindNat = planKeepAlive({ detectWithin: 3_600_000, idleBelow: 240_000 });
    expect(behindNat.idle).toBe(216_000); // 90 % of the NAT's idle timeout
    expect(behindNat.interval).toBeLessThanOrEqual(216_000);
    expect(behindNat.interval).toBeGreaterThanOrEqual(60_000);
  });

  it('examples from the README', () => {
    expect(planKeepAlive({ detectWithin: 30_000 })).toEqual({ enable: true, idle: 15_000, interval: 3_000, count: 5, userTimeout: 30_000 });
    expect(planKeepAlive({ detectWithin: 30_000, idleBelow: 240_000 })).toEqual({
      enable: true,
      idle: 15_000,
      interval: 3_000,
      count: 5,
      userTimeout: 30_000,
    });
    expect(planKeepAlive({ detectWithin: 2000 })).toEqual({ enable: true, idle: 1000, interval: 1000, count: 1, userTimeout: 2000 });
    expect(planKeepAlive({ detectWithin: 3000 })).toEqual({ enable: true, idle: 1000, interval: 1000, count: 2, userTimeout: 3000 });
    expect(planKeepAlive({ detectWithin: 30_000, idleBelow: 5_000 })).toEqual({
      enable: true,
      idle: 4_000,
      interval: 3_000,
      count: 7,
      userTimeout: 25_000,
    });
  });

  it('rejects what it cannot satisfy with the same coded errors as setKeepAlive', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [undefined, 'ERR_INVALID_ARG_TYPE', /The "goal" argument must be of type object\. Received undefined/],
      [null, 'ERR_INVALID_ARG_TYPE', /Received null/],
      [30_000, 'ERR_INVALID_ARG_TYPE', /Received type number \(30000\)/],
      [{}, 'ERR_INVALID_ARG_TYPE', /The "goal\.detectWithin" property must be of type number\. Received undefined/],
      [{ detectWithin: '30s' }, 'ERR_INVALID_ARG_TYPE', /goal\.detectWithin/],
      [{ detectWithin: 1999 }, 'ERR_OUT_OF_RANGE', /The value of "goal\.detectWithin" is out of range\. It must be >= 2000/],
      [{ detectWithin: 0 }, 'ERR_OUT_OF_RANGE', />= 2000/],
      [{ detectWithin: -30_000 }, 'ERR_OUT_OF_RANGE', />= 2000/],
      [{ detectWithin: 2500.5 }, 'ERR_OUT_OF_RANGE', /an integer/],
      [{ detectWithin: NaN }, 'ERR_OUT_OF_RANGE', /an integer/],
      [{ detectWithin: Infinity }, 'ERR_OUT_OF_RANGE', /an integer/],
      [{ detectWithin: 30_000, idleBelow: 1000 }, 'ERR_OUT_OF_RANGE', /"goal\.idleBelow" is out of range\. It must be >= 1001/],
      [{ detectWithin: 30_000, idleBelow: 500 }, 'ERR_OUT_OF_RANGE', />= 1001/],
      [{ detectWithin: 30_000, idleBelow: 1500.5 }, 'ERR_OUT_OF_RANGE', /an integer/],
      [{ detectWithin: 30_000, idleBelow: '4m' }, 'ERR_INVALID_ARG_TYPE', /goal\.idleBelow/],
      [{ detectWithin: 30_000, within: 5 }, 'ERR_INVALID_ARG_VALUE', /The property 'goal\.within' is not a goal \(valid: detectWithin, idleBelow\)/],
    ];
    for (const [goal, code, message] of cases) {
      const error = thrownBy(() => planKeepAlive(goal as never));
      expect(error, JSON.stringify(goal)).toMatchObject({ code });
      expect(error.message).toMatch(message);
    }
  });
});

const proc = (name: string) => Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8'));

describe('systemDefaults', () => {
  it.runIf(linuxOnly('systemDefaults reads the Linux sysctls net.ipv4.tcp_keepalive_*'))('reads the four sysctls, times in ms', () => {
    expect(systemDefaults()).toEqual({
      idle: proc('tcp_keepalive_time') * 1000,
      interval: proc('tcp_keepalive_intvl') * 1000,
      count: proc('tcp_keepalive_probes'),
      retries2: proc('tcp_retries2'),
    });
  });

  it("models the kernel's retransmission timeout (about 15.4 min at tcp_retries2 = 15)", () => {
    expect(retransmissionTimeout(15)).toBe(924_600);
    expect(retransmissionTimeout(8)).toBe(102_200); // still doubling: (2^9 - 1) x 200 ms
    expect(retransmissionTimeout(9)).toBe(204_600);
    expect(retransmissionTimeout(10)).toBe(324_600); // then 120 s per retry
  });
});
