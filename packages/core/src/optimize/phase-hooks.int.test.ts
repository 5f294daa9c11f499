import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { backupDatabase, PG_BIN_ENV, type BackupManifest } from '../backup/backup.js';
import { withClient } from '../db/with-client.js';
import { sqlExpression } from '../extract/dedupe.js';
import { addColumn } from '../operations/add-column.js';
import { createIndex } from '../operations/create-index.js';
import { applySetupMigration } from '../operations/fixtures/operation-harness.js';
import { step } from '../operations/operation.js';
import { rawSql } from '../operations/raw-sql.js';
import { definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner, type RunnerEvent } from '../phases/phase-runner.js';
import { optimizeDatabase } from './optimize.js';
import { readPlanChanges } from './plan-changes.js';

const db = useTestDatabase();

function scratch(): { root: string; migrations: string } {
  const root = mkdtempSync(path.join(tmpdir(), 'evolve-hooks-'));
  return { root, migrations: path.join(root, 'migrations') };
}

/** A fake pg_dump printing an old version, in a folder of its own. */
function fakePgDump(version: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'evolve-fake-bin-'));
  writeFileSync(path.join(dir, 'pg_dump'), `#!/bin/sh\necho "pg_dump (PostgreSQL) ${version}"\n`);
  chmodSync(path.join(dir, 'pg_dump'), 0o755);
  return dir;
}

const lastAnalyzed = async (table: string): Promise<boolean> =>
  withClient(db.url, async (c) => (await c.query<{ done: boolean }>(`select last_analyze is not null as done from pg_stat_user_tables where relname = $1`, [table])).rows[0]?.done === true);

