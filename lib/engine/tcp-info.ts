// getTcpInfo: the kernel's live view of one connection (Linux TCP_INFO,
// macOS TCP_CONNECTION_INFO), read in one native call on the same targets,
// with the same errors, as getKeepAlive.
import { kernel } from '../kernel';
import type { TcpInfo, TcpState } from '../kernel/seam';
import { isServer, isSocket, notATarget, openHandle, type KeepAliveTarget } from './handles';

export type { TcpInfo, TcpState };

/**
 * Reads the live state of a connected socket (or a listening server) from the
 * kernel: its state, round-trip time, retransmission timeout, keepalive
 * probes sent and unanswered, backoff, retransmissions, unacknowledged
 * segments and the times since data was last sent and received and an ACK
 * last received, in milliseconds. Changes nothing.
 */
export function getTcpInfo(target: KeepAliveTarget): TcpInfo {
  const socket = isSocket(target);
  if (!socket && !isServer(target)) throw notATarget(target);
  if (!kernel.readsBack) throw kernel.cannotReadTcpInfo();
  return kernel.tcpInfo(openHandle(target, socket));
}
