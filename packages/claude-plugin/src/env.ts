/**
 * The plugin's whole configuration comes from env vars the gateway sets when it writes Claude
 * Code's --mcp-config, so this is the one place that decides whether a launch is usable.
 */
import * as z from 'zod';

const required = (name: string) =>
  z.string({ error: `${name} is required` }).trim().min(1, { error: `${name} is required` });

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const EnvSchema = z.object({
  // The bridge listens on loopback without TLS, so the bundle leaves out what wss:// would need.
  SYNTHESIS_WS_URL: required('SYNTHESIS_WS_URL').refine(isWsUrl, {
    error: 'SYNTHESIS_WS_URL must be a ws:// URL (the gateway bridge, on loopback)',
  }),
  SYNTHESIS_OPENCLAW_SESSION: required('SYNTHESIS_OPENCLAW_SESSION'),
  SYNTHESIS_CLAUDE_SESSION: required('SYNTHESIS_CLAUDE_SESSION'),
  SYNTHESIS_BRIDGE_TOKEN: z.string().optional(),
  SYNTHESIS_LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: `SYNTHESIS_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` })
    .default('info'),
  SYNTHESIS_READY_DELAY_MS: z.coerce
    .number({ error: 'SYNTHESIS_READY_DELAY_MS must be a number of milliseconds' })
    .int({ error: 'SYNTHESIS_READY_DELAY_MS must be a whole number of milliseconds' })
    .min(0, { error: 'SYNTHESIS_READY_DELAY_MS must not be negative' })
    .max(60_000, { error: 'SYNTHESIS_READY_DELAY_MS must be at most 60000' })
    .default(150),
});

export interface PluginEnv {
  wsUrl: string;
  openclawSession: string;
  claudeSession: string;
  token: string | undefined;
  logLevel: LogLevel;
  readyDelayMs: number;
}

export type EnvResult = { ok: true; env: PluginEnv } | { ok: false; message: string };

function isWsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'ws:';
  } catch {
    return false;
  }
}

/** Never throws: main turns a failure into one stderr line and exit code 1. */
export function parseEnv(source: NodeJS.ProcessEnv): EnvResult {
  // An empty var means "unset" (a launcher may template every var unconditionally), so defaults
  // apply and an empty token is not sent.
  const withoutBlanks = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const result = EnvSchema.safeParse(withoutBlanks);
  if (!result.success) {
    return { ok: false, message: result.error.issues.map((issue) => issue.message).join('; ') };
  }
  const env = result.data;
  return {
    ok: true,
    env: {
      wsUrl: env.SYNTHESIS_WS_URL,
      openclawSession: env.SYNTHESIS_OPENCLAW_SESSION,
      claudeSession: env.SYNTHESIS_CLAUDE_SESSION,
      token: env.SYNTHESIS_BRIDGE_TOKEN,
      logLevel: env.SYNTHESIS_LOG_LEVEL,
      readyDelayMs: env.SYNTHESIS_READY_DELAY_MS,
    },
  };
}
