import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createTestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import {
  addColumn,
  createTable,
  renameConstraint,
  renameTable,
  dataStep,
  definePhase,
  definePlan,
  listTrash,
  PhaseRunner,
  purgeTrash,
  restoreTrash,
  RollbackRefusedError,
  schemaStep,
  StateTransitionError,
  step,
} from '../index.js';
import { applySetupMigration } from '../operations/fixtures/operation-harness.js';
import { applyPrismaMigrations, diagnosePrismaMigrations } from '../prisma/prisma-migrations.js';

const db = useTestDatabase();
const sql = (text: string) => withClient(db.url, async (client) => (await client.query(text)).rows);
const present = async (name: string) => ((await sql(`select to_regclass('${name}') is not null as found`))[0] as { found: boolean }).found;
const column = async (table: string, name: string) =>
  (await sql(`select count(*)::int as n from information_schema.columns where table_name = '${table}' and column_name = '${name}'`))[0];

function auditPlan(migrationsDir: string, extraStep = false) {
  return definePlan({
    name: 'trash',
    migrationsDir,
    migrationPrefix: '20300202000000',
    phases: [
      definePhase({
        name: 'audit',
        steps: [
          schemaStep('audit_table', step(createTable, { table: 'AuditLog', columns: [{ name: 'id', type: 'int', nullable: false }, { name: 'action', type: 'text' }], primaryKey: ['id'] })),
          // A step inserted later in front of an applied one: the applied step keeps its identity and record.
          ...(extraStep ? [dataStep('inserted_later', async () => ({ processed: 0, failed: 0, canceled: false }))] : []),
          schemaStep('nickname', step(addColumn, { table: 'User', column: extraStep ? 'edited_in_the_plan' : 'nickname', type: 'text' })),
        ],
      }),
    ],
  });
}

