import { describe, expect, it } from '@jest/globals';
import { migrationNameSlug } from './prisma-migrations.js';

describe('migrationNameSlug: the folder name Prisma makes from --name', () => {
  it.each([
    ['add user', 'add_user'],
    ['Add  Display-Name!', 'add_display_name'],
    ['Ünïcödé names', 'unicode_names'],
    ['  __trim__  ', 'trim'],
    ['---', ''],
  ])('%j → %j', (input, expected) => {
    expect(migrationNameSlug(input)).toBe(expected);
  });

  it('keeps at most 200 characters', () => {
    expect(migrationNameSlug('x'.repeat(300))).toHaveLength(200);
  });
});
