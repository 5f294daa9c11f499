import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTestDatabase, type TestDatabase } from '@prisma-evolve/testing';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { runCopy } from './copy-runner.js';
import { defineCopy, ref } from './copy-spec.js';
import { validateCopy } from './copy-validate.js';

const db = useTestDatabase();

/** Users belong to organizations, organizations are owned by users; organization parents have higher ids than their children. */
const LEGACY = `
create table users (id int primary key, name text, org_id int);
create table orgs (id int primary key, name text, owner_id int, parent_id int);
insert into orgs select g, 'org ' || g, 1 + g % 40, case when g < 30 then g + 1 end from generate_series(1, 30) g;
insert into users select g, 'user ' || g, case when g = 17 then 999 else 1 + g % 30 end from generate_series(1, 40) g;`;

const TARGET = `
create table "User" (id uuid primary key, name text not null, "orgId" uuid);
create table "Org" (id uuid primary key, name text not null, "ownerId" uuid not null references "User"(id), "parentId" uuid references "Org"(id));
alter table "User" add foreign key ("orgId") references "Org"(id);`;

const tables = (deferred: boolean) => ({
  users: { table: 'User', from: 'users', key: 'id', id: { column: 'id', generate: 'uuid' as const }, columns: { name: 'name', orgId: ref('orgs', 'org_id', { deferred }) } },
  orgs: { table: 'Org', from: 'orgs', key: 'id', id: { column: 'id', generate: 'uuid' as const }, columns: { name: 'name', ownerId: ref('users', 'owner_id'), parentId: ref('orgs', 'parent_id', { deferred: true }) } },
});

let source: TestDatabase;
let target: TestDatabase;
const q = async <T extends Record<string, unknown>>(url: string, sql: string): Promise<T[]> => withClient(url, async (c) => (await c.query<T>(sql)).rows);

beforeAll(async () => {
  source = await createTestDatabase(db.serverUrl, { prefix: 'evolve_deferred_src' });
  target = await createTestDatabase(db.serverUrl, { prefix: 'evolve_deferred_tgt' });
  await q(source.url, LEGACY);
  await q(target.url, TARGET);
});

afterAll(async () => {
  await source?.drop();
  await target?.drop();
});

describe('deferred references (the second pass)', () => {
  it('refuses a cycle of references, naming it and the way out', async () => {
    const cyclic = defineCopy({ name: 'cycle', tables: tables(false) });
    await expect(runCopy(cyclic, { sourceUrl: source.url, targetUrl: target.url })).rejects.toThrow(/cycle \(users → orgs → users\).*\{ deferred: true \}/);
  });

  it('copies a cycle and a tree whose parents come later, then sets the deferred columns through the id map; a key nobody has fails validation, named', async () => {
    const plan = defineCopy({ name: 'deferred', batchSize: 7, tables: tables(true) });
    const result = await runCopy(plan, { sourceUrl: source.url, targetUrl: target.url, workers: 2 });
    expect(result.tables.map((t) => [t.name, t.status, t.copiedRows, t.deadLetters])).toEqual([
      ['users', 'done', 40, 0],
      ['orgs', 'done', 30, 0],
    ]);
    // Every user's organization and every organization's parent, as in the source, through the new ids.
    const pairs = await q<{ user: string; org: string | null; parent: string | null }>(
      target.url,
      `select u.name as user, o.name as org, p.name as parent from "User" u left join "Org" o on o.id = u."orgId" left join "Org" p on p.id = o."parentId" order by u.name`,
    );
    const expected = await q<{ user: string; org: string | null; parent: string | null }>(
      source.url,
      `select u.name as user, o.name as org, p.name as parent from users u left join orgs o on o.id = u.org_id left join orgs p on p.id = o.parent_id order by u.name`,
    );
    expect(pairs).toEqual(expected);
    const validation = await validateCopy(plan, { sourceUrl: source.url, targetUrl: target.url });
    expect(validation.checks.filter((c) => !c.ok)).toEqual([
      { name: 'deferred users.orgId', ok: false, detail: expect.stringMatching(/^1 rows still wait for their orgId \(old keys 999\)/) },
    ]);
    expect(validation.checks.find((c) => c.name === 'deferred orgs.parentId')?.ok).toBe(true);
    // A rerun is a no-op, the waiting key still named.
    const again = await runCopy(plan, { sourceUrl: source.url, targetUrl: target.url });
    expect(again.tables.map((t) => t.status)).toEqual(['already-complete', 'already-complete']);
    expect(await q(target.url, `select count(*)::int as n from _evolve.copy_deferred where copy = 'deferred'`)).toEqual([{ n: 1 }]);
  });
});
