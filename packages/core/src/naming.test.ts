import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from './errors.js';
import { isToolkitName, RESERVED_PREFIX, toolkitName } from './naming.js';
import { quoteIdent } from './sql.js';

describe('toolkitName', () => {
  it('builds readable names in the reserved namespace', () => {
    expect(toolkitName('tmp', 'Booking', 'subjectId')).toBe('_evolve_tmp_Booking_subjectId');
    expect(toolkitName('bak', 'User')).toBe('_evolve_bak_User');
    expect(isToolkitName(toolkitName('trg', 'a'))).toBe(true);
    expect(isToolkitName('Booking')).toBe(false);
    expect(RESERVED_PREFIX).toBe('_evolve_');
  });

  it('is deterministic, so a re-run finds what an earlier run created', () => {
    expect(toolkitName('chk', 'T', 'c')).toBe(toolkitName('chk', 'T', 'c'));
  });

  it('keeps long names within 63 bytes, distinct where PostgreSQL truncation would collide', () => {
    const table = 'a'.repeat(60);
    const first = toolkitName('tmp', table, 'column_one');
    const second = toolkitName('tmp', table, 'column_two');
    expect(Buffer.byteLength(first)).toBe(63);
    expect(first).not.toBe(second);
    expect(first.slice(0, 54)).toBe(second.slice(0, 54));
    expect(first).toMatch(/_[0-9a-f]{8}$/);
    expect(() => quoteIdent(first)).not.toThrow();
  });

  it('never splits a multi-byte character when it shortens a name', () => {
    const name = toolkitName('trg', 'ü'.repeat(40));
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
    expect(name).not.toContain('\uFFFD');
    expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name);
  });

  it('refuses empty parts, naming the kind', () => {
    expect(() => toolkitName('idx')).toThrow(InvalidArgumentError);
    expect(() => toolkitName('idx', '')).toThrow('a "idx" name needs non-empty parts');
  });
});
