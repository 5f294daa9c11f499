import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { PrismaPg } from '@prisma/adapter-pg';
import { diffEmptyToSchema } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import pg from 'pg';
import { PrismaClient } from '../test-schema/generated/client/client.js';
import { evolveMeta } from '../test-schema/generated/evolve-meta.js';
import { nullableRelations } from './nullable-relations.js';
import { auditLog } from './audit-log-extension.js';
import { softDelete, softDeleteQueries } from './soft-delete-extension.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const db = useTestDatabase();
let base: PrismaClient;
let prisma: ReturnType<typeof extend>;

function extend(client: PrismaClient) {
  return client.$extends(
    softDelete({
      meta: evolveMeta,
      models: { User: { field: 'deletedAt', cascade: ['comments'] }, Post: { field: 'deletedAt' }, Comment: { field: 'deletedAt' }, Profile: { field: 'deletedAt' } },
    }),
  );
}

async function sql(text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await sql(await diffEmptyToSchema(db.url, path.join(here, '..', 'test-schema', 'schema.prisma')));
  // The addSoftDelete operation's partial unique: a deleted user's email can be used again.
  await sql(`create unique index "User_email_key" on "User" (email) where "deletedAt" is null`);
  base = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
  prisma = extend(base);
});
afterAll(async () => base.$disconnect());

let ids: { alice: number; bob: number; alivePost: number; deadPost: number };
beforeEach(async () => {
  await sql(`truncate "Comment", "Post", "Profile", "User", "Tag", "Note", "AuditLog" restart identity cascade`);
  const alice = await base.user.create({ data: { email: 'alice@x.io', name: 'Alice', profile: { create: { bio: 'hi' } } } });
  const bob = await base.user.create({ data: { email: 'bob@x.io', name: 'Bob' } });
  const alivePost = await base.post.create({ data: { title: 'alive', authorId: alice.id } });
  const deadPost = await base.post.create({ data: { title: 'dead', authorId: alice.id, deletedAt: new Date('2026-01-01') } });
  await base.comment.create({ data: { body: 'on alive', postId: alivePost.id, authorId: bob.id } });
  await base.comment.create({ data: { body: 'deleted comment', postId: alivePost.id, authorId: bob.id, deletedAt: new Date('2026-01-01') } });
  ids = { alice: alice.id, bob: bob.id, alivePost: alivePost.id, deadPost: deadPost.id };
});

