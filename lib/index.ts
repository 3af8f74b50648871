// The public API of tcp-keepalive. Subpath entry points: ./integrations/register
// (tcp-keepalive/register) and ./integrations/clients/* (tcp-keepalive/ioredis, ...).
export { setKeepAlive, getKeepAlive, supported, type KeepAliveTarget } from './engine/keepalive';
export { DEFAULTS, type KeepAliveOptions, type KeepAliveState } from './engine/options';
export { getTcpInfo, type TcpInfo, type TcpState } from './engine/tcp-info';
export type { KeepAliveError, KeepAliveSystemError } from './engine/errors';
export { planKeepAlive, systemDefaults, type KeepAliveGoal, type SystemDefaults } from './engine/plan';
export { register, type Unregister } from './integrations/process-wide';
export type { Inspection, InspectedSocket, InspectionSummary } from './tools/inspect';
import type { Inspection } from './tools/inspect';

/**
 * Every TCP socket process `pid` holds, with its keepalive options, what they
 * mean and its live state, read from outside without changing anything
 * (Linux 5.6+). See lib/tools/inspect.ts.
 */
export function inspectProcess(pid: number): Inspection {
  // Loaded on first use: a process that imports tcp-keepalive pays nothing at
  // start-up for a tool it may never call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./tools/inspect') as typeof import('./tools/inspect')).inspectProcess(pid);
}
