import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../packages/claude-plugin/src/env.js';

const base = {
  SYNTHESIS_WS_URL: 'ws://127.0.0.1:18901/bridge',
  SYNTHESIS_OPENCLAW_SESSION: 'developer::discord:channel:123',
  SYNTHESIS_CLAUDE_SESSION: '0b7d3c1e-5a55-4b59-9b0c-1f1d6f5b9a10',
};

describe('claude-plugin env', () => {
  it('applies defaults for the optional vars', () => {
    expect(parseEnv({ ...base, PATH: '/usr/bin' })).toEqual({
      ok: true,
      env: {
        wsUrl: base.SYNTHESIS_WS_URL,
        openclawSession: base.SYNTHESIS_OPENCLAW_SESSION,
        claudeSession: base.SYNTHESIS_CLAUDE_SESSION,
        token: undefined,
        logLevel: 'info',
        readyDelayMs: 150,
      },
    });
  });

  it('reads token, log level and ready delay', () => {
    const result = parseEnv({
      ...base,
      SYNTHESIS_BRIDGE_TOKEN: 'secret',
      SYNTHESIS_LOG_LEVEL: 'debug',
      SYNTHESIS_READY_DELAY_MS: '0',
    });
    expect(result).toMatchObject({ ok: true, env: { token: 'secret', logLevel: 'debug', readyDelayMs: 0 } });
  });

  it('treats empty optional vars as unset', () => {
    const result = parseEnv({ ...base, SYNTHESIS_BRIDGE_TOKEN: '', SYNTHESIS_LOG_LEVEL: '', SYNTHESIS_READY_DELAY_MS: '' });
    expect(result).toMatchObject({ ok: true, env: { token: undefined, logLevel: 'info', readyDelayMs: 150 } });
  });

  it('names every missing required var in one message', () => {
    expect(parseEnv({ SYNTHESIS_CLAUDE_SESSION: '  ' })).toEqual({
      ok: false,
      message:
        'SYNTHESIS_WS_URL is required; SYNTHESIS_OPENCLAW_SESSION is required; SYNTHESIS_CLAUDE_SESSION is required',
    });
  });

  it.each([
    [{ SYNTHESIS_WS_URL: 'http://127.0.0.1:1/bridge' }, 'SYNTHESIS_WS_URL must be a ws:// URL (the gateway bridge, on loopback)'],
    [{ SYNTHESIS_WS_URL: 'not a url' }, 'SYNTHESIS_WS_URL must be a ws:// URL (the gateway bridge, on loopback)'],
    [{ SYNTHESIS_WS_URL: 'wss://127.0.0.1:1/bridge' }, 'SYNTHESIS_WS_URL must be a ws:// URL (the gateway bridge, on loopback)'],
    [{ SYNTHESIS_LOG_LEVEL: 'loud' }, 'SYNTHESIS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ SYNTHESIS_READY_DELAY_MS: 'soon' }, 'SYNTHESIS_READY_DELAY_MS must be a number of milliseconds'],
    [{ SYNTHESIS_READY_DELAY_MS: '1.5' }, 'SYNTHESIS_READY_DELAY_MS must be a whole number of milliseconds'],
    [{ SYNTHESIS_READY_DELAY_MS: '-1' }, 'SYNTHESIS_READY_DELAY_MS must not be negative'],
  ])('rejects %o', (override, message) => {
    expect(parseEnv({ ...base, ...override })).toEqual({ ok: false, message });
  });
});