describe('phase hooks: backup, optimize, watched plans', () => {
  it('backs up before the first folder of a phase marked backup: true (valid manifest), not for another phase; refuses an old or missing pg_dump naming it', async () => {
    const { root, migrations } = scratch();
    await applySetupMigration(db.url, migrations, '20310100000001_init', `create table ledger (id int primary key, amount int); insert into ledger select g, g from generate_series(1, 300) g`);
    const plan = definePlan({
      name: 'backups',
      migrationsDir: migrations,
      migrationPrefix: '20310101000000',
      phases: [
        definePhase({ name: 'risky', backup: true, steps: [schemaStep('add_note', step(addColumn, { table: 'ledger', column: 'note', type: 'text' }))] }),
        definePhase({ name: 'plain', dependsOn: ['risky'], steps: [schemaStep('add_tag', step(addColumn, { table: 'ledger', column: 'tag', type: 'text' }))] }),
      ],
    });
    const backups = path.join(root, 'backups');
    const seenAtFirstFolder: string[] = [];
    const events: RunnerEvent[] = [];
    const runner = new PhaseRunner(plan, {
      databaseUrl: db.url,
      migrationsDir: migrations,
      onEvent: (event) => {
        events.push(event);
        if (event.kind === 'folder' && event.state === 'written' && seenAtFirstFolder.length === 0) seenAtFirstFolder.push(...(existsSync(backups) ? readdirSync(backups) : ['(none)']));
      },
    });

    // An old pg_dump (or none) refuses the phase before anything of it runs.
    process.env[PG_BIN_ENV] = fakePgDump('9.6.24');
    try {
      await expect(runner.run('risky')).rejects.toThrow(/^pg_dump 9\.6 \(.*evolve-fake-bin-.*\/pg_dump\) is older than the server \(PostgreSQL 1\d/);
    } finally {
      delete process.env[PG_BIN_ENV];
    }
    expect(events.filter((e) => e.kind === 'folder')).toEqual([]);
    await expect(backupDatabase({ databaseUrl: db.url, file: path.join(root, 'x.dump'), binDir: mkdtempSync(path.join(tmpdir(), 'evolve-empty-bin-')) })).rejects.toThrow(/^pg_dump was not found in .*evolve-empty-bin-/);

    await runner.run('risky');
    const dumps = seenAtFirstFolder.filter((f) => f.endsWith('.dump'));
    expect(dumps).toHaveLength(1);
    expect(dumps[0]).toMatch(/-risky-\d{8}-\d{6}\.dump$/);
    const file = path.join(backups, dumps[0] as string);
    const manifest = JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8')) as BackupManifest;
    expect(manifest.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    // Every row is in the dump: owner-only files and folder, and a .gitignore keeps it out of the repository.
    expect([statSync(file).mode & 0o777, statSync(`${file}.manifest.json`).mode & 0o777, statSync(backups).mode & 0o777]).toEqual([0o600, 0o600, 0o700]);
    expect(readFileSync(path.join(backups, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'hook', hook: 'backup', phase: 'risky', file }));
    const summary = await withClient(db.url, async (c) => (await c.query<{ s: unknown }>(`select "resultSummary" as s from _evolve."DataMigration" where name = 'phase:risky'`)).rows[0]?.s);
    expect(summary).toEqual({ backup: file });

    await runner.run('plain');
    expect(readdirSync(backups).filter((f) => f.endsWith('.dump'))).toEqual(dumps);
    expect(events.filter((e) => e.kind === 'hook' && e.phase === 'plain')).toEqual([]);
  });

  it('optimize: true analyzes exactly the tables the phase touched; optimize rebuilds an invalid index once its duplicates are gone, and leaves nothing behind when it cannot', async () => {
    const { migrations } = scratch();
    await applySetupMigration(
      db.url,
      migrations,
      '20320100000001_init',
      `create table touched (id int primary key, v int) with (autovacuum_enabled = false); insert into touched select g, g from generate_series(1, 500) g;
       create table untouched (id int primary key, v int) with (autovacuum_enabled = false); insert into untouched select g, g from generate_series(1, 500) g`,
    );
    const plan = definePlan({
      name: 'optimize',
      migrationsDir: migrations,
      migrationPrefix: '20320101000000',
      phases: [definePhase({ name: 'widen', optimize: true, steps: [schemaStep('add_w', step(addColumn, { table: 'touched', column: 'w', type: 'int' }))] })],
    });
    const messages: string[] = [];
    await new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: migrations, onEvent: (e) => void (e.kind === 'hook' && messages.push(e.message)) }).run('widen');
    expect(messages).toEqual(['analyzed "touched"']);
    expect(await lastAnalyzed('touched')).toBe(true);
    expect(await lastAnalyzed('untouched')).toBe(false);

    await withClient(db.url, async (c) => {
      await c.query(`create table codes (id int primary key, code text); insert into codes select g, 'c' || (g % 450) from generate_series(1, 500) g`);
      await expect(c.query(`create unique index concurrently codes_code_key on codes (code)`)).rejects.toThrow(/could not create unique index/);
    });
    const stillDuplicated = await optimizeDatabase({ databaseUrl: db.url, tables: [{ schema: 'public', table: 'codes' }] });
    expect(stillDuplicated.actions.at(-1)).toMatchObject({ action: 'reindex', object: 'public.codes_code_key', ok: false });
    expect(stillDuplicated.actions.at(-1)?.message).toMatch(/^REINDEX INDEX CONCURRENTLY of "codes_code_key" on "codes" failed, the index stays invalid: could not create unique index/);
    const indexes = async () => withClient(db.url, async (c) => (await c.query<{ name: string; valid: boolean }>(`select c.relname as name, i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid where i.indrelid = 'codes'::regclass order by 1`)).rows);
    expect(await indexes()).toEqual([{ name: 'codes_code_key', valid: false }, { name: 'codes_pkey', valid: true }]);

    await withClient(db.url, (c) => c.query(`delete from codes where id > 450`));
    const fixed = await optimizeDatabase({ databaseUrl: db.url });
    expect(fixed.actions.filter((a) => a.action === 'reindex')).toEqual([{ action: 'reindex', object: 'public.codes_code_key', ok: true, message: 'rebuilt invalid index "codes_code_key" on "codes": it is valid now' }]);
    // Without tables: every application table (this file's database holds the other tests' tables too), never the toolkit's.
    expect(fixed.actions.filter((a) => a.action === 'analyze').map((a) => a.object)).toEqual(expect.arrayContaining(['public.codes', 'public.touched', 'public.untouched']));
    expect(fixed.actions.filter((a) => !a.object.startsWith('public.'))).toEqual([]);
    expect(await indexes()).toEqual([{ name: 'codes_code_key', valid: true }, { name: 'codes_pkey', valid: true }]);
  });

  it('captures watched plans before and after each phase: the sequential scan an index removes, and a query a phase breaks recorded without failing it', async () => {
    const { migrations } = scratch();
    await applySetupMigration(
      db.url,
      migrations,
      '20330100000001_init',
      `create table booking (id int primary key, "tutorId" int not null, note text); insert into booking select g, g % 2000, 'n' from generate_series(1, 40000) g; analyze booking`,
    );
    const plan = definePlan({
      name: 'watched',
      migrationsDir: migrations,
      migrationPrefix: '20330101000000',
      watchQueries: {
        bookingsByTutor: { sql: sqlExpression(`select id from booking where "tutorId" = $1`), params: [42] },
        notes: { sql: sqlExpression(`select note from booking where id = 7`) },
      },
      phases: [
        definePhase({ name: 'index_tutor', steps: [schemaStep('by_tutor', step(createIndex, { table: 'booking', columns: ['tutorId'] }))] }),
        definePhase({
          name: 'drop_note',
          dependsOn: ['index_tutor'],
          steps: [schemaStep('drop', step(rawSql, { name: 'drop_note', up: ['ALTER TABLE booking DROP COLUMN note'], down: ['ALTER TABLE booking ADD COLUMN note text'] }))],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: migrations, explainAnalyze: true });
    await runner.runAll();
    const changes = await withClient(db.url, (c) => readPlanChanges(c, { stateSchema: '_evolve', phaseOrder: plan.phases.map((p) => p.name) }));
    expect(changes.map((c) => `${c.query}/${c.phase}`)).toEqual(['bookingsByTutor/index_tutor', 'bookingsByTutor/drop_note', 'notes/index_tutor', 'notes/drop_note']);
    const indexed = changes[0];
    expect(indexed).toMatchObject({ seqScansGone: ['booking'], seqScansAppeared: [], indexesNew: ['booking_tutorId_idx'], indexesGone: [] });
    expect(indexed?.before).toMatchObject({ analyzed: true, seqScans: ['booking'], indexes: [], error: null });
    expect(indexed?.after?.executionMs).toEqual(expect.any(Number));
    expect(indexed?.costRatio).toBeLessThan(0.5);
    const broken = changes[3];
    expect(broken?.before?.error).toBeNull();
    expect(broken?.after).toMatchObject({ totalCost: null, error: 'column "note" does not exist' });
    // EXPLAIN ANALYZE ran in a transaction rolled back: nothing it did stays (a write would have been undone too).
    expect((await runner.status()).map((p) => p.status)).toEqual(['completed', 'completed']);
  });
});
