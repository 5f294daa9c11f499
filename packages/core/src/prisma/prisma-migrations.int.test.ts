import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { applyPrismaMigrations, diagnosePrismaMigrations, diffEmptyToSchema, MigrationsDirError, SchemaEngineError } from '../index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const migrationsDir = path.join(root, 'prisma', 'migrations');
const db = useTestDatabase();

describe("Prisma's schema engine (WebAssembly) without a native download", () => {
  it('the committed initial migration is exactly what prisma writes for schema.prisma (no drift)', async () => {
    const expected = await diffEmptyToSchema(db.url, path.join(root, 'prisma', 'schema.prisma'));
    expect(readFileSync(path.join(migrationsDir, '20260101000000_init', 'migration.sql'), 'utf8')).toBe(expected);
  });

  it('applies the migrations once, is idempotent, and diagnoses a clean history', async () => {
    expect(await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir })).toEqual(['20260101000000_init']);
    expect(await applyPrismaMigrations({ databaseUrl: db.url, migrationsDir })).toEqual([]);
    const diagnosis = await diagnosePrismaMigrations({ databaseUrl: db.url, migrationsDir });
    expect(diagnosis).toEqual({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
  });

  it('names a missing migrations directory', async () => {
    await expect(applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: '/no/such/dir' })).rejects.toThrow(MigrationsDirError);
    await expect(applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: '/no/such/dir' })).rejects.toThrow('migrations directory "/no/such/dir"');
  });

  it('wraps a failing migration in SchemaEngineError and records it as failed, as prisma migrate deploy does', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(path.join(tmpdir(), 'evolve-migrations-'));
    mkdirSync(path.join(dir, '20260102000000_broken'));
    writeFileSync(path.join(dir, '20260102000000_broken', 'migration.sql'), 'CREATE TABLE "Broken" (id int);\nSELECT no_such_function();\n');
    await expect(applyPrismaMigrations({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(SchemaEngineError);
    const diagnosis = await diagnosePrismaMigrations({ databaseUrl: db.url, migrationsDir: dir });
    expect(diagnosis.failedMigrationNames).toEqual(['20260102000000_broken']);
  });
});
