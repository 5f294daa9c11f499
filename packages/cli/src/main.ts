/**
 * `pnpm migrate:phase <command>`: the deploy-time command of prisma-evolve.
 * Exit codes: 0 ok, 1 failed (or something not applied/verified), 2 usage error.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderStatus, statusCommand } from './status-command.js';

const USAGE = `usage: pnpm migrate:phase <command> [options]

commands:
  status    where each prisma migration folder stands against _prisma_migrations

options:
  --database-url URL     database to inspect (default: DATABASE_URL)
  --migrations-dir DIR   prisma migrations directory (default: prisma/migrations)
  --json                 print one JSON object on the last line of stdout
  --help                 this text`;

function usage(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      'database-url': { type: 'string' },
      'migrations-dir': { type: 'string', default: path.join('prisma', 'migrations') },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
} catch (error) {
  usage((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, ...rest] = positionals;
if (!command) usage('no command given');
if (command !== 'status') usage(`unknown command "${command}"`);
if (rest.length > 0) usage(`"status" takes no arguments, got "${rest.join(' ')}"`);
const databaseUrl = values['database-url'] ?? process.env['DATABASE_URL'];
if (!databaseUrl) usage('no database: pass --database-url or set DATABASE_URL');

try {
  const { report, ok } = await statusCommand(databaseUrl, path.resolve(values['migrations-dir']));
  console.log(values.json ? JSON.stringify(report) : renderStatus(report));
  process.exit(ok ? 0 : 1);
} catch (error) {
  console.error(`migrate:phase ${command} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
