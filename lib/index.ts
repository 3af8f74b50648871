// The public API of tcp-keepalive. Subpath entry points: ./integrations/register
// (tcp-keepalive/register) and ./integrations/clients/* (tcp-keepalive/ioredis, ...).
export { setKeepAlive, getKeepAlive, supported, type KeepAliveTarget } from './engine/keepalive';
export { DEFAULTS, type KeepAliveOptions, type KeepAliveState } from './engine/options';
export { getTcpInfo, type TcpInfo, type TcpState } from './engine/tcp-info';
export type { KeepAliveError, KeepAliveSystemError } from './engine/errors';
export { planKeepAlive, systemDefaults, type KeepAliveGoal, type SystemDefaults } from './engine/plan';
export { register, type Unregister } from './integrations/process-wide';
export { inspectProcess, type Inspection, type InspectedSocket, type InspectionSummary } from './tools/inspect';
