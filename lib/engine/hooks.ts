// Every function of Node's public net module that this library replaces, in
// one place, each by the name it replaces. A hook is put in place when first
// needed and taken out when nothing needs it any more (the process-wide
// mode's end, with no explicit configuration left): then the prototype holds
// Node's own function again, unless someone wrapped ours since, in which case
// ours stays and passes every call straight on (taking it out would drop the
// other wrapper too).
//
// - `connect`      net.Socket.prototype.connect: a socket of the process-wide
//                  mode takes its default when it connects (and, where Node's
//                  internals are missing, an explicitly configured one takes
//                  its own again).
// - `listen`       net.Server.prototype.listen: a configured server is
//                  configured again at each listen (only this call shows a
//                  re-listen of the same object).
// - `setKeepAlive` net.Socket.prototype.setKeepAlive: Node's `false` reaches a
//                  socket that holds ours where Node would keep it to itself
//                  (its own record says "off": the process-wide mode's
//                  sockets, and any where Node's internals are missing).
// - `_destroy`     net.Socket.prototype._destroy: the dead-peer event reads the
//                  kernel's account while the handle is still open.
//
// The hooks are small and hold no logic: what they do is the engine's
// (./lifecycle.ts), which attaches it when it loads. The preload
// (tcp-keepalive/register) puts `connect` and `listen` in place and loads
// nothing else until the process first connects or listens.
// (The engine's other hooks are on internal objects, not on anything public:
// the handle classes' setKeepAlive, put in place and given back with
// replace/restore below, and a listening handle's close and accept callback,
// see lifecycle.ts.)
import net = require('node:net');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fn = (this: any, ...args: unknown[]) => unknown;

/**
 * What the hooks do, the engine's (lifecycle.ts), which attaches it when it
 * loads: for each hook, a function that makes the call through the function
 * it replaced (`through`), with the call's own receiver and arguments.
 */
export type Engine = Record<HookName, (self: never, through: Fn, args: unknown[]) => unknown>;
let engine: Engine | undefined;
export function attach(loaded: Engine): void {
  engine = loaded;
}

// The preload's default, until the first connect or listen (setAtFirstUse).
let atFirstUse: (() => void) | undefined;

/** Makes the preload's default now, if it still waits for the first connect or listen (this loads the engine). */
export function settleFirstUse(): void {
  if (atFirstUse === undefined) return;
  const settle = atFirstUse;
  atFirstUse = undefined;
  settle();
}

/** The engine, with the preload's default settled first. */
function settled(): Engine {
  settleFirstUse();
  return engine!;
}

/** A function of someone else's that ours replaces, and what is needed to give it back. */
export interface Replacement {
  readonly owner: Record<string, unknown>;
  readonly key: string;
  readonly ours: Fn;
  /** What was there when ours was put in place; ours calls it. */
  original: Fn;
  installed: boolean;
}

/** Puts `r.ours` in place of what is there now (unless it is in place already). */
export function replace(r: Replacement): void {
  if (r.installed) return;
  r.original = r.owner[r.key] as Fn;
  // As Node's own: code that reads a function's length (a wrapper library) sees no change.
  Object.defineProperty(r.ours, 'length', { value: r.original.length, configurable: true });
  r.owner[r.key] = r.ours;
  r.installed = true;
}

/**
 * Gives back what `r.ours` replaced, unless someone wrapped ours since: then
 * ours stays and passes every call straight on. Whether it is out of place now.
 */
export function restore(r: Replacement): boolean {
  if (r.installed && r.owner[r.key] === r.ours) {
    r.owner[r.key] = r.original;
    r.installed = false;
  }
  return !r.installed;
}

const socketProto = net.Socket.prototype as unknown as Record<string, unknown>;
const serverProto = net.Server.prototype as unknown as Record<string, unknown>;

type HookName = 'connect' | 'listen' | 'setKeepAlive' | '_destroy';
const hooks: Record<HookName, Replacement> = {
  connect: hookOf(socketProto, 'connect', function connect(this: net.Socket, ...args: unknown[]): unknown {
    return settled().connect(this as never, hooks.connect.original, args);
  }),
  listen: hookOf(serverProto, 'listen', function listen(this: net.Server, ...args: unknown[]): unknown {
    return settled().listen(this as never, hooks.listen.original, args);
  }),
  // These two are put in place by the engine only: it is there.
  setKeepAlive: hookOf(socketProto, 'setKeepAlive', function setKeepAlive(this: net.Socket, ...args: unknown[]): unknown {
    return engine!.setKeepAlive(this as never, hooks.setKeepAlive.original, args);
  }),
  _destroy: hookOf(socketProto, '_destroy', function _destroy(this: net.Socket, ...args: unknown[]): unknown {
    return engine!._destroy(this as never, hooks._destroy.original, args);
  }),
};

function hookOf(owner: Record<string, unknown>, key: string, ours: Fn): Replacement {
  return { owner, key, ours, original: owner[key] as Fn, installed: false };
}

/** Puts the named hooks in place (those not in place yet). */
export function hook(...names: HookName[]): void {
  for (const name of names) replace(hooks[name]);
}

/** Takes the named hooks out, giving back what was there, unless someone wrapped ours since. */
export function unhook(...names: HookName[]): void {
  for (const name of names) restore(hooks[name]);
}

/**
 * The preload's way in: `settle` runs at the process's first connect or
 * listen, before that call goes on (or at a register() call made before
 * them, settleFirstUse); it loads the engine and makes the
 * default (or refuses it, and the hooks come out again). Until then only the
 * `connect` and `listen` hooks are in place, and nothing else is loaded.
 */
export function setAtFirstUse(settle: () => void): void {
  atFirstUse = settle;
  hook('connect', 'listen');
}

/** The function the named hook replaces (or, out of place, what is there): a call past the hooks. */
export function nodeOwn(name: HookName): Fn {
  const h = hooks[name];
  return h.installed ? h.original : (h.owner[h.key] as Fn);
}
