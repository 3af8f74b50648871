// Round trips on real loopback sockets, each checked against a view of the
// kernel that does not go through the addon.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import net = require('node:net');
import { DEFAULTS, getKeepAlive, setKeepAlive, supported } from '../lib';
import { connectedPair, havePython, haveSs, kernelSet, kernelView, linuxOnly, notOnWindows, ssKeepaliveTimer, type Pair } from './helpers';

const reads = notOnWindows('it reads the options back with getKeepAlive');
// Linux's TCP_USER_TIMEOUT holds any whole millisecond up to 2^31 - 1; macOS's
// TCP_RXT_CONNDROPTIME whole seconds, and its accepted sockets do not inherit it.
const linuxUnits = reads && linuxOnly("it sets user timeouts in milliseconds that only Linux's TCP_USER_TIMEOUT holds (1, 12_345, 2^31 - 1)");
const python = reads && havePython();
const ss = reads && haveSs();

let pair: Pair;
beforeEach(async () => {
  pair = await connectedPair();
});
afterEach(() => pair.close());

describe.runIf(reads)('setKeepAlive then getKeepAlive', () => {
  it('a new socket has keepalive off and the system defaults', async () => {
    const state = getKeepAlive(pair.client);
    expect(state.enable).toBe(false);
    expect(state.userTimeout).toBe(0);
    if (python) {
      const k = await kernelView(pair.client);
      expect(state).toEqual({
        enable: false,
        idle: k.idleSeconds * 1000,
        interval: k.intervalSeconds * 1000,
        count: k.count,
        userTimeout: 0,
      });
    }
  });

  it('no options applies the documented defaults, userTimeout included', async () => {
    expect(DEFAULTS).toEqual({ idle: 60_000, interval: 10_000, count: 6, userTimeout: 120_000 });
    expect(Object.isFrozen(DEFAULTS)).toBe(true);
    expect(setKeepAlive(pair.client)).toBe(pair.client);
    expect(getKeepAlive(pair.client)).toEqual({ enable: true, ...DEFAULTS });
    if (python) {
      expect(await kernelView(pair.client)).toEqual({
        keepalive: 1,
        idleSeconds: 60,
        intervalSeconds: 10,
        count: 6,
        userTimeoutMs: 120_000,
      });
    }
  });

  it('{} and true mean the defaults too', () => {
    setKeepAlive(pair.client, {});
    expect(getKeepAlive(pair.client)).toEqual({ enable: true, ...DEFAULTS });
    setKeepAlive(pair.accepted, true);
    expect(getKeepAlive(pair.accepted)).toEqual({ enable: true, ...DEFAULTS });
  });

  it('sets every option and derives userTimeout from the options given', async () => {
    setKeepAlive(pair.client, { idle: 30_000, interval: 5_000, count: 4 });
    expect(getKeepAlive(pair.client)).toEqual({
      enable: true,
      idle: 30_000,
      interval: 5_000,
      count: 4,
      userTimeout: 50_000,
    });
    if (python) {
      expect(await kernelView(pair.client)).toEqual({
        keepalive: 1,
        idleSeconds: 30,
        intervalSeconds: 5,
        count: 4,
        userTimeoutMs: 50_000,
      });
    }
  });

  it('fills left-out options from the defaults before deriving userTimeout', () => {
    setKeepAlive(pair.client, { count: 3 });
    expect(getKeepAlive(pair.client)).toEqual({
      enable: true,
      idle: 60_000,
      interval: 10_000,
      count: 3,
      userTimeout: 90_000,
    });
  });

  it.runIf(linuxUnits)('an explicit userTimeout wins, and 0 leaves the kernel its own behaviour', async () => {
    setKeepAlive(pair.client, { idle: 1000, interval: 1000, count: 1, userTimeout: 2_147_483_647 });
    expect(getKeepAlive(pair.client).userTimeout).toBe(2_147_483_647);
    setKeepAlive(pair.client, { userTimeout: 0 });
    expect(getKeepAlive(pair.client)).toEqual({ enable: true, ...DEFAULTS, userTimeout: 0 });
    if (python) expect((await kernelView(pair.client)).userTimeoutMs).toBe(0);
  });

  it.runIf(linuxUnits)('caps the derived userTimeout at the kernel maximum', () => {
    setKeepAlive(pair.client, { idle: 32_767_000, interval: 32_767_000, count: 127 });
    expect(getKeepAlive(pair.client)).toEqual({
      enable: true,
      idle: 32_767_000,
      interval: 32_767_000,
      count: 127,
      userTimeout: 2_147_483_647,
    });
  });

  it.runIf(linuxUnits)('accepts both ends of every range', () => {
    setKeepAlive(pair.client, { idle: 1000, interval: 1000, count: 1, userTimeout: 0 });
    expect(getKeepAlive(pair.client)).toEqual({ enable: true, idle: 1000, interval: 1000, count: 1, userTimeout: 0 });
    setKeepAlive(pair.client, { idle: 32_767_000, interval: 32_767_000, count: 127, userTimeout: 1 });
    expect(getKeepAlive(pair.client)).toEqual({
      enable: true,
      idle: 32_767_000,
      interval: 32_767_000,
      count: 127,
      userTimeout: 1,
    });
  });

  it('false and { enable: false } turn SO_KEEPALIVE off and touch nothing else', async () => {
    setKeepAlive(pair.client, { idle: 30_000, interval: 5_000, count: 4, userTimeout: 7_000 });
    setKeepAlive(pair.client, false);
    const off = { enable: false, idle: 30_000, interval: 5_000, count: 4, userTimeout: 7_000 };
    expect(getKeepAlive(pair.client)).toEqual(off);
    if (python) expect((await kernelView(pair.client)).keepalive).toBe(0);
    setKeepAlive(pair.client, { idle: 30_000, interval: 5_000, count: 4, userTimeout: 7_000 });
    // The other options are still validated, but not applied.
    setKeepAlive(pair.client, { enable: false, idle: 9_000 });
    expect(getKeepAlive(pair.client)).toEqual(off);
  });

  it('works on the accepted (server) side and on IPv6', async () => {
    setKeepAlive(pair.accepted, { idle: 7_000, interval: 2_000, count: 3 });
    expect(getKeepAlive(pair.accepted)).toEqual({ enable: true, idle: 7_000, interval: 2_000, count: 3, userTimeout: 13_000 });
    expect(getKeepAlive(pair.client).enable).toBe(false);
    let v6: Pair | undefined;
    try {
      v6 = await connectedPair('::1');
    } catch {
      return; // no IPv6 loopback on this machine: nothing to test
    }
    try {
      setKeepAlive(v6.client, { idle: 8_000 });
      expect(getKeepAlive(v6.client)).toMatchObject({ enable: true, idle: 8_000 });
    } finally {
      await v6.close();
    }
  });

  it.runIf(reads && linuxOnly("Node's setKeepAlive resets interval and count to 1 s and 10, as libuv does on Linux"))('reads what another process set, and what Node set', async () => {
    if (python) {
      await kernelSet(pair.client, { keepalive: 1, idleSeconds: 11, intervalSeconds: 3, count: 9, userTimeoutMs: 4321 });
      expect(getKeepAlive(pair.client)).toEqual({ enable: true, idle: 11_000, interval: 3_000, count: 9, userTimeout: 4321 });
    }
    // Node's own setKeepAlive sets the idle time and quietly resets interval
    // and count to 1 s and 10 (libuv >= 1.35): the reason to apply ours after it.
    pair.accepted.setKeepAlive(true, 5_000);
    expect(getKeepAlive(pair.accepted)).toEqual({ enable: true, idle: 5_000, interval: 1_000, count: 10, userTimeout: 0 });
  });

  it.runIf(ss)('the kernel keepalive timer (ss -tio) follows idle', async () => {
    setKeepAlive(pair.client, { idle: 45_000 });
    const left = ssKeepaliveTimer(pair.client.localPort!);
    expect(left).toBeGreaterThan(40);
    expect(left).toBeLessThanOrEqual(45);
    setKeepAlive(pair.client, false);
    expect(ssKeepaliveTimer(pair.client.localPort!)).toBeUndefined();
  });

  it('exports what this build supports: everything, on Linux', () => {
    expect(supported).toEqual({ enable: true, idle: true, interval: true, count: true, userTimeout: true });
    expect(Object.isFrozen(supported)).toBe(true);
  });
});

