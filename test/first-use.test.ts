// Mistakes plain JavaScript lets through to us (TypeScript would refuse them):
// each is refused at once with a coded Node-style error that shows the right
// call, and nothing is applied or attached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http = require('node:http');
import https = require('node:https');
import net = require('node:net');
import Redis from 'ioredis';
import pg = require('pg');
import { Agent as UndiciAgent } from 'undici';
import { getKeepAlive, planKeepAlive, setKeepAlive } from '../lib';
import { setAgentKeepAlive } from '../lib/integrations/clients/http';
import { setRedisKeepAlive } from '../lib/integrations/clients/ioredis';
import { setPgKeepAlive } from '../lib/integrations/clients/pg';
import { keepAliveConnector } from '../lib/integrations/clients/undici';
import { connectedPair, notOnWindows, thrownBy, type Pair } from './helpers';

let pair: Pair;
beforeAll(async () => {
  pair = await connectedPair();
  // Whole seconds throughout, which macOS's user timeout (TCP_RXT_CONNDROPTIME) holds too.
  setKeepAlive(pair.client, { idle: 41_000, interval: 3_000, count: 5, userTimeout: 9_000 });
});
afterAll(() => pair.close());

// Plain JavaScript: the TypeScript signatures would not allow these calls.
const reads = notOnWindows('each case reads back with getKeepAlive that nothing was applied');

const js = <F extends (...args: never[]) => unknown>(f: F) => f as unknown as (...args: unknown[]) => unknown;

describe.runIf(reads)("setKeepAlive called with Node's socket.setKeepAlive(enable, initialDelay) habit", () => {
  const cases: Array<[string, unknown[], RegExp]> = [
    ['(socket, true, 30000)', [true, 30000], /^The argument 'initialDelay' is not taken: .* in milliseconds, as in setKeepAlive\(socket, \{ idle: 30_000 \}\)\. Received 30000$/],
    ['(socket, true, 1000)', [true, 1000], /as in setKeepAlive\(socket, \{ idle: 1_000 \}\)\. Received 1000$/],
    ['(socket, false, 0)', [false, 0], /as in setKeepAlive\(socket, false\)\. Received 0$/],
    ['(socket, {}, "30s")', [{}, '30s'], /^The argument 'arguments\[2\]' is not taken: .*\{ idle: 30_000 \}\)\. Received '30s'$/],
  ];
  it.each(cases)('%s: ERR_INVALID_ARG_VALUE with the right call, nothing applied', (_name, args, message) => {
    const before = getKeepAlive(pair.client);
    const error = thrownBy(() => js(setKeepAlive)(pair.client, ...args));
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError' });
    expect(error.message).toMatch(message);
    expect(getKeepAlive(pair.client)).toEqual(before);
  });

  it('an explicit undefined third argument is no mistake', () => {
    js(setKeepAlive)(pair.accepted, { idle: 7_000 }, undefined);
    expect(getKeepAlive(pair.accepted).idle).toBe(7_000);
  });

  it('the suggested call works', () => {
    setKeepAlive(pair.accepted, { idle: 30_000 });
    expect(getKeepAlive(pair.accepted).idle).toBe(30_000);
  });
});

describe.runIf(reads)('a time given in seconds where milliseconds are meant', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['{ idle: 30 }', () => setKeepAlive(pair.client, { idle: 30 }), /^The value of "options\.idle" is out of range\. It must be >= 1000 && <= 32767000 \(milliseconds: 30 seconds is 30_000\)\. Received 30$/],
    ['{ interval: 5 }', () => setKeepAlive(pair.client, { interval: 5 }), /\(milliseconds: 5 seconds is 5_000\)\. Received 5$/],
    ['planKeepAlive({ detectWithin: 30 })', () => planKeepAlive({ detectWithin: 30 }), /"goal\.detectWithin" .* \(milliseconds: 30 seconds is 30_000\)\. Received 30$/],
  ];
  it.each(cases)('%s: ERR_OUT_OF_RANGE says the unit and the number meant', (_name, call, message) => {
    const before = getKeepAlive(pair.client);
    const error = thrownBy(call);
    expect(error).toMatchObject({ code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    expect(error.message).toMatch(message);
    expect(getKeepAlive(pair.client)).toEqual(before);
  });

  it('no such hint where seconds cannot be what was meant', () => {
    expect(thrownBy(() => setKeepAlive(pair.client, { idle: 0 })).message).toMatch(/<= 32767000\. Received 0$/);
    expect(thrownBy(() => setKeepAlive(pair.client, { count: 500 })).message).toMatch(/<= 127\. Received 500$/);
  });
});

