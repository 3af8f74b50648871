// TCP_KEEPALIVE=...,log=dead-peer: tcp-keepalive/register writes one line to
// stderr for every tcp-keepalive:dead-peer message, so that an operator sees
// which peer died, why, and against what budget, with no code changed:
//   tcp-keepalive: dead peer 10.0.0.7:6379 (from 10.0.0.2:51234): keepalive, 3 probes unanswered, silent for 50.1 s; the configuration promised 50 s
// Subscribing costs nothing at start-up; the line's words are loaded with the
// first message (which the kernel's side has loaded already).
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type * as DeadPeerModule from '../engine/dead-peer';
import { CHANNEL_NAMES } from '../engine/diagnostics';

/** Logs every dead-peer message as one line through `write` (stderr); returns what stops it. */
export function logDeadPeers(write: (line: string) => void = (line) => process.stderr.write(line)): () => void {
  const onMessage = (message: unknown): void => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { deadPeerLine } = require('../engine/dead-peer') as typeof DeadPeerModule;
    write(`tcp-keepalive: ${deadPeerLine(message as DeadPeerModule.DeadPeer)}\n`);
  };
  subscribe(CHANNEL_NAMES.deadPeer, onMessage);
  return () => {
    unsubscribe(CHANNEL_NAMES.deadPeer, onMessage);
  };
}
