// configurationInForce(socket): which configuration of ours the kernel socket
// under a net.Socket holds now. The engine's answer for its own users (the
// dead-peer event): explicit, a client helper's, the process-wide default, or
// inherited from a configured listening socket of this process; else undefined.
import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import net = require('node:net');
import { register, setKeepAlive } from '../lib';
import { configurationInForce } from '../lib/engine/lifecycle';
import { closeAll, pairsClosedAfterEach } from './helpers';

const pair = pairsClosedAfterEach();
let undo: (() => void) | undefined;
afterEach(() => {
  undo?.();
  undo = undefined;
});

describe('configurationInForce', () => {
  it('undefined for a socket never configured', async () => {
    const { client, accepted } = await pair();
    expect(configurationInForce(client)).toBeUndefined();
    expect(configurationInForce(accepted)).toBeUndefined();
  });

  it('the explicit configuration, enabling or not; undefined once Node\'s own false took it back', async () => {
    const { client } = await pair();
    setKeepAlive(client, { idle: 7000 });
    expect(configurationInForce(client)).toMatchObject({ enable: true, idleSeconds: 7 });
    setKeepAlive(client, { enable: false, userTimeout: 3000 });
    expect(configurationInForce(client)).toMatchObject({ enable: false, userTimeoutMs: 3000 });
    setKeepAlive(client, { idle: 9000 });
    client.setKeepAlive(false);
    expect(configurationInForce(client)).toBeUndefined();
  });

  it('inherited by a connection a configured server of this process accepted', async () => {
    const server = net.createServer();
    setKeepAlive(server, { idle: 11_000 });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    const [socket] = await accepted;
    await once(client, 'connect');
    try {
      expect(configurationInForce(socket)).toMatchObject({ enable: true, idleSeconds: 11 });
      expect(configurationInForce(client)).toBeUndefined();
    } finally {
      await closeAll([client, socket], server);
    }
  });

  it('the process-wide default for a socket it configured, and undefined for a closed socket', async () => {
    const { server } = await pair();
    undo = register({ idle: 13_000 });
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    expect(configurationInForce(client)).toMatchObject({ enable: true, idleSeconds: 13 });
    client.destroy();
    expect(configurationInForce(client)).toBeUndefined();
  });
});
