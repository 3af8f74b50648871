// Errors in Node's exact shape: String(err) and the stack's first line read
// `TypeError [ERR_INVALID_ARG_TYPE]: The ...`, as a real Node error's do;
// list wording from Node's own formatter (run with --expose-internals, so the
// expectation is Node's, not ours); a not-TCP error never carries a kernel
// error that did not happen.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import net = require('node:net');
import path = require('node:path');
import { getKeepAlive, setKeepAlive } from '../lib';
import { setAgentKeepAlive } from '../lib/integrations/clients/http';
import { closeAll, connectedPair, linuxOnly, notOnWindows, thrownBy, unixSocketPath, type Pair } from './helpers';

let pair: Pair;
beforeAll(async () => {
  pair = await connectedPair();
});
afterAll(() => pair.close());

/** What Node's own ERR_INVALID_ARG_TYPE formatter says for (name, expected, actual). */
function nodeSays(name: string, expected: string[], actual: string): string {
  return execFileSync(
    process.execPath,
    ['--expose-internals', '-e', `const { codes } = require('internal/errors');
      process.stdout.write(new codes.ERR_INVALID_ARG_TYPE(${JSON.stringify(name)}, ${JSON.stringify(expected)}, ${actual}).message)`],
    { encoding: 'utf8' },
  );
}

describe.runIf(notOnWindows('its cases read options back, and a not-connected read is refused before that'))("coded errors in Node's shape", () => {
  it("in a plain Node process: ours print exactly as a real Node error does", () => {
    // A child of its own: a test runner may change how errors print.
    const out = execFileSync(
      process.execPath,
      ['-e', `const net = require('node:net'); const { setKeepAlive } = require('tcp-keepalive');
        const show = (call) => { try { call(); } catch (e) { return { string: String(e), first: e.stack.split('\\n')[0], name: e.name, code: e.code, message: e.message, keys: Object.keys(e) }; } };
        process.stdout.write(JSON.stringify([show(() => net.connect({ port: 'x' })), show(() => setKeepAlive(new net.Socket(), null))]));`],
      { cwd: path.join(__dirname, '..'), encoding: 'utf8' },
    );
    const [node, ours] = JSON.parse(out) as Array<Record<string, unknown>>;
    for (const e of [node!, ours!]) {
      expect(e.string).toBe(`${e.name} [${e.code}]: ${e.message}`);
      expect(e.first).toBe(e.string);
      expect(e.keys).toEqual(['code']);
    }
    expect(node!.name).toBe('RangeError');
    expect(ours).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
  });

  const cases: Array<[string, () => unknown, string, string]> = [
    ['options of the wrong type', () => setKeepAlive(pair.client, null as never), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['not a target', () => setKeepAlive({} as never), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
    ['an unknown option', () => setKeepAlive(pair.client, { idel: 1000 } as never), 'TypeError', 'ERR_INVALID_ARG_VALUE'],
    ['out of range', () => setKeepAlive(pair.client, { idle: 1500 }), 'RangeError', 'ERR_OUT_OF_RANGE'],
    ['not connected', () => getKeepAlive(new net.Socket()), 'Error', 'ERR_SOCKET_NOT_CONNECTED'],
    ['not listening', () => getKeepAlive(net.createServer()), 'Error', 'ERR_SERVER_NOT_LISTENING'],
    ['a client helper given a socket', () => setAgentKeepAlive(pair.client as never), 'TypeError', 'ERR_INVALID_ARG_TYPE'],
  ];
  it.each(cases)('%s: String(err) and the first stack line are `Name [CODE]: message`', (_, call, name, code) => {
    const error = thrownBy(call);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(String(error)).toBe(`${name} [${code}]: ${error.message}`);
    expect(String(error.stack).split('\n')[0]).toBe(String(error));
    expect(Object.keys(error)).toEqual(['code']);
  });

  it('a closed socket: the same shape', async () => {
    const closed = await connectedPair();
    await closed.close();
    const error = thrownBy(() => setKeepAlive(closed.client, true));
    expect(String(error)).toBe(`Error [ERR_SOCKET_CLOSED]: ${error.message}`);
    expect(String(error.stack).split('\n')[0]).toBe(String(error));
  });

  it("list wording is Node's own formatter's", () => {
    const options = thrownBy(() => setKeepAlive(pair.client, 5 as never));
    expect(options.message).toBe(nodeSays('options', ['object', 'boolean'], '5'));
    expect(options.message).toMatch(/must be one of type object or boolean\./);
    const target = thrownBy(() => getKeepAlive(5 as never));
    expect(target.message).toBe(nodeSays('target', ['net.Socket', 'tls.TLSSocket', 'net.Server'], '5'));
    const enable = thrownBy(() => setKeepAlive(pair.client, { enable: 1 } as never));
    expect(enable.message).toBe(nodeSays('options.enable', ['boolean'], '1'));
  });
});

describe.runIf(linuxOnly("the kernel's answers are Linux's (SO_PROTOCOL, ENOTSUP = 95, TCP_KEEPIDLE)"))('a not-TCP socket: the cause is the kernel error that happened, or absent', () => {
  let server: net.Server;
  let client: net.Socket;
  let peer: net.Socket;
  beforeAll(async () => {
    server = net.createServer().listen(unixSocketPath());
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    client = net.connect(server.address() as string);
    await once(client, 'connect');
    [peer] = await accepted;
  });
  afterAll(() => closeAll([client, peer], server));

  it('setKeepAlive(unixSocket, false): SO_PROTOCOL answered, so no cause', () => {
    const error = thrownBy(() => setKeepAlive(client, false));
    expect(error.code).toBe('ERR_SOCKET_NOT_TCP');
    expect(error.cause).toBeUndefined();
    expect(error.message).toMatch(/the kernel reports it is not TCP \(SO_PROTOCOL\)/);
    expect(String(error)).toBe(`Error [ERR_SOCKET_NOT_TCP]: ${error.message}`);
  });

  it("setKeepAlive(unixSocket, options): the cause is the kernel's real setsockopt error, a system error in Node's shape", () => {
    const error = thrownBy(() => setKeepAlive(client, { idle: 5000 }));
    expect(error.code).toBe('ERR_SOCKET_NOT_TCP');
    const cause = error.cause as Error & Record<string, unknown>;
    expect(cause).toMatchObject({ errno: -95, code: 'ENOTSUP', syscall: 'setsockopt', option: 'TCP_KEEPIDLE' });
    // As Node's own system errors (dgram's setTTL EINVAL): no brackets.
    expect(String(cause)).toBe('Error: setsockopt ENOTSUP');
    expect(String(cause.stack).split('\n')[0]).toBe('Error: setsockopt ENOTSUP');
  });
});
