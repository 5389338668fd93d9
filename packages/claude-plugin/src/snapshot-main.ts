/**
 * Entry point of the plugin's V8 startup snapshot (scripts/bundle.mjs makes it one CommonJS file,
 * dist/plugin-snapshot.cjs; the gateway runs `node --build-snapshot` on it, see its
 * plugin-snapshot.ts). Everything imported here is loaded and initialised while the snapshot is
 * built, so a plugin started from it skips reading, compiling and running ~300 KB of modules,
 * among them the MCP SDK's several hundred zod schemas: ready ~90 ms sooner, in ~60 % of the time
 * (docs/performance.md). What reads the process (env, stdio, pid) runs only in `start`.
 */
import { startupSnapshot } from 'node:v8';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { ChannelServer } from './channel-server.js';
import { runPlugin } from './plugin.js';

const mcp = { ChannelServer, StdioServerTransport };

function start(): void {
  runPlugin(async () => mcp).catch((err: unknown) => {
    process.stderr.write(`synthesis-claude-plugin: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

// Run as a plain script too, so the file is not only usable through a snapshot.
if (startupSnapshot.isBuildingSnapshot()) startupSnapshot.setDeserializeMainFunction(start);
else start();