describe('softDelete: deletes', () => {
  it('delete sets the field; the row is gone for reads but still in the table', async () => {
    const deleted = await prisma.user.delete({ where: { id: ids.bob } });
    expect(deleted.deletedAt).toBeInstanceOf(Date);
    expect(await prisma.user.findUnique({ where: { id: ids.bob } })).toBeNull();
    await expect(prisma.user.findUniqueOrThrow({ where: { id: ids.bob } })).rejects.toThrow();
    expect(await prisma.user.count()).toBe(1);
    expect(await base.user.count()).toBe(2);
    await expect(prisma.user.delete({ where: { id: ids.bob } })).rejects.toMatchObject({ code: 'P2025' });
  });

  it('deleteMany becomes updateMany and keeps the stamp of rows deleted earlier', async () => {
    const result = await prisma.post.deleteMany({ where: { authorId: ids.alice } });
    expect(result).toEqual({ count: 1 });
    const dead = await base.post.findUnique({ where: { id: ids.deadPost } });
    expect(dead?.deletedAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    expect(await base.post.count({ where: { deletedAt: null } })).toBe(0);
  });

  it('cascades to configured children in the same statement', async () => {
    await prisma.user.delete({ where: { id: ids.bob } });
    expect(await base.comment.count({ where: { deletedAt: null } })).toBe(0);
    await expect(prisma.user.deleteMany({ where: { id: ids.alice } })).rejects.toThrow(/cascades to comments/);
  });

  it('a nested delete inside update becomes a soft delete', async () => {
    await prisma.user.update({ where: { id: ids.alice }, data: { posts: { delete: { id: ids.alivePost } } } });
    expect((await base.post.findUnique({ where: { id: ids.alivePost } }))?.deletedAt).toBeInstanceOf(Date);
    await prisma.user.update({ where: { id: ids.alice }, data: { profile: { delete: true } } });
    expect((await base.profile.findFirst())?.deletedAt).toBeInstanceOf(Date);
  });

  it('a nested to-one upsert whose related row is soft-deleted leaves it alone and creates a new one in its place', async () => {
    const comment = await base.comment.findFirstOrThrow({ where: { body: 'on alive' } });
    await base.user.update({ where: { id: ids.bob }, data: { deletedAt: new Date('2026-02-01') } });
    const updated = await prisma.comment.update({
      where: { id: comment.id },
      data: { body: 'edited', author: { upsert: { create: { email: 'carol@x.io', name: 'Carol' }, update: { name: 'should not touch bob' } } } },
      include: { author: true },
    });
    expect(updated.author).toMatchObject({ email: 'carol@x.io', name: 'Carol', deletedAt: null });
    expect(await base.user.findUnique({ where: { id: ids.bob } })).toMatchObject({ name: 'Bob', deletedAt: new Date('2026-02-01') });
    // Inside an interactive transaction too (the read runs in it), and a live related row is updated as the plain client does.
    await prisma.$transaction(async (tx) => {
      await tx.comment.update({ where: { id: comment.id }, data: { author: { upsert: { create: { email: 'dan@x.io' }, update: { name: 'Carol C' } } } } });
    });
    expect((await base.comment.findUniqueOrThrow({ where: { id: comment.id }, include: { author: true } })).author.name).toBe('Carol C');
  });

  it('a nested to-one upsert with no related row creates it, as the plain client does (was P2021)', async () => {
    await base.profile.deleteMany({ where: { userId: ids.alice } });
    await prisma.user.update({ where: { id: ids.alice }, data: { profile: { upsert: { create: { bio: 'new' }, update: { bio: 'changed' } } } } });
    expect(await base.profile.findUnique({ where: { userId: ids.alice } })).toMatchObject({ bio: 'new', deletedAt: null });
    // The key on this side, no related row yet (a post without an editor).
    const edited = await prisma.post.update({ where: { id: ids.alivePost }, data: { editor: { upsert: { create: { email: 'ed@x.io' }, update: { name: 'no one' } } } }, include: { editor: true } });
    expect(edited.editor).toMatchObject({ email: 'ed@x.io', deletedAt: null });
  });

  it('a nested to-one upsert cannot create a row beside a soft-deleted one that holds a unique key to the parent: a clear error, nothing changed', async () => {
    await base.profile.update({ where: { userId: ids.alice }, data: { deletedAt: new Date('2026-03-01') } });
    await expect(prisma.user.update({ where: { id: ids.alice }, data: { name: 'x', profile: { upsert: { create: { bio: 'new' }, update: { bio: 'changed' } } } } })).rejects.toThrow(
      /the Profile of this User \("profile"\) is soft-deleted, and it holds a unique key to User/,
    );
    expect(await base.profile.findUnique({ where: { userId: ids.alice } })).toMatchObject({ bio: 'hi' });
    expect((await base.user.findUniqueOrThrow({ where: { id: ids.alice } })).name).toBe('Alice');
  });

  it('a to-one delete: false deletes nothing, as with the plain client', async () => {
    await prisma.user.update({ where: { id: ids.alice }, data: { name: 'Alice B', profile: { delete: false } } });
    expect(await base.profile.findFirst({ where: { userId: ids.alice } })).toMatchObject({ deletedAt: null });
    expect((await base.user.findUnique({ where: { id: ids.alice } }))?.name).toBe('Alice B');
    // The plain client, as the reference: the profile stays.
    await base.user.update({ where: { id: ids.alice }, data: { profile: { delete: false } } });
    expect(await base.profile.findFirst({ where: { userId: ids.alice } })).toMatchObject({ deletedAt: null });
  });

  it('a nested delete two levels down (user → post → comment) is a soft delete too', async () => {
    const comment = await base.comment.findFirstOrThrow({ where: { body: 'on alive' } });
    await prisma.user.update({
      where: { id: ids.alice },
      data: { posts: { update: { where: { id: ids.alivePost }, data: { comments: { delete: { id: comment.id } } } } } },
    });
    const row = await base.comment.findUnique({ where: { id: comment.id } });
    expect(row).not.toBeNull(); // still in the table: not hard-deleted
    expect(row?.deletedAt).toBeInstanceOf(Date);
    expect(await prisma.comment.findUnique({ where: { id: comment.id } })).toBeNull();
    // deleteMany two levels down is soft too.
    const other = await base.comment.create({ data: { body: 'second', postId: ids.alivePost, authorId: ids.bob } });
    await prisma.user.update({
      where: { id: ids.alice },
      data: { posts: { update: { where: { id: ids.alivePost }, data: { comments: { deleteMany: { id: other.id } } } } } },
    });
    expect((await base.comment.findUnique({ where: { id: other.id } }))?.deletedAt).toBeInstanceOf(Date);
  });
});

describe('softDelete: reads and filters', () => {
  it('filters findMany/findFirst/count/aggregate/groupBy unless the where names the field (also inside NOT/AND/OR)', async () => {
    expect((await prisma.post.findMany()).map((p) => p.title)).toEqual(['alive']);
    expect(await prisma.post.findFirst({ where: { title: 'dead' } })).toBeNull();
    expect((await prisma.post.aggregate({ _count: { _all: true } }))._count._all).toBe(1);
    expect((await prisma.post.groupBy({ by: ['authorId'], _count: { _all: true } })).map((g) => g._count._all)).toEqual([1]);
    expect((await prisma.post.findMany({ where: { deletedAt: { not: null } } })).map((p) => p.title)).toEqual(['dead']);
    expect((await prisma.post.findMany({ where: { NOT: { deletedAt: null } } })).map((p) => p.title)).toEqual(['dead']);
    expect((await prisma.post.findMany({ where: { OR: [{ deletedAt: null }, { deletedAt: { not: null } }] }, orderBy: { id: 'asc' } })).map((p) => p.title)).toEqual(['alive', 'dead']);
  });

  it('filters to-many includes at any depth (and _count); to-one relations to a deleted row read as null', async () => {
    const alice = await prisma.user.findUnique({
      where: { id: ids.alice },
      include: { posts: { include: { comments: true } }, _count: { select: { posts: true } } },
    });
    expect(alice?.posts.map((p) => p.title)).toEqual(['alive']);
    expect(alice?.posts[0]?.comments.map((c) => c.body)).toEqual(['on alive']);
    expect(alice?._count.posts).toBe(1);
    await base.user.update({ where: { id: ids.alice }, data: { deletedAt: new Date() } });
    const post = await prisma.post.findUnique({ where: { id: ids.alivePost }, include: { author: true } });
    expect(post?.author).toBeNull();
    const selected = await prisma.post.findUnique({ where: { id: ids.alivePost }, select: { title: true, author: { select: { name: true } } } });
    expect(selected).toEqual({ title: 'alive', author: null });
    await base.user.update({ where: { id: ids.alice }, data: { deletedAt: null } });
    const visible = await prisma.post.findUnique({ where: { id: ids.alivePost }, select: { author: { select: { name: true } } } });
    expect(visible).toEqual({ author: { name: 'Alice' } });
  });

  it('relation filters some/every/none/is/isNot ignore deleted rows', async () => {
    expect((await prisma.user.findMany({ where: { posts: { some: { title: 'dead' } } } })).length).toBe(0);
    expect((await prisma.user.findMany({ where: { posts: { every: { title: 'alive' } } }, orderBy: { id: 'asc' } })).map((u) => u.name)).toEqual(['Alice', 'Bob']);
    expect((await prisma.user.findMany({ where: { posts: { none: { title: 'dead' } } } })).length).toBe(2);
    await base.user.update({ where: { id: ids.alice }, data: { deletedAt: new Date() } });
    expect(await prisma.post.count({ where: { author: { is: { name: 'Alice' } } } })).toBe(0);
    expect(await prisma.post.count({ where: { author: { name: 'Alice' } } })).toBe(0);
    expect(await prisma.post.count({ where: { author: { isNot: { name: 'Alice' } } } })).toBe(1);
  });
});

describe('softDelete: writes, hatches, transactions, uniques', () => {
  it('update/updateMany/upsert never touch deleted rows unless asked', async () => {
    await expect(prisma.post.update({ where: { id: ids.deadPost }, data: { title: 'revived?' } })).rejects.toMatchObject({ code: 'P2025' });
    expect(await prisma.post.updateMany({ data: { title: 'renamed' } })).toEqual({ count: 1 });
    expect((await base.post.findUnique({ where: { id: ids.deadPost } }))?.title).toBe('dead');
    const upserted = await prisma.post.upsert({ where: { id: ids.deadPost }, update: { title: 'x' }, create: { title: 'fresh', authorId: ids.alice } });
    expect(upserted.title).toBe('fresh');
    expect(await prisma.post.updateMany({ where: { deletedAt: { not: null } }, data: { title: 'asked' } })).toEqual({ count: 1 });
  });

  it('restore, findDeleted, findManyWithDeleted and hardDelete', async () => {
    expect((await prisma.post.findDeleted()).map((p) => (p as { title: string }).title)).toEqual(['dead']);
    expect(await prisma.post.findManyWithDeleted()).toHaveLength(2);
    expect(await prisma.post.restore({ where: { id: ids.deadPost } })).toEqual({ count: 1 });
    expect(await prisma.post.count()).toBe(2);
    await prisma.post.hardDelete({ where: { id: ids.deadPost } });
    expect(await base.post.count()).toBe(1);
  });

  it('a soft delete inside an interactive transaction rolls back with it', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.user.delete({ where: { id: ids.bob } });
        expect(await tx.user.findUnique({ where: { id: ids.bob } })).toBeNull();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await base.user.findUnique({ where: { id: ids.bob } }))?.deletedAt).toBeNull();
    await prisma.$transaction(async (tx) => {
      await tx.post.delete({ where: { id: ids.alivePost } });
    });
    expect((await base.post.findUnique({ where: { id: ids.alivePost } }))?.deletedAt).toBeInstanceOf(Date);
  });

  it('a soft delete inside a batch transaction rolls back with it', async () => {
    await expect(
      prisma.$transaction([prisma.user.delete({ where: { id: ids.bob } }), prisma.post.create({ data: { title: 'broken', authorId: 999_999 } })]),
    ).rejects.toThrow();
    expect((await base.user.findUnique({ where: { id: ids.bob } }))?.deletedAt).toBeNull();
  });

  it("with addSoftDelete's partial unique index, a deleted user's email can register again", async () => {
    await expect(base.user.create({ data: { email: 'bob@x.io' } })).rejects.toThrow();
    await prisma.user.delete({ where: { id: ids.bob } });
    const again = await prisma.user.create({ data: { email: 'bob@x.io', name: 'Bob again' } });
    expect(again.id).not.toBe(ids.bob);
  });

  it('keeps the filter on edge inputs: fluent to-one reads, omit, _count: true, null relation filters, undefined fields, deleteMany limit', async () => {
    await base.user.update({ where: { id: ids.alice }, data: { deletedAt: new Date() } });
    expect(await prisma.post.findUnique({ where: { id: ids.alivePost } }).author()).toBeNull();
    const omitted = await prisma.post.findUnique({ where: { id: ids.alivePost }, include: { author: { omit: { deletedAt: true } } } });
    expect(omitted?.author).toBeNull();
    await base.user.update({ where: { id: ids.alice }, data: { deletedAt: null } });
    const live = await prisma.post.findUnique({ where: { id: ids.alivePost }, include: { author: { omit: { deletedAt: true } } } });
    expect(live?.author).toEqual({ id: ids.alice, email: 'alice@x.io', name: 'Alice' });
    const counted = await prisma.post.findUnique({ where: { id: ids.alivePost }, include: { _count: true } });
    expect(counted?._count).toEqual({ comments: 1, tags: 0 });
    await base.profile.updateMany({ data: { deletedAt: new Date() } });
    expect(await prisma.user.count({ where: { profile: { isNot: null } } })).toBe(0);
    expect(await prisma.user.count({ where: { profile: null } })).toBe(2);
    expect(await prisma.post.count({ where: { deletedAt: undefined } })).toBe(1);
    await base.post.create({ data: { title: 'second', authorId: ids.alice } });
    expect(await prisma.post.deleteMany({ where: { authorId: ids.alice }, limit: 1 })).toEqual({ count: 1 });
  });

  it('nested writes leave deleted children alone, and a nested delete cascades like a top-level one', async () => {
    await prisma.user.update({ where: { id: ids.alice }, data: { posts: { updateMany: { where: {}, data: { title: 'changed' } } } } });
    expect((await base.post.findUnique({ where: { id: ids.deadPost } }))?.title).toBe('dead');
    const cascading = base.$extends(softDelete({ meta: evolveMeta, models: { Post: { field: 'deletedAt', cascade: ['comments'] }, Comment: { field: 'deletedAt' } } }));
    await cascading.user.update({ where: { id: ids.alice }, data: { posts: { delete: { id: ids.alivePost } } } });
    expect(await base.comment.count({ where: { postId: ids.alivePost, deletedAt: null } })).toBe(0);
  });

  it('restore and findDeleted are Prisma promises that join a batch transaction', async () => {
    const [restored, deleted] = await prisma.$transaction([prisma.post.restore({ where: { id: ids.deadPost } }), prisma.post.findDeleted()]);
    expect(restored).toEqual({ count: 1 });
    expect(deleted).toEqual([]);
  });

  it('rejects a configuration naming an unknown model, field or cascade', () => {
    expect(() => softDelete({ meta: evolveMeta, models: { Post: { field: 'title' as 'deletedAt' } } })).toThrow('"Post.title" must be an optional DateTime or a Boolean (it is String), or come with a createValue');
    expect(() => softDelete({ meta: evolveMeta, models: { User: { field: 'removedAt' as 'deletedAt' } } })).toThrow('"User" has no field "removedAt"');
    expect(() => softDelete({ meta: evolveMeta, models: { User: { field: 'deletedAt', cascade: ['profile'] } } })).toThrow('not a to-many relation');
  });
});

