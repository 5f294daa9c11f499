import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { dedupe, InvalidArgumentError, reportDuplicates, sqlExpression, undoDedupe } from '../index.js';

const db = useTestDatabase();
const sql = (text: string, params: unknown[] = []) => withClient(db.url, async (client) => (await client.query(text, params)).rows);

/** Reviews with duplicates per (product, author), comments on them through a cascading foreign key. */
async function setup(schema: string, onDelete: string): Promise<void> {
  await sql(`create schema "${schema}"`);
  await sql(`create table "${schema}"."Re""view" (id text primary key, product int not null, author text not null, "createdAt" timestamptz not null)`);
  await sql(`create table "${schema}"."Comment" (id int primary key, "reviewId" text not null references "${schema}"."Re""view"(id) on delete ${onDelete}, body text)`);
  await sql(`insert into "${schema}"."Re""view" select 'r' || g, g % 10, 'a' || (g % 7), timestamptz '2026-01-01' + g * interval '1 hour' from generate_series(1, 200) g`);
  await sql(`insert into "${schema}"."Comment" select g, 'r' || (1 + g % 200), 'c' || g from generate_series(1, 600) g`);
}

const options = (schema: string) => ({ database: db.url, schema, table: 'Re"view', columns: ['product', 'author'], keep: 'latest' as const });

