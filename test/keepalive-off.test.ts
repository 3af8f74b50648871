// setKeepAlive(x, false) leaves a socket or server as if keepalive had never
// been configured: the user timeout derived from keepalive goes with it
// (issue #27). One given explicitly (then or in the same call) stays. Real sockets.
import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import net = require('node:net');
import { getKeepAlive, setKeepAlive } from '../lib';
import { closeAll, pairsClosedAfterEach } from './helpers';

const CONFIGURED = { idle: 5000, interval: 1000, count: 3 }; // userTimeout derived: 8000
const pair = pairsClosedAfterEach();

describe('setKeepAlive(x, false): no derived user timeout outlives the keepalive it came from', () => {
  it('a configured server set false accepts connections with keepalive off and no user timeout', async () => {
    const server = net.createServer();
    const accepted: net.Socket[] = [];
    server.on('connection', (s) => accepted.push(s));
    setKeepAlive(server.listen(0, '127.0.0.1'), CONFIGURED);
    await once(server, 'listening');
    expect(getKeepAlive(server).userTimeout).toBe(8000);
    setKeepAlive(server, false);
    expect(getKeepAlive(server)).toMatchObject({ enable: false, userTimeout: 0 });
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    while (accepted.length < 1) await new Promise((r) => setImmediate(r));
    try {
      expect(getKeepAlive(accepted[0]!)).toMatchObject({ enable: false, userTimeout: 0 });
    } finally {
      await closeAll([client, ...accepted], server);
    }
  });

  it('a configured socket set false, by false or by { enable: false }, keeps no user timeout', async () => {
    const { client, accepted } = await pair();
    setKeepAlive(client, CONFIGURED);
    setKeepAlive(client, false);
    expect(getKeepAlive(client)).toMatchObject({ enable: false, userTimeout: 0 });
    setKeepAlive(accepted, CONFIGURED);
    setKeepAlive(accepted, { ...CONFIGURED, enable: false });
    expect(getKeepAlive(accepted)).toMatchObject({ enable: false, userTimeout: 0 });
  });

  it('a userTimeout given explicitly with enable: false is set, and stays', async () => {
    const { client } = await pair();
    setKeepAlive(client, CONFIGURED);
    setKeepAlive(client, { enable: false, userTimeout: 3000 });
    expect(getKeepAlive(client)).toMatchObject({ enable: false, userTimeout: 3000 });
  });

  it('a userTimeout given explicitly when keepalive was turned on is not derived, and outlives it', async () => {
    const { client } = await pair();
    setKeepAlive(client, { ...CONFIGURED, userTimeout: 4000 });
    setKeepAlive(client, false);
    expect(getKeepAlive(client)).toMatchObject({ enable: false, userTimeout: 4000 });
  });

  it('a socket set false before it connects connects with neither', async () => {
    const { server } = await pair();
    const socket = setKeepAlive(new net.Socket(), CONFIGURED);
    setKeepAlive(socket, false);
    socket.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      expect(getKeepAlive(socket)).toMatchObject({ enable: false, userTimeout: 0 });
    } finally {
      socket.destroy();
    }
  });
});
