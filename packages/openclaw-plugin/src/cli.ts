#!/usr/bin/env node
/**
 * `synthesis-agent [options]` runs the gateway; `synthesis-agent config` prints the effective
 * configuration (secrets redacted); `--help` lists every option with its default.
 */
import { ConfigError, helpText, loadConfig, redactConfig } from './config.js';
import { runDoctor } from './doctor.js';
import { startGateway } from './gateway.js';
import { createLogger } from './logger.js';

const USAGE = `Usage: synthesis-agent [command] [options]

Commands:
  (none)    run the gateway
  config    print the effective configuration (secrets redacted) and exit
  doctor    check claude, ports, state dir, and that a session can start; exit 1 if anything fails

Options (each also settable as the env variable shown, or in a --config JSON file):
`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}${helpText()}\n`);
    return 0;
  }
  const command = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
  const args = command ? argv.slice(1) : argv;
  if (command && command !== 'config' && command !== 'doctor') {
    process.stderr.write(`synthesis-agent: unknown command "${command}" (see --help)\n`);
    return 2;
  }

  let config;
  try {
    config = loadConfig(args);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`synthesis-agent: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (command === 'config') {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return 0;
  }
  if (command === 'doctor') {
    const results = await runDoctor(config, (line) => process.stdout.write(`${line}\n`));
    return results.every((r) => r.ok) ? 0 : 1;
  }

  const logger = createLogger(config);
  // Listening before the gateway starts: a supervisor may signal as soon as it sees the ready
  // line, and a signal without a listener would kill the process without stopping its Claudes.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  let gateway;
  try {
    gateway = await startGateway(config, { logger });
  } catch (err) {
    // Settings that only turn out wrong at start (a port in use, a bad key) are still the user's to fix.
    if (err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      process.stderr.write(`synthesis-agent: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
  logger.info({ signal: await signalled }, 'signal received');
  await gateway.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`synthesis-agent: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
