/**
 * `pnpm chaos [--kills 20] [--scale 10] [--seed 1] [--database-url URL] [--json]`: SIGKILLs `run --all` of the
 * Scholarly plan at random points while an application writes through the generated Prisma client, resumes
 * it, and checks it against a clean run (content, every logged write, `_prisma_migrations`, Prisma's
 * diagnosis), then runs two `run --all` at once on a fresh copy. Exit 0 when every check holds, 1 otherwise.
 * Without --database-url (or DATABASE_URL) it starts a throwaway PostgreSQL.
 */
import { parseArgs } from 'node:util';
import { acquireTestServer } from '@prisma-evolve/testing';
import { runChaos } from './chaos-run.js';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '20' },
    scale: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'database-url': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const server = values['database-url'] ? { url: values['database-url'], release: async () => undefined } : await acquireTestServer();
try {
  const report = await runChaos({
    serverUrl: server.url,
    kills: Number(values.kills),
    scale: Number(values.scale),
    seed: Number(values.seed),
    log: (line) => console.error(line),
  });
  if (values.json) console.log(JSON.stringify(report));
  else console.log(JSON.stringify(report, null, 2));
  process.exitCode = report.ok ? 0 : 1;
} finally {
  await server.release();
}