describe('softDelete: configuration forms', () => {
  it('models: { X: true | false } and defaultConfig; a wrong default is named', async () => {
    const shorthand = base.$extends(softDelete({ meta: evolveMeta, models: { User: true, Post: false, Comment: { field: 'deletedAt' } } }));
    await shorthand.user.delete({ where: { id: ids.bob } });
    expect((await base.user.findUniqueOrThrow({ where: { id: ids.bob } })).deletedAt).toBeInstanceOf(Date);
    // Post is not soft-deletable here: its deleted row is an ordinary row.
    expect(await shorthand.post.count()).toBe(2);
    expect(() => softDelete({ meta: evolveMeta, models: { Tag: true } })).toThrow(/"Tag" has no field "deletedAt" \(the default for `true`; give \{ field \} or a defaultConfig\)/);
    const viaDefault = base.$extends(softDelete({ meta: evolveMeta, defaultConfig: { field: 'deleted' }, models: { Note: true } }));
    const note = await viaDefault.note.create({ data: { body: 'n' } });
    await viaDefault.note.delete({ where: { id: note.id } });
    expect(await base.note.findUniqueOrThrow({ where: { id: note.id } })).toMatchObject({ deleted: true });
  });

  it('a Boolean flag: deletes set it, reads hide it, restore and findDeleted use it', async () => {
    await sql(`truncate "Note" restart identity`);
    const flagged = base.$extends(softDelete({ meta: evolveMeta, models: { Note: { field: 'deleted' } } }));
    const [a, b] = [await flagged.note.create({ data: { body: 'a' } }), await flagged.note.create({ data: { body: 'b' } })];
    expect(a.deleted).toBe(false);
    await flagged.note.delete({ where: { id: a.id } });
    expect(await flagged.note.findMany({ select: { body: true } })).toEqual([{ body: 'b' }]);
    expect(await flagged.note.findUnique({ where: { id: a.id } })).toBeNull();
    expect((await flagged.note.findDeleted()).map((n) => (n as { body: string }).body)).toEqual(['a']);
    await flagged.note.deleteMany({ where: {} });
    expect(await base.note.count({ where: { deleted: true } })).toBe(2);
    expect(await flagged.note.restore({ where: { id: b.id } })).toEqual({ count: 1 });
    expect((await flagged.note.findManyWithDeleted({ orderBy: { id: 'asc' } })).map((n) => (n as { deleted: boolean }).deleted)).toEqual([true, false]);
  });

  it('createValue decides the values of the field (here: a DateTime stamp chosen by the caller)', async () => {
    const fixed = new Date('2030-01-02T03:04:05.000Z');
    const custom = base.$extends(softDelete({ meta: evolveMeta, models: { Post: { field: 'deletedAt', createValue: (deleted) => (deleted ? fixed : null) } } }));
    await custom.post.delete({ where: { id: ids.alivePost } });
    expect((await base.post.findUniqueOrThrow({ where: { id: ids.alivePost } })).deletedAt?.toISOString()).toBe(fixed.toISOString());
    expect(await custom.post.count()).toBe(0);
  });
});

