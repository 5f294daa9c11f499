import { describe, expect, it } from '@jest/globals';
import { keyRangePredicate, keyTextOf, keyTextSelect } from './keyset-sql.js';

describe('keyset SQL', () => {
  const key = [
    { name: 'Tenant "Id"', type: 'text' },
    { name: 'no', type: 'bigint' },
  ];

  it('builds a row-comparison range with typed parameters', () => {
    const params: unknown[] = ['x'];
    const sql = keyRangePredicate('t', key, ['a', '1'], ['b', '2'], params);
    expect(sql).toBe(
      '("t"."Tenant ""Id""", "t"."no") > ($2::text, $3::bigint) and ("t"."Tenant ""Id""", "t"."no") <= ($4::text, $5::bigint)',
    );
    expect(params).toEqual(['x', 'a', '1', 'b', '2']);
  });

  it('is unbounded where a bound is missing', () => {
    const params: unknown[] = [];
    expect(keyRangePredicate('t', key, null, null, params)).toBe('true');
    expect(keyRangePredicate('t', key, null, ['b', '2'], params)).toBe('("t"."Tenant ""Id""", "t"."no") <= ($1::text, $2::bigint)');
  });

  it('selects and reads back the text form of the key', () => {
    expect(keyTextSelect('s', key)).toBe('"s"."Tenant ""Id"""::text as "__k0", "s"."no"::text as "__k1"');
    expect(keyTextOf({ __k0: 'a', __k1: '12' }, key)).toEqual(['a', '12']);
  });
});
