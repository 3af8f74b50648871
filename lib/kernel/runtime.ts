// Where the runtime never shows a socket's file descriptor, known without
// loading anything: the preload asks it before the application runs, and the
// choice of the way to the kernel (./index.ts) builds on it.

/**
 * Set (to the runtime's name, for messages) where the runtime never shows a
 * socket's file descriptor: on Windows libuv holds a SOCKET and Node's
 * `_handle.fd` is always -1; Deno's node:net sockets have no `fd` at all.
 * There the addon could reach no socket, so it is not loaded at all (npm
 * install needs no compiler on Windows, Deno needs no --allow-ffi).
 */
export const RUNTIME_WITHOUT_FDS: string | undefined =
  process.platform === 'win32' ? 'Node on Windows' : process.versions.deno !== undefined ? `Deno ${process.versions.deno}` : undefined;

/**
 * Whether the way to the kernel is known without loading anything: where the
 * runtime shows no fds, it is the runtime's own setKeepAlive. The preload
 * then validates its options at once, as register() does, rather than at the
 * first connect.
 */
export const wayKnownWithoutAddon: boolean = RUNTIME_WITHOUT_FDS !== undefined;