describe('softDelete: opt-outs (explicit; the defaults stay safe)', () => {
  it('allowCompoundUniqueIndexWhere: findUnique by a compound key finds a soft-deleted row; by default it does not', async () => {
    await sql(`truncate "Membership"`);
    await base.membership.create({ data: { orgId: 1, userId: 2, role: 'member', deletedAt: new Date('2026-01-01') } });
    const where = { orgId_userId: { orgId: 1, userId: 2 } };
    const safe = base.$extends(softDelete({ meta: evolveMeta, models: { Membership: true } }));
    expect(await safe.membership.findUnique({ where })).toBeNull();
    const allowing = base.$extends(softDelete({ meta: evolveMeta, models: { Membership: { field: 'deletedAt', allowCompoundUniqueIndexWhere: true } } }));
    expect(await allowing.membership.findUnique({ where })).toMatchObject({ role: 'member' });
    // Other reads still hide it.
    expect(await allowing.membership.count()).toBe(0);
  });

  it('allowToOneUpdates: a nested to-one update reaches a soft-deleted row; by default it does not', async () => {
    await base.profile.update({ where: { userId: ids.alice }, data: { deletedAt: new Date('2026-03-01') } });
    await expect(prisma.user.update({ where: { id: ids.alice }, data: { profile: { update: { bio: 'changed' } } } })).rejects.toThrow();
    expect((await base.profile.findUniqueOrThrow({ where: { userId: ids.alice } })).bio).toBe('hi');
    const allowing = base.$extends(softDelete({ meta: evolveMeta, models: { User: true, Profile: { field: 'deletedAt', allowToOneUpdates: true } } }));
    await allowing.user.update({ where: { id: ids.alice }, data: { profile: { update: { bio: 'changed' } } } });
    expect(await base.profile.findUniqueOrThrow({ where: { userId: ids.alice } })).toMatchObject({ bio: 'changed', deletedAt: new Date('2026-03-01') });
  });
});

