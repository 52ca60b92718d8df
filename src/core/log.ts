import { pino, type Logger } from 'pino';

export type { Logger };

const level = process.env['LOG_LEVEL'] ?? 'info';

/**
 * One JSON-lines logger per process, to stderr so that commands which print data on stdout
 * (`--defaultconfig`, `keadm gettoken`) stay machine-readable. Synchronous: a daemon that exits on a
 * fatal error must not lose its last line. Errors go under `err`: the serializer keeps their type, code,
 * context, stack and the cause chain as nested objects (docs/errors.md lists the codes).
 */
const root: Logger = pino(
  { level, base: { pid: process.pid }, serializers: { err: pino.stdSerializers.errWithCause } },
  pino.destination({ dest: 2, sync: true }),
);

export function logger(component: string): Logger {
  return root.child({ component });
}
