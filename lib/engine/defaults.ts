// What setKeepAlive applies when an option is left out. A module of its own,
// importing nothing: the public entry exports it without loading the engine.
export const DEFAULTS: Readonly<{ idle: 60_000; interval: 10_000; count: 6; userTimeout: 120_000 }> = Object.freeze({
  idle: 60_000,
  interval: 10_000,
  count: 6,
  userTimeout: 120_000,
});
