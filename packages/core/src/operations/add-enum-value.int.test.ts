import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { diagnosePrismaMigrations } from '../prisma/prisma-migrations.js';
import { addEnumValue } from './add-enum-value.js';
import { applySetupMigration, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

const db = useTestDatabase();
const labels = async () => (await exec(db.url, `select array_agg(enumlabel::text order by enumsortorder) as l from pg_enum where enumtypid = '"Role"'::regtype`)).rows[0]?.l;

describe('addEnumValue', () => {
  it('adds a value where asked, outside a transaction; a rerun is a no-op; rollback leaves the value, as documented', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-enum-')), 'migrations');
    await applySetupMigration(db.url, dir, '20300501000000_setup', `create type "Role" as enum ('USER', 'ADMIN'); create table "Member" (id int primary key, role "Role" not null default 'USER');`);
    const plan = definePlan({
      name: 'roles',
      migrationsDir: dir,
      migrationPrefix: '20300502000000',
      phases: [definePhase({ name: 'roles', steps: [schemaStep('editor', step(addEnumValue, { enum: 'Role', value: "EDI'TOR", after: 'USER' }))] })],
    });
    const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir });
    const [planned] = await runner.planPhase('roles');
    expect(planned?.units).toEqual([expect.objectContaining({ transactional: false, statements: [expect.objectContaining({ sql: `ALTER TYPE "public"."Role" ADD VALUE IF NOT EXISTS 'EDI''TOR' AFTER 'USER'` })] })]);
    await runner.run('roles');
    expect(await labels()).toEqual(['USER', "EDI'TOR", 'ADMIN']);
    await exec(db.url, `insert into "Member" values (1, 'EDI''TOR')`);
    expect((await runner.verify('roles')).filter((c) => !c.ok)).toEqual([]);
    expect((await diagnosePrismaMigrations({ databaseUrl: db.url, migrationsDir: dir })).failedMigrationNames).toEqual([]);

    await runner.rollback('roles', { force: true });
    expect(await labels()).toEqual(['USER', "EDI'TOR", 'ADMIN']);
    await runner.run('roles');
    expect(await labels()).toEqual(['USER', "EDI'TOR", 'ADMIN']);
  });

  it('refuses an unknown enum or anchor value before anything runs', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-enum-')), 'migrations');
    await applySetupMigration(db.url, dir, '20300503000000_setup', `select 1;`);
    const plan = definePlan({
      name: 'bad',
      migrationsDir: dir,
      migrationPrefix: '20300504000000',
      phases: [definePhase({ name: 'bad', steps: [schemaStep('anchor', step(addEnumValue, { enum: 'Role', value: 'OWNER', before: 'NOPE' }))] })],
    });
    await expect(new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir }).run('bad')).rejects.toThrow(/value 'NOPE' to place it by exists/);
    expect(await labels()).not.toContain('OWNER');
  });
});
