import { describe, expect, it } from '@jest/globals';
import type { ModelMeta } from './model-meta.js';
import { SoftDeleteRewriter } from './soft-delete-rewriter.js';

const meta: ModelMeta = {
  models: {
    User: { name: 'User', table: 'User', scalars: ['id', 'deletedAt'], fieldTypes: {}, id: ['id'], idInput: null, uniques: [], relations: { posts: { model: 'Post', list: true, from: [], to: [], required: true } } },
    Post: { name: 'Post', table: 'Post', scalars: ['id', 'authorId', 'deletedAt'], fieldTypes: {}, id: ['id'], idInput: null, uniques: [], relations: { author: { model: 'User', list: false, from: ['authorId'], to: ['id'], required: true } } },
  },
};
const rewriter = new SoftDeleteRewriter(meta, { User: { field: 'deletedAt' }, Post: { field: 'deletedAt' } });

describe('SoftDeleteRewriter', () => {
  it('sees the field named through AND/OR/NOT but not inside relation filters', () => {
    expect(SoftDeleteRewriter.mentions({ NOT: [{ deletedAt: null }] }, 'deletedAt')).toBe(true);
    expect(SoftDeleteRewriter.mentions({ OR: [{ id: 1 }, { AND: { deletedAt: { not: null } } }] }, 'deletedAt')).toBe(true);
    expect(SoftDeleteRewriter.mentions({ posts: { some: { deletedAt: null } } }, 'deletedAt')).toBe(false);
  });

  it('adds the live filter as AND for lists and at the top for unique lookups', () => {
    expect(rewriter.where('User', { id: 1 }, true)).toEqual({ id: 1, deletedAt: null });
    expect(rewriter.where('User', { name: 'x' }, false)).toEqual({ AND: [{ name: 'x' }, { deletedAt: null }] });
    expect(rewriter.where('User', undefined, false)).toEqual({ deletedAt: null });
    expect(rewriter.where('User', { deletedAt: { not: null } }, false)).toEqual({ deletedAt: { not: null } });
  });

  it('rewrites relation filters: some/none exclude deleted rows, every ignores them, a to-one shorthand is "is"', () => {
    expect(rewriter.relationFilters('User', { posts: { some: { id: 1 }, every: { id: 2 } } })).toEqual({
      posts: { some: { AND: [{ id: 1 }, { deletedAt: null }] }, every: { OR: [{ id: 2 }, { deletedAt: { not: null } }] } },
    });
    expect(rewriter.relationFilters('Post', { author: { id: 3 } })).toEqual({ author: { AND: [{ id: 3 }, { deletedAt: null }] } });
  });

  it('turns nested deletes into soft deletes', () => {
    const now = new Date('2026-01-01');
    expect(rewriter.data('User', { posts: { delete: { id: 1 }, deleteMany: { id: { gt: 5 } } } }, now)).toEqual({
      posts: {
        update: [{ where: { id: 1, deletedAt: null }, data: { deletedAt: now } }],
        updateMany: [{ where: { AND: [{ id: { gt: 5 } }, { deletedAt: null }] }, data: { deletedAt: now } }],
      },
    });
  });
});
