// tcp-keepalive/register: `node --import tcp-keepalive/register app.js` (or
// --require, or either in NODE_OPTIONS) configures every TCP connection the
// process opens or accepts, with the options in the TCP_KEEPALIVE environment
// variable, and with `log=dead-peer` there logs every dead peer on stderr. A
// bad value stops the process here, before any application code runs, with
// one line on stderr and exit code 9 (Node's own code for an invalid argument).
// The addon is loaded at the first connect or listen, not here: what only the
// way to the kernel can refuse (an option the fallback cannot set) is a
// warning then. Where that way is known without the addon (Windows, Deno),
// it is asked at once, and a refusal stops the process here like any bad value.
import type * as DeadPeerLog from './dead-peer-log';
import { readEnvironment } from './environment';
import { register, registerAtFirstUse } from './process-wide';
import { wayKnownWithoutAddon } from '../kernel/runtime';
import type { KeepAliveError } from '../engine/errors';

const text = process.env.TCP_KEEPALIVE ?? '';
try {
  const { options, logDeadPeers: log } = readEnvironment(text);
  if (options !== undefined && wayKnownWithoutAddon) register(options);
  else if (options !== undefined) {
    registerAtFirstUse(options, (error) => {
      const { code } = error as KeepAliveError;
      process.emitWarning(
        `tcp-keepalive/register: TCP_KEEPALIVE=${JSON.stringify(text)} cannot be applied here: ${error.message} [${code}]; ` +
          'no connection or server of this process is configured',
        { code: 'TCP_KEEPALIVE_NOT_APPLIED' },
      );
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (log) (require('./dead-peer-log') as typeof DeadPeerLog).logDeadPeers();
} catch (error) {
  const { code, message } = error as KeepAliveError;
  process.stderr.write(`tcp-keepalive/register: TCP_KEEPALIVE=${JSON.stringify(text)} is invalid: ${message} [${code}]\n`);
  process.exit(9);
}
