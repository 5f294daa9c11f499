/**
 * Seed 001 end to end through the CLI: legacy `edu` into edu_new with ids kept, killed with SIGKILL at random
 * moments and resumed; then validated, cut over (every sequence past the copied maximum, so the application's
 * next insert does not collide as the seed's academic_years did), with the rows the seed dropped silently kept
 * as dead letters and the duplicates' children following their survivor.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@prisma-evolve/testing';
import { withClient } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { cli, copyUnderKills, lastJson } from '../copy-chaos.js';
import { createTarget } from '../legacy-lms/setup.js';
import { copy } from './copy.js';
import { seedEdu } from './legacy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const COPY = path.join(here, 'copy.ts');
const SCHEMA = path.join(here, 'schema.prisma');
const db = useTestDatabase();
let source: TestDatabase;
const targets: TestDatabase[] = [];
const rows = async <T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> => withClient(url, async (c) => (await c.query<T>(sql)).rows);

beforeAll(async () => {
  source = await createTestDatabase(db.serverUrl, { prefix: 'evolve_edu_legacy' });
  await seedEdu(source.url, 1);
});

afterAll(async () => {
  await source?.drop();
  for (const target of targets) await target.drop();
});

describe('legacy edu → edu_new (seed 001)', () => {
  it('survives SIGKILL at random moments, validates, and cuts over with every sequence set', async () => {
    const args = (url: string): string[] => ['copy', 'run', '--copy', COPY, '--source-url', source.url, '--database-url', url, '--batch-size', '100', '--workers', '2', '--json'];
    const reference = await createTarget(db.serverUrl, 'evolve_edu_new', SCHEMA);
    targets.push(reference);
    const clean = lastJson<{ tables: { name: string; deadLetters: number; collapsed: number; copiedRows: number }[]; validation: { ok: boolean } }>(await cli(args(reference.url)));
    expect(clean.validation.ok).toBe(true);
    const byName = Object.fromEntries(clean.tables.map((t) => [t.name, t]));
    // The 20 rows without a type are dead letters (kept, not dropped), and so is every entry below one of them.
    const [lost] = await rows<{ n: number }>(
      source.url,
      `with recursive dead as (select id from dictionaries where type_id is null union select d.id from dictionaries d join dead on d.parent_id = dead.id) select count(*)::int as n from dead`,
    );
    expect(byName['dictionaries']?.deadLetters).toBe(lost?.n);
    expect(lost?.n).toBeGreaterThan(20);
    expect(byName['dictionaryTypes']?.copiedRows).toBe(12);
    // 1,000 persons: every 50th repeats a pincode (20, those at multiples of 150 have none), every 60th a name and birth date (16).
    const [expected] = await rows<{ n: number }>(source.url, `select count(*) - count(distinct coalesce(nullif(btrim(pincode), ''), lower(firstname) || '|' || lower(lastname) || '|' || birthdate::text))::int as n from persons`);
    expect(byName['persons']?.collapsed).toBe(Number(expected?.n));
    expect(byName['users']?.collapsed).toBe(25);

    const totalRanges = (await rows<{ n: number }>(reference.url, 'select count(*)::int as n from _evolve.copy_range'))[0]?.n ?? 0;
    const { target, kills, created } = await copyUnderKills({ args, createTarget: () => createTarget(db.serverUrl, 'evolve_edu_new', SCHEMA), totalRanges, tables: copy.tables.length });
    targets.push(...created);
    expect(kills).toHaveLength(3);
    const figures = (url: string) => rows(url, `select entry, sum(inserted)::int as inserted, sum(dead)::int as dead, sum(collapsed)::int as collapsed from _evolve.copy_range group by 1 order by 1`);
    expect(await figures(target.url)).toEqual(await figures(reference.url));

    // The students of a duplicate person follow the survivor (the lowest id of the group).
    const [moved] = await rows<{ n: number }>(target.url, `select count(*)::int as n from students s where s.person_id <> s.id`);
    expect(moved?.n).toBeGreaterThan(0);
    const [dangling] = await rows<{ n: number }>(target.url, `select count(*)::int as n from students s left join persons p on p.id = s.person_id where p.id is null`);
    expect(dangling?.n).toBe(0);

    const cutover = await cli(['copy', 'cutover', '--copy', COPY, '--source-url', source.url, '--database-url', target.url, '--json']);
    expect(cutover.exitCode).toBe(0);
    const { sequences } = lastJson<{ sequences: { table: string; next: number }[] }>(cutover);
    expect(sequences.map((s) => s.table).sort()).toEqual(['dictionaries', 'dictionary_types', 'organizations', 'persons', 'students', 'users']);
    // The application's next insert takes a fresh id instead of colliding with a copied one.
    await rows(target.url, `insert into persons (first_name, last_name) values ('New', 'Person'); insert into dictionary_types (code, name_az) values ('NEW', 'Yeni')`);
  });
});
