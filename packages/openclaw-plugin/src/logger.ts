/**
 * pino logger for the gateway. Turn-scoped code uses `logger.child({session, request})` so every
 * line of a turn carries its session key and request id.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  logLevel: string;
  logFormat: 'pretty' | 'json';
}

/** Field paths that may carry secrets; pino replaces them before anything is written. */
const REDACT = ['token', 'apiKey', 'authorization', 'headers.authorization', 'relayToken', 'webToken', 'access_token', 'auth_token'];

export function createLogger(options: LoggerOptions, destination: NodeJS.WritableStream = process.stderr): Logger {
  const base = { level: options.logLevel, redact: { paths: REDACT, censor: '<redacted>' }, base: { name: 'synthesis-agent' } };
  if (options.logFormat === 'pretty') {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: false } } });
  }
  return pino(base, destination as pino.DestinationStream);
}
