// What a keepalive configuration means, as the Linux kernel runs it: how long
// a dead peer can go unnoticed. The inverse of plan.ts (settings from a deadline).
import { retransmissionTimeout } from './plan';
import type { KeepAliveState } from './options';

/**
 * How long after it last heard from an idle peer the kernel gives up on it,
 * ms; null when keepalive is off (never). The keepalive timer first fires
 * after `idle` and sends a probe, then every `interval`; without a user
 * timeout the connection fails when `count` probes went unanswered, with one
 * when the time since the peer was last heard reaches `userTimeout` at a
 * firing after the first probe (net/ipv4/tcp_timer.c, tcp_keepalive_timer).
 */
export function idleDeadPeerMs(state: KeepAliveState): number | null {
  if (!state.enable) return null;
  if (state.userTimeout === 0) return state.idle + state.interval * state.count;
  const probes = Math.max(1, Math.ceil((state.userTimeout - state.idle) / state.interval));
  return state.idle + state.interval * probes;
}

/**
 * How long data sent and not acknowledged is retransmitted before the
 * connection fails, ms: the user timeout where one is set, else the shortest
 * time `retries2` retransmissions take (keepalive plays no part while data
 * waits for its ACK).
 */
export function unacknowledgedDataMs(state: KeepAliveState, retries2: number): number {
  return state.userTimeout > 0 ? state.userTimeout : retransmissionTimeout(retries2);
}