describe.runIf(linuxUnits)('a listening server', () => {
  it('is configured once and every accepted socket inherits it', async () => {
    const server = net.createServer();
    setKeepAlive(server, { idle: 33_000, interval: 7_000, count: 4, userTimeout: 12_345 }); // before listen
    server.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const expected = { enable: true, idle: 33_000, interval: 7_000, count: 4, userTimeout: 12_345 };
    expect(getKeepAlive(server)).toEqual(expected);
    const { port } = server.address() as net.AddressInfo;
    const accepted: net.Socket[] = [];
    server.on('connection', (s) => accepted.push(s));
    const clients = [net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1'), net.connect(port, '127.0.0.1')];
    await new Promise<void>((r) => {
      const check = () => (accepted.length === 3 ? r() : setTimeout(check, 5));
      check();
    });
    for (const s of accepted) expect(getKeepAlive(s)).toEqual(expected);
    for (const c of clients) expect(getKeepAlive(c).enable).toBe(false);
    // A server that is already listening is configured at once.
    setKeepAlive(server, { idle: 2_000 });
    expect(getKeepAlive(server)).toMatchObject({ idle: 2_000, interval: 10_000, count: 6 });
    for (const s of [...accepted, ...clients]) s.destroy();
    await new Promise((r) => server.close(r));
  });
});
