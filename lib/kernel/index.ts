// Chooses, once per process, the way options reach the kernel. The engine
// imports `kernel` from here and never asks which way it got.
import { addonKernel, loadAddon, type Binding } from './addon';
import type * as NodeWay from './node';
import type { Kernel } from './seam';

/**
 * Set (to the runtime's name, for messages) where the runtime never shows a
 * socket's file descriptor: on Windows libuv holds a SOCKET and Node's
 * `_handle.fd` is always -1; Deno's node:net sockets have no `fd` at all.
 * There the addon could reach no socket, so it is not loaded at all (npm
 * install needs no compiler on Windows, Deno needs no --allow-ffi).
 */
const RUNTIME_WITHOUT_FDS: string | undefined =
  process.platform === 'win32' ? 'Node on Windows' : process.versions.deno !== undefined ? `Deno ${process.versions.deno}` : undefined;

/** The native addon as loaded, where it is (tests and the bench call it directly). */
export const binding: Binding | undefined = RUNTIME_WITHOUT_FDS === undefined ? loadAddon() : undefined;

// The runtime's own way, loaded only where it is taken.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeKernel = (where: string): Kernel => (require('./node') as typeof NodeWay).nodeKernel(where);

function choose(): Kernel {
  if (binding === undefined) return nodeKernel(`${RUNTIME_WITHOUT_FDS}, where no socket shows its file descriptor`);
  // A platform without a port builds src/keepalive_unsupported.cc, which can set nothing.
  if (binding.supportedOptions === 0) return nodeKernel('this platform, which tcp-keepalive has no native port for');
  return addonKernel(binding);
}

export const kernel: Kernel = choose();
