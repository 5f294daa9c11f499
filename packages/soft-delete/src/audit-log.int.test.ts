import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { PrismaPg } from '@prisma/adapter-pg';
import { diffEmptyToSchema } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import pg from 'pg';
import { PrismaClient } from '../test-schema/generated/client/client.js';
import { evolveMeta } from '../test-schema/generated/evolve-meta.js';
import { auditContext, auditLog } from './audit-log-extension.js';
import { softDelete } from './soft-delete-extension.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const db = useTestDatabase();
let base: PrismaClient;
let prisma: ReturnType<typeof extend>;

function extend(client: PrismaClient) {
  return client
    .$extends(softDelete({ meta: evolveMeta, models: { User: { field: 'deletedAt' }, Post: { field: 'deletedAt' } } }))
    .$extends(auditLog({ meta: evolveMeta, models: ['User', 'Post'], softDeleteFields: { User: 'deletedAt', Post: 'deletedAt' }, sensitivity: { User: 'high' } }));
}

async function sql(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  await sql(await diffEmptyToSchema(db.url, path.join(here, '..', 'test-schema', 'schema.prisma')));
  base = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) });
  prisma = extend(base);
});
afterAll(async () => base.$disconnect());
beforeEach(async () => sql(`truncate "Comment", "Post", "Profile", "User", "AuditLog" restart identity cascade`));

const actor = { userId: 'u-admin', email: 'admin@x.io', role: 'admin', requestId: 'req-1', ip: '10.0.0.1', tenantId: 'ten-1' };

describe('auditLog', () => {
  it('records create, update and (soft) delete with the actor and a before/after diff', async () => {
    await auditContext.run(actor, async () => {
      const user = await prisma.user.create({ data: { email: 'a@x.io', name: 'A' } });
      await prisma.user.update({ where: { id: user.id }, data: { name: 'B' } });
      await prisma.user.delete({ where: { id: user.id } });
    });
    const entries = await base.auditLog.findMany({ orderBy: { timestamp: 'asc' } });
    expect(entries.map((e) => e.action)).toEqual(['create', 'update', 'delete']);
    expect(entries[0]).toMatchObject({ entityType: 'User', entityId: '1', userId: 'u-admin', userEmail: 'admin@x.io', userRole: 'admin', requestId: 'req-1', ipAddress: '10.0.0.1', tenantId: 'ten-1', sensitivity: 'high' });
    expect(entries[1]?.changes).toEqual({ name: { before: 'A', after: 'B' } });
    expect((entries[2]?.changes as Record<string, { before: unknown; after: unknown }>)['deletedAt']?.before).toBeNull();
    expect(await base.user.count({ where: { deletedAt: null } })).toBe(0);
  });

  it('writes the entry in the caller transaction: a rollback removes both the change and its entry', async () => {
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.post.create({ data: { title: 't', author: { create: { email: 'x@x.io' } } } });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await base.post.count()).toBe(0);
    expect(await base.auditLog.count()).toBe(0);
  });

  it('wraps a standalone write in its own transaction: when the entry cannot be written, the change is undone', async () => {
    await sql(`alter table "AuditLog" add constraint refuse_entries check (false) not valid`);
    try {
      await expect(prisma.user.create({ data: { email: 'lost@x.io' } })).rejects.toThrow(/refuse_entries/);
      expect(await base.user.count()).toBe(0);
    } finally {
      await sql(`alter table "AuditLog" drop constraint refuse_entries`);
    }
  });

  it('a change that fails at commit leaves no audit entry: the entry is written in the change\'s own transaction', async () => {
    // A deferred constraint trigger raises at COMMIT, after both the change and its entry were written.
    await sql(`create function refuse_at_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$;
               create constraint trigger refuse_users_at_commit after insert on "User" deferrable initially deferred for each row execute function refuse_at_commit()`);
    try {
      await expect(prisma.user.create({ data: { email: 'late@x.io' } })).rejects.toThrow(/refused at commit/);
      expect(await base.user.count()).toBe(0);
      expect(await base.auditLog.count()).toBe(0);
    } finally {
      await sql(`drop trigger refuse_users_at_commit on "User"; drop function refuse_at_commit()`);
    }
  });

  it('still soft-deletes when added before softDelete, and later extensions keep applying', async () => {
    const seen: string[] = [];
    const reversed = base
      .$extends(auditLog({ meta: evolveMeta, models: ['Post'] }))
      .$extends(softDelete({ meta: evolveMeta, models: { Post: { field: 'deletedAt' } } }))
      .$extends({ query: { $allModels: { $allOperations({ model, operation, args, query }) { seen.push(`${model}.${operation}`); return query(args); } } } });
    const user = await base.user.create({ data: { email: 'r@x.io' } });
    const post = await base.post.create({ data: { title: 'p', authorId: user.id } });
    await reversed.post.delete({ where: { id: post.id } });
    expect((await base.post.findUnique({ where: { id: post.id } }))?.deletedAt).toBeInstanceOf(Date);
    expect(seen).toContain('Post.update');
    expect((await base.auditLog.findMany()).map((e) => e.action)).toEqual(['delete']);
  });

  it('refuses an audited write in a batch transaction instead of splitting it', async () => {
    await expect(prisma.$transaction([prisma.user.create({ data: { email: 'b@x.io' } })])).rejects.toThrow(/batch \$transaction/);
    expect(await base.user.count()).toBe(0);
  });

  it('handles compound ids, a select without the id, and createMany (entries per row, { count } returned)', async () => {
    const audited = base.$extends(auditLog({ meta: evolveMeta, models: ['Membership', 'User'] }));
    await audited.membership.create({ data: { orgId: 1, userId: 2, role: 'member' } });
    await audited.membership.update({ where: { orgId_userId: { orgId: 1, userId: 2 } }, data: { role: 'owner' } });
    const user = await audited.user.create({ data: { email: 's@x.io', name: 'S' }, select: { email: true } });
    expect(user).toEqual({ email: 's@x.io' });
    await audited.user.updateMany({ data: { name: 'T' } });
    expect(await audited.user.createMany({ data: [{ email: 'c1@x.io' }, { email: 'c2@x.io' }] })).toEqual({ count: 2 });
    const entries = await base.auditLog.findMany({ orderBy: [{ timestamp: 'asc' }, { entityId: 'asc' }] });
    expect(entries.map((e) => `${e.entityType} ${e.action} ${e.entityId}`)).toEqual([
      'Membership create 1:2',
      'Membership update 1:2',
      'User create 1',
      'User update 1',
      'User create 2',
      'User create 3',
    ]);
  });

  it('records updateMany and deleteMany per row, and skips updates that change nothing', async () => {
    const user = await base.user.create({ data: { email: 'm@x.io' } });
    await base.post.createMany({ data: [{ title: 'one', authorId: user.id }, { title: 'two', authorId: user.id }] });
    await prisma.post.updateMany({ where: { authorId: user.id }, data: { title: 'same' } });
    await prisma.post.updateMany({ where: { authorId: user.id }, data: { title: 'same' } });
    await prisma.post.deleteMany({ where: { authorId: user.id } });
    const entries = await base.auditLog.findMany({ where: { entityType: 'Post' }, orderBy: [{ timestamp: 'asc' }, { entityId: 'asc' }] });
    expect(entries.map((e) => `${e.action} ${e.entityId}`)).toEqual(['update 1', 'update 2', 'delete 1', 'delete 2']);
  });
});
