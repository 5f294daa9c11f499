import { describe, expect, it } from '@jest/globals';
import { parseConnectionTarget, withDatabase } from './connection-target.js';

describe('parseConnectionTarget', () => {
  it('reads host, port, database and user, with defaults', () => {
    expect(parseConnectionTarget('postgresql://app:secret@db.internal:6543/shop')).toEqual({ host: 'db.internal', port: 6543, database: 'shop', user: 'app' });
    expect(parseConnectionTarget('postgres://db')).toEqual({ host: 'db', port: 5432, database: 'postgres', user: 'postgres' });
  });

  it('decodes percent-encoded names', () => {
    expect(parseConnectionTarget('postgresql://u%40x@h/my%20db').database).toBe('my db');
  });

  it('refuses what is not a postgresql url, without echoing the password', () => {
    expect(() => parseConnectionTarget('not a url')).toThrow('invalid "database url"');
    expect(() => parseConnectionTarget('mysql://root:hunter2@h/db')).toThrow('protocol "mysql:" is not postgresql:');
    expect(() => parseConnectionTarget('mysql://root:hunter2@h/db')).not.toThrow(/hunter2/);
  });
});

describe('withDatabase', () => {
  it('swaps only the database, keeping credentials and parameters', () => {
    expect(withDatabase('postgresql://u:p@h:1/a?sslmode=require', 'b b')).toBe('postgresql://u:p@h:1/b%20b?sslmode=require');
  });
});
