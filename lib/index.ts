// The public API of tcp-keepalive. Subpath entry points: ./integrations/register
// (tcp-keepalive/register) and ./integrations/clients/* (tcp-keepalive/ioredis, ...).
//
// Loading this module loads nothing else: the engine, the addon and the
// process-wide mode are loaded on the first call that needs them, so that
// `require('tcp-keepalive')` costs a process's start-up almost nothing (a
// module loaded is a file read and compiled; measured in `npm run bench`).
import type * as Engine from './engine/keepalive';
import type * as Plan from './engine/plan';
import type * as TcpInfoModule from './engine/tcp-info';
import type * as Inspect from './tools/inspect';
import type * as ProcessWide from './integrations/process-wide';
import type { Supported } from './kernel/seam';

export type { KeepAliveTarget } from './engine/keepalive';
export type { KeepAliveOptions, KeepAliveState } from './engine/options';
export type { KeepAliveError, KeepAliveSystemError } from './engine/errors';
export type { KeepAliveGoal, SystemDefaults } from './engine/plan';
export type { Unregister } from './integrations/process-wide';
export type { TcpInfo, TcpState } from './engine/tcp-info';
export type { DeadPeer, DeadPeerCause } from './engine/dead-peer';
export type { Inspection, InspectedSocket, InspectionSummary, InspectSocketError, UnreadableSocket } from './tools/inspect';
export { DEFAULTS } from './engine/defaults';

/* eslint-disable @typescript-eslint/no-require-imports */
let engine: typeof Engine | undefined;
const loadEngine = (): typeof Engine => (engine ??= require('./engine/keepalive') as typeof Engine);
let plan: typeof Plan | undefined;
const loadPlan = (): typeof Plan => (plan ??= require('./engine/plan') as typeof Plan);
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Sets SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT and
 * TCP_USER_TIMEOUT on a socket or a listening server in one native call.
 * A socket that is still connecting (or a server not yet listening) gets the
 * configuration when it connects (listens). Returns the target.
 */
type SetKeepAlive = (target: Engine.KeepAliveTarget, options?: unknown, initialDelay?: unknown) => Engine.KeepAliveTarget;
// The third parameter only carries Node's calling habit, setKeepAlive(socket,
// true, 30000), to the engine, which refuses it with the call meant.
export const setKeepAlive = function setKeepAlive(target, options, initialDelay) {
  return ((engine ?? loadEngine()).setKeepAlive as SetKeepAlive)(target, options, initialDelay);
} as SetKeepAlive as typeof Engine.setKeepAlive;

/** Reads the five options the kernel holds for the socket or listening server, in ms. */
export const getKeepAlive: typeof Engine.getKeepAlive = (target) => (engine ?? loadEngine()).getKeepAlive(target);

/** Which options can be set here (this build, this runtime, this Node version); on Linux all of them. */
export declare const supported: Supported;
// A getter on the module's exports: the engine loads when `supported` is
// first read, not at require. Written in the one getter form Node's CommonJS
// lexer accepts (`return x.y;`), so ES modules can import it by name.
const lazy = {
  get supported(): Supported {
    return loadEngine().supported;
  },
};
Object.defineProperty(exports, 'supported', {
  enumerable: true,
  // eslint-disable-next-line object-shorthand
  get: function () {
    return lazy.supported;
  },
});

/** Options that notice a dead peer, idle or with data in flight, within `goal.detectWithin` ms. */
export const planKeepAlive: typeof Plan.planKeepAlive = (goal) => loadPlan().planKeepAlive(goal);

/** What this host (network namespace) uses for sockets that do not set their own options. */
export const systemDefaults: typeof Plan.systemDefaults = () => loadPlan().systemDefaults();

/**
 * Configures every TCP connection this process opens from now on, and every
 * TCP server that starts listening from now on. Returns a function that ends it.
 */
export const register: typeof ProcessWide.register = (options) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./integrations/process-wide') as typeof ProcessWide).register(options);

/**
 * Reads the live state of a connected socket (or a listening server) from the
 * kernel (Linux TCP_INFO, macOS TCP_CONNECTION_INFO) in one native call: its
 * state, round-trip time, retransmission timeout, keepalive probes sent and
 * unanswered, backoff, retransmissions, unacknowledged segments and the times
 * since data was last sent and received and an ACK last received, in
 * milliseconds. Changes nothing.
 */
let tcpInfo: typeof TcpInfoModule | undefined;
export const getTcpInfo: typeof TcpInfoModule.getTcpInfo = (target) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (tcpInfo ??= require('./engine/tcp-info') as typeof TcpInfoModule).getTcpInfo(target);

/**
 * Every TCP socket process `pid` holds, with its keepalive options, what they
 * mean and its live state, read from outside (Linux 5.6+): no option is set
 * and nothing is sent; what copying its fds does all the same:
 * docs/live-state.md#what-it-touches. See lib/tools/inspect.ts.
 */
export const inspectProcess: typeof Inspect.inspectProcess = (pid) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('./tools/inspect') as typeof Inspect).inspectProcess(pid);
