#!/usr/bin/env node
/**
 * Entry point of the tsc output and of dist/bundle.js. The MCP side (the SDK is the heaviest
 * import) loads lazily, after the bridge has been dialled.
 */
import { runPlugin } from './plugin.js';

await runPlugin(async () => {
  const [{ ChannelServer }, { StdioServerTransport }] = await Promise.all([
    import('./channel-server.js'),
    import('@modelcontextprotocol/sdk/server/stdio.js'),
  ]);
  return { ChannelServer, StdioServerTransport };
});
