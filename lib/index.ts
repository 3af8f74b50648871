export { setKeepAlive, getKeepAlive, supported, type KeepAliveTarget } from './keepalive';
export { DEFAULTS, type KeepAliveOptions, type KeepAliveState } from './options';
export type { KeepAliveError, KeepAliveSystemError } from './errors';
export { planKeepAlive, systemDefaults, type KeepAliveGoal, type SystemDefaults } from './plan';
export { register, type Unregister } from './process-wide';
