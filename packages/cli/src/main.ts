#!/usr/bin/env node
/**
 * The `prisma-evolve` bin (in this repository also `pnpm migrate:phase`): runs one command and exits with
 * its code (0 ok, 1 failed, 2 usage error). See cli.ts for the commands.
 */
import { runCli } from './cli.js';

process.exit(await runCli(process.argv.slice(2)));