describe('rollback keeps the data written since', () => {
  it('refuses a completed phase without force, trashes tables and columns with force, recreates nothing under Prisma, restores from the trash', async () => {
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-trash-')), 'migrations');
    await applySetupMigration(db.url, migrationsDir, '20300201000000_setup', `create table "User" (id int primary key, email text); insert into "User" select g, 'u' || g from generate_series(1, 50) g;`);
    const runner = new PhaseRunner(auditPlan(migrationsDir), { databaseUrl: db.url, migrationsDir });
    await runner.run('audit');
    // The application writes after the phase.
    await sql(`insert into "AuditLog" select g, 'login' from generate_series(1, 1000) g; update "User" set nickname = 'n' || id where id <= 10`);
    const phaseFolders = () => readdirSync(migrationsDir).filter((name) => name.startsWith('20300202000000_'));
    expect(phaseFolders().length).toBe(2);

    const refused = runner.rollback('audit');
    await expect(refused).rejects.toThrow(RollbackRefusedError);
    await expect(refused).rejects.toThrow(/"public"\."User"\."nickname" \(column\): 10 non-null values; "public"\."AuditLog" \(table\): 1000 rows\. Pass --force/);
    expect(await present('"AuditLog"')).toBe(true);
    expect(await runner.rollbackRemovals('audit')).toEqual([
      { phase: 'audit', step: 'nickname', object: '"public"."User"."nickname"', kind: 'column', rows: 10 },
      { phase: 'audit', step: 'audit_table', object: '"public"."AuditLog"', kind: 'table', rows: 1000 },
    ]);

    // Rolled back from what the steps recorded, not from the plan as it reads now (edited, a step inserted).
    const edited = new PhaseRunner(auditPlan(migrationsDir, true), { databaseUrl: db.url, migrationsDir });
    expect(await edited.rollback('audit', { force: true })).toEqual(['audit']);
    expect(await present('"AuditLog"')).toBe(false);
    expect(await column('User', 'nickname')).toEqual({ n: 0 });
    const trash = await withClient(db.url, (client) => listTrash(client, '_evolve'));
    expect(trash.map((e) => [e.kind, e.table, e.column, e.rows, e.step])).toEqual([
      ['table', 'AuditLog', null, 1000, 'audit_table'],
      ['column', 'User', 'nickname', 10, 'nickname'],
    ]);

    // Prisma's engine over the same directory recreates nothing of the rolled-back phase, and its history is clean.
    expect(phaseFolders()).toEqual([]);
    expect(await sql(`select count(*)::int as n from _prisma_migrations where migration_name like '20300202000000%'`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from _evolve.rolled_back_migrations where migration_name like '20300202000000%'`)).toEqual([{ n: 2 }]);
    await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir });
    expect(await present('"AuditLog"')).toBe(false);
    expect((await diagnosePrismaMigrations({ databaseUrl: db.url, migrationsDir })).history).toBeNull();

    // The table comes back whole; the column's values come back by primary key.
    const [tableEntry, columnEntry] = trash;
    const restoredTable = await withClient(db.url, (client) => restoreTrash(client, '_evolve', tableEntry?.id ?? 0));
    expect(restoredTable).toMatchObject({ mode: 'moved', restored: 1000 });
    expect(await sql(`select count(*)::int as n from "AuditLog"`)).toEqual([{ n: 1000 }]);
    const restoredColumn = await withClient(db.url, (client) => restoreTrash(client, '_evolve', columnEntry?.id ?? 0));
    expect(restoredColumn).toMatchObject({ mode: 'merged', restored: 10 });
    expect(await sql(`select count(*)::int as n from "User" where nickname = 'n' || id`)).toEqual([{ n: 10 }]);
    await expect(withClient(db.url, (client) => restoreTrash(client, '_evolve', tableEntry?.id ?? 0))).rejects.toThrow(/restored already/);
    expect(await withClient(db.url, (client) => purgeTrash(client, '_evolve', 'all'))).toEqual([]);
    expect(existsSync(migrationsDir)).toBe(true);
  });

  it('runs the phase again after a rollback, and a trashed table merges into the new one (the new rows win)', async () => {
    const fresh = await createTestDatabase(db.serverUrl, { prefix: 'evolve_trash' });
    const query = (text: string) => withClient(fresh.url, async (client) => (await client.query(text)).rows);
    try {
      const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-trash-')), 'migrations');
      await applySetupMigration(fresh.url, migrationsDir, '20300201000001_setup', `create table "User" (id int primary key, email text);`);
      const runner = new PhaseRunner(auditPlan(migrationsDir), { databaseUrl: fresh.url, migrationsDir });
      await runner.run('audit');
      await query(`insert into "AuditLog" select g, 'old' from generate_series(1, 20) g`);
      await runner.rollback('audit', { force: true });
      await runner.run('audit');
      await query(`insert into "AuditLog" values (1, 'new'), (100, 'new')`);
      const [entry] = await withClient(fresh.url, (client) => listTrash(client, '_evolve'));
      expect(entry).toMatchObject({ kind: 'table', table: 'AuditLog', rows: 20 });
      const merged = await withClient(fresh.url, (client) => restoreTrash(client, '_evolve', entry?.id ?? 0));
      expect(merged).toMatchObject({ mode: 'merged', restored: 19 });
      expect(await query(`select action, count(*)::int as n from "AuditLog" group by 1 order by 1`)).toEqual([{ action: 'new', n: 2 }, { action: 'old', n: 19 }]);
      // The merged table left the trash; the (empty) nickname column's entry is still held.
      expect(await query(`select tablename from pg_tables where schemaname = '_evolve_trash'`)).toEqual([{ tablename: expect.stringMatching(/^audit_\d{14}_User_nickname$/) }]);
    } finally {
      await fresh.drop();
    }
  });

  it('a rollback that stops half-way leaves the phase rolling_back: run refuses it, the next rollback finishes it', async () => {
    const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-trash-')), 'migrations');
    await applySetupMigration(db.url, migrationsDir, '20300201000002_setup', `create table "Shop" (id int primary key);`);
    let failDown = true;
    const plan = definePlan({
      name: 'half',
      migrationsDir,
      migrationPrefix: '20300203000000',
      phases: [
        definePhase({
          name: 'half',
          steps: [
            dataStep('flaky', async () => ({ processed: 0, failed: 0, canceled: false }), {
              down: async () => {
                if (failDown) throw new Error('not now');
              },
            }),
            schemaStep('label', step(addColumn, { table: 'Shop', column: 'label', type: 'text' })),
          ],
        }),
      ],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir });
    await runner.run('half');
    await expect(runner.rollback('half', { force: true })).rejects.toThrow(/undoing step "flaky" failed: not now/);
    expect(await column('Shop', 'label')).toEqual({ n: 0 });
    expect((await runner.status())[0]?.status).toBe('rolling_back');
    await expect(runner.run('half')).rejects.toThrow(StateTransitionError);
    await expect(runner.run('half')).rejects.toThrow(/"phase:half" is rolling_back and cannot become running: .*finish it first/);
    failDown = false;
    // No --force needed: the rollback was decided already; it continues where it stopped.
    expect(await runner.rollback('half')).toEqual(['half']);
    expect((await runner.status())[0]?.status).toBe('rolled_back');
    await runner.run('half');
    expect(await column('Shop', 'label')).toEqual({ n: 1 });
  });

  it('rolls back an expand that stopped half-way: each down is guarded on the catalog and touches nothing that is not its own', async () => {
    const fresh = await createTestDatabase(db.serverUrl, { prefix: 'evolve_trash' });
    try {
      const migrationsDir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-trash-')), 'migrations');
      await applySetupMigration(fresh.url, migrationsDir, '20300201000003_setup', `create table "Client" (id int primary key); create table "Tag" (id int primary key, label text, constraint "Tag_label_uniq" unique (label));`);
      const plan = definePlan({
        name: 'again',
        migrationsDir,
        migrationPrefix: '20300205000000',
        phases: [
          definePhase({
            name: 'again',
            steps: [
              schemaStep('constraint', step(renameConstraint, { table: 'Tag', from: 'Tag_label_uniq', to: 'Tag_label_key' })),
              schemaStep('rename', step(renameTable, { from: 'Client', to: 'Customer' })),
            ],
          }),
        ],
      });
      // Between planning and applying, someone creates a table named like the target: the expand fails.
      const runner = new PhaseRunner(plan, {
        databaseUrl: fresh.url,
        migrationsDir,
        onEvent: async (event) => {
          if (event.kind === 'folder' && event.state === 'written' && event.step === 'rename') await withClient(fresh.url, (client) => client.query(`create table "Customer" (x int)`));
        },
      });
      await expect(runner.run('again')).rejects.toThrow(/"Customer" already exists/);
      expect(await runner.rollback('again')).toEqual(['again']);
      const sql = (text: string) => withClient(fresh.url, async (client) => (await client.query(text)).rows);
      // Its own changes undone; the table someone else made, and "Client" (still a table), untouched.
      expect(await sql(`select conname from pg_constraint where conrelid = '"Tag"'::regclass and contype = 'u'`)).toEqual([{ conname: 'Tag_label_uniq' }]);
      expect(await sql(`select relname, relkind::text from pg_class where relname in ('Client', 'Customer') order by 1`)).toEqual([
        { relname: 'Client', relkind: 'r' },
        { relname: 'Customer', relkind: 'r' },
      ]);
      // A second rollback of the rolled-back phase is a no-op.
      expect(await runner.rollback('again')).toEqual(['again']);
    } finally {
      await fresh.drop();
    }
  });
});
