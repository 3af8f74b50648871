// Chooses, once per process, the way options reach the kernel. The engine
// imports `kernel` from here and never asks which way it got.
//
// Chosen at the first use, not when this module loads: loading the addon
// (dlopen) is most of what it would otherwise cost a process that never
// opens a connection before it exits (the process-wide preload loads this
// module at the first connect or listen, with the engine). The first apply,
// read, `supported` (validation's question) or doctor's `choice` makes the
// choice; the one warning for a missing addon comes then.
import type * as Addon from './addon';
import type { AddonLoad, Binding } from './addon';
import type * as NodeWay from './node';
import { RUNTIME_WITHOUT_FDS } from './runtime';
import type { Kernel, OptionKey } from './seam';

interface Chosen {
  readonly kernel: Kernel;
  readonly choice: KernelChoice;
  readonly binding: Binding | undefined;
}
let chosen: Chosen | undefined;
const choose = (): Chosen => (chosen ??= makeChoice());

/** The native addon as loaded, where it is (tests and the bench call it directly). Loads it. */
export declare const binding: Binding | undefined;

/** The code of the one warning a process gets when the addon should be there and is not. */
export const NO_ADDON = 'TCP_KEEPALIVE_NO_ADDON';

/** Which way reaches the kernel here, and why: for `tcp-keepalive doctor`. */
export interface KernelChoice {
  /** 'addon', or 'node' for the runtime's own socket.setKeepAlive (the fallback). */
  readonly way: Kernel['name'];
  /** os-arch, and on Linux the C library as node-gyp-build tells it: 'linux-x64-musl'. */
  readonly platform: string;
  /** 'Node v22.23.0', 'Bun 1.4.5', 'Deno 2.9.0'. */
  readonly runtime: string;
  /** The addon's file, when it is the way. */
  readonly addon: string | null;
  /**
   * Why the fallback, when it is the way; with the addon, which addon file
   * did not load and was passed over for this one, if any.
   */
  readonly reason: string | null;
}

function wayFor(
  addon: typeof Addon,
  { nodeKernel }: typeof NodeWay,
  loaded: AddonLoad | undefined,
): { kernel: Kernel; addon: string | null; reason: string | null } {
  const { addonKernel, platformName } = addon;
  if (loaded === undefined) {
    const reason = `${RUNTIME_WITHOUT_FDS}, where no socket shows its file descriptor`;
    return { kernel: nodeKernel(reason), addon: null, reason };
  }
  if (loaded.binding === undefined) {
    const reason = `no native addon for ${platformName()}: ${loaded.why}`;
    // The errors of this way say why too: the one warning may never be
    // printed when the first call's error ends the process in the same tick.
    return { kernel: nodeKernel(`${platformName()} without its native addon (warning ${NO_ADDON}; ${reason})`), addon: null, reason };
  }
  // A platform without a port builds src/keepalive_unsupported.cc, which can set nothing.
  if (loaded.binding.supportedOptions === 0) {
    const reason = 'this platform, which tcp-keepalive has no native port for';
    return { kernel: nodeKernel(reason), addon: null, reason };
  }
  return { kernel: addonKernel(loaded.binding), addon: loaded.file, reason: loaded.passedOver };
}

function makeChoice(): Chosen {
  // Their modules too are loaded only now (the preload's bundle leaves them out).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require('./addon') as typeof Addon;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeWay = require('./node') as typeof NodeWay;
  const loaded: AddonLoad | undefined = RUNTIME_WITHOUT_FDS === undefined ? addon.loadAddon() : undefined;
  const way = wayFor(addon, nodeWay, loaded);
  const choice: KernelChoice = Object.freeze({
    way: way.kernel.name,
    platform: addon.platformName(),
    runtime: nodeWay.runtimeName(),
    addon: way.addon,
    reason: way.reason,
  });
  // Where the addon should be and is not (no prebuild fits and no build; an
  // install that never ran its install step; a bundle without prebuilds/; an
  // addon that does not load), the library still works, through the fallback,
  // and says so once, when the choice is made (once per worker thread that
  // makes it too: threads share no state), naming the platform and what to do.
  if (loaded !== undefined && loaded.binding === undefined) {
    process.emitWarning(
      `tcp-keepalive: ${way.reason} Until then it uses ${choice.runtime}'s own socket.setKeepAlive, which sets ` +
        `${supportedInWords(way.kernel)}, and reads nothing back: an explicit option it cannot set, and getKeepAlive, ` +
        'throw ERR_KEEPALIVE_UNSUPPORTED. npx tcp-keepalive doctor shows this too.',
      { code: NO_ADDON },
    );
  }
  return { kernel: way.kernel, choice, binding: loaded?.binding };
}

/**
 * The way to the kernel, chosen at its first use. Each member asks the
 * chosen one; the engine calls it as it would the chosen one itself.
 */
export const kernel: Kernel = {
  get name() {
    return choose().kernel.name;
  },
  get supported() {
    return choose().kernel.supported;
  },
  get readsBack() {
    return choose().kernel.readsBack;
  },
  get acceptedSocketsInherit() {
    return choose().kernel.acceptedSocketsInherit;
  },
  get optionNames() {
    return choose().kernel.optionNames;
  },
  get userTimeoutUnitMs() {
    return choose().kernel.userTimeoutUnitMs;
  },
  cannotSet: (refused) => choose().kernel.cannotSet(refused),
  cannotRead: () => choose().kernel.cannotRead(),
  cannotReadTcpInfo: () => choose().kernel.cannotReadTcpInfo(),
  apply: (target, handle, config) => (chosen ?? choose()).kernel.apply(target, handle, config),
  read: (handle) => (chosen ?? choose()).kernel.read(handle),
  tcpInfo: (handle) => (chosen ?? choose()).kernel.tcpInfo(handle),
  endpoints: (handle) => choose().kernel.endpoints(handle),
  peekProcess: (pid) => choose().kernel.peekProcess(pid),
};

/** Which way reaches the kernel here, and why (makes the choice). */
export declare const choice: KernelChoice;

// Getters on the module's exports, in the one form Node's CommonJS lexer
// reads (`return x.y;`): the choice is made when one is first read.
const lazy = {
  get binding(): Binding | undefined {
    return choose().binding;
  },
  get choice(): KernelChoice {
    return choose().choice;
  },
};
Object.defineProperty(exports, 'binding', {
  enumerable: true,
  // eslint-disable-next-line object-shorthand
  get: function () {
    return lazy.binding;
  },
});
Object.defineProperty(exports, 'choice', {
  enumerable: true,
  // eslint-disable-next-line object-shorthand
  get: function () {
    return lazy.choice;
  },
});

/** What the fallback can and cannot set, in words: "enable and idle; not interval, count or userTimeout". */
export function supportedInWords(k: Kernel): string {
  const keys = Object.keys(k.supported) as OptionKey[];
  const list = (names: string[]) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`);
  const can = keys.filter((key) => k.supported[key]);
  const cannot = keys.filter((key) => !k.supported[key]);
  return cannot.length === 0 ? `${list(can)}` : `${list(can)}; not ${list(cannot).replace(/ and (\w+)$/, ' or $1')}`;
}