describe('softDelete: types that tell the truth', () => {
  it('nullableRelations types a to-one relation that reads as null because its row is soft-deleted', async () => {
    await base.user.update({ where: { id: ids.bob }, data: { deletedAt: new Date('2026-02-01') } });
    const comment = nullableRelations(await prisma.comment.findFirst({ where: { body: 'on alive' }, include: { author: true } }), 'author');
    expect(comment?.author).toBeNull();
    // The generated type alone lets an unguarded access compile, and it throws at runtime:
    expect(() => (comment as unknown as { author: { email: string } }).author.email).toThrow(TypeError);
    // With nullableRelations it does not compile (typecheck fails if this line has no error).
    // @ts-expect-error `author` is `User | null` now.
    const unguarded = (): string => comment!.author.email;
    void unguarded;
    expect(comment?.author?.email ?? 'deleted').toBe('deleted');
  });
});

describe('softDelete: the new forms in transactions and composed with the audit log', () => {
  it('a Boolean flag delete commits or rolls back with interactive and batch transactions, and the audit log records it in both orders', async () => {
    await sql(`truncate "Note" restart identity; truncate "AuditLog"`);
    const flagged = base.$extends(softDelete({ meta: evolveMeta, models: { Note: { field: 'deleted' } } }));
    const batched = await base.note.create({ data: { body: 'batch' } });
    await flagged.$transaction([flagged.note.delete({ where: { id: batched.id } })]);
    expect((await base.note.findUniqueOrThrow({ where: { id: batched.id } })).deleted).toBe(true);

    const softFirst = flagged.$extends(auditLog({ meta: evolveMeta, models: ['Note'], softDeleteFields: { Note: 'deleted' } }));
    const auditFirst = base.$extends(auditLog({ meta: evolveMeta, models: ['Note'], softDeleteFields: { Note: 'deleted' } })).$extends(softDelete({ meta: evolveMeta, models: { Note: { field: 'deleted' } } }));
    for (const [label, client] of [['soft delete, then audit', softFirst], ['audit, then soft delete', auditFirst]] as const) {
      const note = await base.note.create({ data: { body: label } });
      // Rolled back with the interactive transaction: neither the flag nor an audit entry stays.
      await expect(
        client.$transaction(async (tx) => {
          await tx.note.delete({ where: { id: note.id } });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      expect((await base.note.findUniqueOrThrow({ where: { id: note.id } })).deleted).toBe(false);
      await client.$transaction(async (tx) => tx.note.delete({ where: { id: note.id } }));
      expect((await base.note.findUniqueOrThrow({ where: { id: note.id } })).deleted).toBe(true);
      const entries = await base.auditLog.findMany({ where: { entityType: 'Note', entityId: String(note.id) }, select: { action: true } });
      expect({ label, actions: entries.map((e) => e.action) }).toEqual({ label, actions: ['delete'] });
    }
  });
});

describe('softDelete: values written alongside the flag', () => {
  it('alsoSet writes the deleting user beside the stamp, and clears it on restore', async () => {
    let currentUser = 'admin-7';
    const stamped = base.$extends(softDelete({ meta: evolveMeta, models: { Post: { field: 'deletedAt', alsoSet: (deleted) => ({ deletedBy: deleted ? currentUser : null }) } } }));
    await stamped.post.delete({ where: { id: ids.alivePost } });
    expect(await base.post.findUniqueOrThrow({ where: { id: ids.alivePost } })).toMatchObject({ deletedBy: 'admin-7', deletedAt: expect.any(Date) });
    currentUser = 'ops-1';
    await stamped.post.restore({ where: { id: ids.alivePost } });
    expect(await base.post.findUniqueOrThrow({ where: { id: ids.alivePost } })).toMatchObject({ deletedBy: null, deletedAt: null });
    await stamped.post.deleteMany({ where: { id: ids.alivePost } });
    expect((await base.post.findUniqueOrThrow({ where: { id: ids.alivePost } })).deletedBy).toBe('ops-1');
  });
});

describe('softDelete: every new option inside transactions', () => {
  it('createValue, alsoSet, the shorthand and the opt-outs write inside interactive transactions (rolled back) and batch ones (committed)', async () => {
    const fixed = new Date('2031-01-01T00:00:00.000Z');
    const configured = base.$extends(
      softDelete({
        meta: evolveMeta,
        models: {
          User: true,
          Post: { field: 'deletedAt', createValue: (deleted) => (deleted ? fixed : null), alsoSet: (deleted) => ({ deletedBy: deleted ? 'tx-user' : null }) },
          Profile: { field: 'deletedAt', allowToOneUpdates: true },
        },
      }),
    );
    await expect(
      configured.$transaction(async (tx) => {
        await tx.post.delete({ where: { id: ids.alivePost } });
        await tx.user.delete({ where: { id: ids.bob } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await base.post.findUniqueOrThrow({ where: { id: ids.alivePost } })).toMatchObject({ deletedAt: null, deletedBy: null });
    expect((await base.user.findUniqueOrThrow({ where: { id: ids.bob } })).deletedAt).toBeNull();
    await configured.$transaction([configured.post.delete({ where: { id: ids.alivePost } }), configured.user.delete({ where: { id: ids.bob } })]);
    expect(await base.post.findUniqueOrThrow({ where: { id: ids.alivePost } })).toMatchObject({ deletedAt: fixed, deletedBy: 'tx-user' });
    expect((await base.user.findUniqueOrThrow({ where: { id: ids.bob } })).deletedAt).toBeInstanceOf(Date);
  });
});

describe('softDeleteQueries: the same rewriting without the model methods', () => {
  it('soft-deletes, hides deleted rows in reads and nested includes, and adds no model methods', async () => {
    const lean = base.$extends(softDeleteQueries({ meta: evolveMeta, models: { User: true, Post: true, Comment: true, Profile: true } }));
    await lean.post.delete({ where: { id: ids.alivePost } });
    expect(await sql(`select "deletedAt" is not null as deleted from "Post" where id = ${ids.alivePost}`)).toEqual([{ deleted: true }]);
    expect(await lean.post.findMany({ where: { authorId: ids.alice } })).toEqual([]);
    const alice = await lean.user.findUnique({ where: { id: ids.alice }, include: { posts: true } });
    expect(alice?.posts).toEqual([]);
    expect(await lean.comment.count()).toBe(1);
    expect('restore' in lean.post).toBe(false);
    expect('restore' in prisma.post).toBe(true);
  });
});
