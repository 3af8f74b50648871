// Every diagnostics_channel channel this library publishes, in one table, as
// undici keeps its own (lib/core/diagnostics.js). Each is published only
// while it has subscribers; each message's shape is documented with a
// subscriber that runs in docs/dead-peer.md.
//
// Made on first use: the channel's name is its identity (a subscriber may
// come before or after), and nothing is made in a process that never
// configures a socket.
import type { Channel } from 'node:diagnostics_channel';

export const CHANNEL_NAMES = Object.freeze({
  /**
   * The kernel ended a connection this library configured because its peer
   * went silent (ETIMEDOUT): the message is a DeadPeer (./dead-peer.ts).
   */
  deadPeer: 'tcp-keepalive:dead-peer',
});

let deadPeerChannel: Channel | undefined;

/** The `tcp-keepalive:dead-peer` channel. */
export function deadPeer(): Channel {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  deadPeerChannel ??= (require('node:diagnostics_channel') as typeof import('node:diagnostics_channel')).channel(CHANNEL_NAMES.deadPeer);
  return deadPeerChannel;
}