describe.runIf(reads)('client helpers check their target at once', () => {
  // Real client objects, never connected (ioredis: lazyConnect).
  const redis = new Redis({ lazyConnect: true });
  const pool = new pg.Pool();
  const undiciAgent = new UndiciAgent();
  const httpAgent = new http.Agent();
  afterAll(async () => {
    redis.disconnect();
    await pool.end();
    await undiciAgent.close();
    httpAgent.destroy();
  });

  const TYPE = { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' };
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['setRedisKeepAlive(undefined)', () => js(setRedisKeepAlive)(undefined), /^The "client" argument must be an ioredis Redis or Cluster\. Received undefined$/],
    ['setRedisKeepAlive(pg.Pool)', () => js(setRedisKeepAlive)(pool), /must be an ioredis Redis or Cluster \(for a pg Pool or Client, use setPgKeepAlive from 'tcp-keepalive\/pg'\)\. Received an instance of BoundPool$/],
    ['setRedisKeepAlive(net.Socket)', () => js(setRedisKeepAlive)(pair.client), /\(for a socket or server, use setKeepAlive from 'tcp-keepalive'\)\. Received an instance of Socket$/],
    ['setPgKeepAlive({})', () => js(setPgKeepAlive)({}), /^The "target" argument must be a pg Pool or Client\. Received an instance of Object$/],
    ['setPgKeepAlive(ioredis)', () => js(setPgKeepAlive)(redis), /\(for an ioredis client, use setRedisKeepAlive from 'tcp-keepalive\/ioredis'\)\. Received an instance of \w+$/],
    ['setAgentKeepAlive(undici.Agent)', () => js(setAgentKeepAlive)(undiciAgent, { idle: 30_000 }), /^The "agent" argument must be an instance of http\.Agent or https\.Agent \(for undici, use keepAliveConnector from 'tcp-keepalive\/undici' when creating it: new Agent\(\{ connect: keepAliveConnector\(options\) \}\)\)\. Received an instance of Agent$/],
    ['setAgentKeepAlive({})', () => js(setAgentKeepAlive)({}, { idle: 30_000 }), /^The "agent" argument must be an instance of http\.Agent or https\.Agent\. Received an instance of Object$/],
    ["keepAliveConnector(options, 'bad')", () => js(keepAliveConnector)({ idle: 30_000 }, 'bad'), /^The "base" argument must be a connector function or an object of undici connect options\. Received type string \('bad'\)$/],
    ['keepAliveConnector(options, null)', () => js(keepAliveConnector)({ idle: 30_000 }, null), /Received null$/],
  ];
  it.each(cases)('%s: ERR_INVALID_ARG_TYPE naming what it expected', (_name, call, message) => {
    const error = thrownBy(call);
    expect(error).toMatchObject(TYPE);
    expect(error.message).toMatch(message);
  });

  it('setKeepAlive and getKeepAlive given a client name its helper', () => {
    const cases: Array<[unknown, RegExp]> = [
      [redis, /\(for an ioredis client, use setRedisKeepAlive from 'tcp-keepalive\/ioredis'\)\. Received an instance of \w+$/],
      [pool, /\(for a pg Pool or Client, use setPgKeepAlive from 'tcp-keepalive\/pg'\)\. Received an instance of BoundPool$/],
      [httpAgent, /\(for an http or https Agent, use setAgentKeepAlive from 'tcp-keepalive\/http'\)\. Received an instance of Agent$/],
      [undiciAgent, /\(for undici, use keepAliveConnector from 'tcp-keepalive\/undici' when creating it: .*\)\. Received an instance of Agent$/],
    ];
    for (const [target, message] of cases) {
      for (const call of [() => setKeepAlive(target as never), () => getKeepAlive(target as never)]) {
        const error = thrownBy(call);
        expect(error).toMatchObject(TYPE);
        expect(error.message).toMatch(/^The "target" argument must be one of net\.Socket, tls\.TLSSocket, or net\.Server \(for /);
        expect(error.message).toMatch(message);
      }
    }
  });

  it('attaches nothing to a refused target', () => {
    const listeners = redis.eventNames().map((name) => [name, redis.listenerCount(name)]);
    thrownBy(() => js(setPgKeepAlive)(redis));
    expect(redis.eventNames().map((name) => [name, redis.listenerCount(name)])).toEqual(listeners);
    thrownBy(() => js(setAgentKeepAlive)(undiciAgent));
    expect(Object.prototype.hasOwnProperty.call(undiciAgent, 'createConnection')).toBe(false);
  });

  it('still accepts what they are for, https.Agent and pg.Client included', () => {
    const client = new pg.Client();
    const agent = new https.Agent();
    for (const detach of [
      setRedisKeepAlive(redis, { idle: 10_000 }),
      setPgKeepAlive(pool, { idle: 10_000 }),
      setPgKeepAlive(client, { idle: 10_000 }),
      setAgentKeepAlive(httpAgent, { idle: 10_000 }),
      setAgentKeepAlive(agent, { idle: 10_000 }),
    ]) {
      detach();
    }
    expect(typeof keepAliveConnector({ idle: 10_000 }, { timeout: 1000 })).toBe('function');
    expect(typeof keepAliveConnector({ idle: 10_000 }, (_o: object, cb: (e: Error, s: null) => void) => cb(new Error('x'), null))).toBe('function');
    agent.destroy();
  });

  it('a refused net.Socket passed to a helper is left as it was', () => {
    const before = getKeepAlive(pair.client);
    thrownBy(() => js(setAgentKeepAlive)(pair.client, { idle: 2_000 }));
    expect(getKeepAlive(pair.client)).toEqual(before);
    expect(pair.client).toBeInstanceOf(net.Socket);
  });
});
