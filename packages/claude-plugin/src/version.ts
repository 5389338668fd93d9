import { createRequire } from 'node:module';

/** Announced to Claude Code in the MCP handshake; read once, when the plugin (or its snapshot) loads. */
export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