describe('dedupe with children: never loses a row of another table', () => {
  it('refuses a table whose children would cascade, naming the key, and deletes nothing', async () => {
    await setup('refused', 'cascade');
    const refusal = dedupe(options('refused'));
    await expect(refusal).rejects.toThrow(InvalidArgumentError);
    await expect(refusal).rejects.toThrow(/"refused"\."Comment" \(reviewId\) references .* ON DELETE CASCADE \(constraint "Comment_reviewId_fkey"\).*children: 'repoint'/);
    expect(await sql(`select (select count(*)::int from "refused"."Re""view") as reviews, (select count(*)::int from "refused"."Comment") as comments`)).toEqual([{ reviews: 200, comments: 600 }]);
  });

  it("children: 'repoint' moves every victim's children to its survivor; undoDedupe points back those still there", async () => {
    await setup('moved', 'cascade');
    const pointers = await sql(`select id, "reviewId" from "moved"."Comment" order by id`);
    const result = await dedupe({ ...options('moved'), children: 'repoint' });
    expect(result.deleted).toBe(200 - 70); // 10 products × 7 authors survive
    expect(await sql(`select count(*)::int as n from "moved"."Re""view"`)).toEqual([{ n: 70 }]);
    expect(await sql(`select count(*)::int as n from "moved"."Comment"`)).toEqual([{ n: 600 }]); // none cascaded away
    expect(await sql(`select count(*)::int as n from "moved"."Comment" c left join "moved"."Re""view" r on r.id = c."reviewId" where r.id is null`)).toEqual([{ n: 0 }]);
    // Every comment points at its old review if that one survived, else at the survivor of its group.
    const wrong = await sql(
      `select c.id from "moved"."Comment" c
       join unnest($1::int[], $2::text[]) o(id, old) on o.id = c.id
       join "moved"."Re""view" now on now.id = c."reviewId"
       left join "moved"."Re""view" kept on kept.id = o.old
       left join "_evolve"."_evolve_bak_moved_Re""view_dupes" gone on gone.id = o.old
       where not ((kept.id is not null and c."reviewId" = o.old) or (gone.id is not null and now.product = gone.product and now.author = gone.author))`,
      [pointers.map((p) => p['id']), pointers.map((p) => p['reviewId'])],
    );
    expect(wrong).toEqual([]);

    // The application moves one repointed comment elsewhere: undo leaves that one where the app put it.
    const before = new Map(pointers.map((p) => [p['id'], p['reviewId']]));
    const repointed = (await sql(`select id, "reviewId" from "moved"."Comment" order by id`)).find((row) => before.get(row['id']) !== row['reviewId']);
    expect(repointed).toBeDefined();
    const moved = repointed?.['id'];
    const elsewhere = (await sql(`select min(id) as id from "moved"."Re""view"`))[0]?.['id'];
    await sql(`update "moved"."Comment" set "reviewId" = $2 where id = $1`, [moved, elsewhere]);
    expect(await undoDedupe({ ...options('moved'), children: 'repoint' })).toBe(130);
    const after = await sql(`select id, "reviewId" from "moved"."Comment" order by id`);
    expect(after).toEqual(pointers.map((p) => (p['id'] === moved ? { id: moved, reviewId: elsewhere } : p)));
    expect(await sql(`select count(*)::int as n from pg_tables where schemaname = '_evolve' and tablename like 'dedupe\\_%\\_repointed'`)).toEqual([{ n: 0 }]);
    expect(await sql(`select count(*)::int as n from "moved"."Re""view"`)).toEqual([{ n: 200 }]);
  });

  it("repoint refuses a key that references another column than the primary key", async () => {
    await sql(`create schema other`);
    await sql(`create table other.parent (id int primary key, code text unique, k int not null)`);
    await sql(`create table other.child (id int primary key, parent_code text references other.parent(code) on delete cascade)`);
    await sql(`insert into other.parent values (1, 'a', 1), (2, 'b', 1)`);
    await expect(dedupe({ database: db.url, schema: 'other', table: 'parent', columns: ['k'], keep: { orderBy: 'id' }, children: 'repoint' })).rejects.toThrow(
      /references \(code\), not the primary key "id" alone/,
    );
  });

  it("children: 'backup' copies the children a cascade or set-null key would change; undoDedupe puts every one back", async () => {
    await setup('kept', 'cascade');
    await sql(`create table "kept"."Flag" (id int primary key, "reviewId" text references "kept"."Re""view"(id) on delete set null, reason text)`);
    await sql(`insert into "kept"."Flag" select g, 'r' || (1 + g % 200), 'spam' from generate_series(1, 100) g`);
    const comments = await sql(`select * from "kept"."Comment" order by id`);
    const flags = await sql(`select * from "kept"."Flag" order by id`);
    const result = await dedupe({ ...options('kept'), children: 'backup' });
    expect(result.deleted).toBe(130);
    // The cascade and the set-null really happened, and what they changed is in the backups.
    const [{ comments: left, nulled }] = (await sql(
      `select (select count(*)::int from "kept"."Comment") as comments, (select count(*)::int from "kept"."Flag" where "reviewId" is null) as nulled`,
    )) as [{ comments: number; nulled: number }];
    expect(left).toBeLessThan(600);
    expect(nulled).toBeGreaterThan(0);
    expect(await sql(`select count(*)::int as n from _evolve."_evolve_bak_kept_Re""view_dupes_Comment_reviewId_fkey"`)).toEqual([{ n: 600 - left }]);

    // The application points one nulled flag elsewhere meanwhile: undo keeps that one as the app wrote it.
    const nulledFlag = (await sql(`select min(id) as id from "kept"."Flag" where "reviewId" is null`))[0]?.['id'];
    const survivor = (await sql(`select min(id) as id from "kept"."Re""view"`))[0]?.['id'];
    await sql(`update "kept"."Flag" set "reviewId" = $2 where id = $1`, [nulledFlag, survivor]);
    expect(await undoDedupe({ ...options('kept'), children: 'backup' })).toBe(130);
    expect(await sql(`select * from "kept"."Comment" order by id`)).toEqual(comments);
    expect(await sql(`select * from "kept"."Flag" order by id`)).toEqual(flags.map((f) => (f['id'] === nulledFlag ? { ...f, reviewId: survivor } : f)));
    expect(await sql(`select count(*)::int as n from pg_tables where schemaname = '_evolve' and tablename like '%kept%'`)).toEqual([{ n: 0 }]);
  });

  it("children: 'backup' refuses a cascade two levels deep and a set-default key, naming them", async () => {
    await setup('deep', 'cascade');
    await sql(`create table "deep"."Reply" (id int primary key, "commentId" int references "deep"."Comment"(id) on delete cascade)`);
    await expect(dedupe({ ...options('deep'), children: 'backup' })).rejects.toThrow(/"deep"\."Reply" \(commentId\) references "deep"\."Comment" ON DELETE CASCADE .*two levels deep/);
    await setup('dflt', 'set default');
    await expect(dedupe({ ...options('dflt'), children: 'backup' })).rejects.toThrow(/ON DELETE SET DEFAULT .*cannot tell a default/);
    expect(await sql(`select count(*)::int as n from "deep"."Re""view"`)).toEqual([{ n: 200 }]);
  });

  it('groups by expressions too: lower(email) duplicates go, undo brings them back', async () => {
    await sql(`create schema expr`);
    await sql(`create table expr.users (id int primary key, email text, "createdAt" timestamptz not null default now())`);
    await sql(`insert into expr.users (id, email, "createdAt") values (1, 'Ann@x.io', '2026-01-01'), (2, 'ann@x.io', '2026-01-02'), (3, 'ANN@X.IO', '2026-01-03'), (4, 'bob@x.io', '2026-01-01'), (5, null, '2026-01-01'), (6, null, '2026-01-02')`);
    const byLower = { database: db.url, schema: 'expr', table: 'users', columns: [], expressions: [sqlExpression('lower(email)')], keep: 'earliest' as const };
    expect(await reportDuplicates(byLower)).toMatchObject({ groups: 1, extraRows: 2, samples: [{ key: ['ann@x.io'], keep: '1', remove: ['2', '3'] }] });
    expect((await dedupe(byLower)).deleted).toBe(2);
    expect(await sql(`select id from expr.users order by id`)).toEqual([{ id: 1 }, { id: 4 }, { id: 5 }, { id: 6 }]);
    expect(await undoDedupe(byLower)).toBe(2);
    expect(await sql(`select count(*)::int as n from expr.users`)).toEqual([{ n: 6 }]);
    expect(() => sqlExpression(' ')).toThrow(InvalidArgumentError);
  });

  it("children: 'repoint' merges a child that would duplicate the survivor's under a unique index (votes of one user), and undo brings it back", async () => {
    await sql(`create schema votes`);
    await sql(`create table votes.request (id int primary key, title text not null, "createdAt" timestamptz not null)`);
    await sql(`create table votes.vote (id int primary key, "requestId" int not null references votes.request(id) on delete cascade, "userId" text not null, unique ("requestId", "userId"))`);
    await sql(`insert into votes.request values (1, 'same', '2026-01-01'), (2, 'same', '2026-01-02'), (3, 'same', '2026-01-03')`);
    // u1 voted on all three copies, u2 on the two duplicates only, u3 on one duplicate.
    await sql(`insert into votes.vote values (1, 1, 'u1'), (2, 2, 'u1'), (3, 3, 'u1'), (4, 2, 'u2'), (5, 3, 'u2'), (6, 3, 'u3')`);
    const before = await sql(`select * from votes.vote order by id`);
    const byTitle = { database: db.url, schema: 'votes', table: 'request', columns: ['title'], keep: 'earliest' as const, children: 'repoint' as const };
    expect((await dedupe(byTitle)).deleted).toBe(2);
    // One vote per user on the survivor: nothing lost, nothing doubled.
    expect(await sql(`select "requestId", "userId" from votes.vote order by "userId"`)).toEqual([
      { requestId: 1, userId: 'u1' },
      { requestId: 1, userId: 'u2' },
      { requestId: 1, userId: 'u3' },
    ]);
    expect(await undoDedupe(byTitle)).toBe(2);
    expect(await sql(`select * from votes.vote order by id`)).toEqual(before);
  });
});
