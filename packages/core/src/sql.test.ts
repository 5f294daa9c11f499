import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from './errors.js';
import { z } from 'zod';
import { identifierSchema, quoteIdent, quoteLiteral, quoteQualified } from './sql.js';

describe('quoteIdent', () => {
  it.each([
    ['User', '"User"'],
    ['subjectIdRef', '"subjectIdRef"'],
    ['with space', '"with space"'],
    ['qu"ote', '"qu""ote"'],
    ['"', '""""'],
    ['a"b"c', '"a""b""c"'],
    ['""', '""""""'],
    ['"; DROP TABLE "User"; --', '"""; DROP TABLE ""User""; --"'],
    ["it's", '"it\'s"'],
    ['ümlaut', '"ümlaut"'],
  ])('quotes %j as %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it('accepts exactly 63 bytes and refuses 64, counting bytes not characters', () => {
    expect(quoteIdent('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    expect(() => quoteIdent('a'.repeat(64))).toThrow(InvalidArgumentError);
    // 32 two-byte characters = 64 bytes: PostgreSQL would truncate it.
    expect(() => quoteIdent('é'.repeat(32))).toThrow('is longer than 63 bytes');
  });

  it('refuses empty names and control characters with the argument named', () => {
    expect(() => quoteIdent('')).toThrow('invalid "identifier": an identifier cannot be empty');
    expect(() => quoteIdent('a\u0000b')).toThrow('contains the control character U+0000');
    // A newline would end the `-- prisma-evolve: …` comment of a migration folder and make the rest SQL.
    expect(() => quoteIdent('fk\nDROP TABLE "User";')).toThrow('contains the control character U+000a');
    expect(() => quoteIdent('tab\there')).toThrow('U+0009');
    expect(() => quoteIdent('del\u007f')).toThrow('U+007f');
  });
});

describe('identifierSchema: the one identifier field of specs and options', () => {
  it('refuses what quoteIdent refuses, with the field path', () => {
    const spec = z.object({ table: identifierSchema });
    expect(spec.parse({ table: 'a"b' })).toEqual({ table: 'a"b' });
    const result = spec.safeParse({ table: 'x\ny' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['table'], message: expect.stringContaining('U+000a') });
    expect(spec.safeParse({ table: '' }).success).toBe(false);
    expect(spec.safeParse({ table: 'a'.repeat(64) }).success).toBe(false);
  });
});

describe('quoteQualified and quoteLiteral', () => {
  it('quotes both parts of a qualified name', () => {
    expect(quoteQualified('my schema', 'T"x')).toBe('"my schema"."T""x"');
  });

  it('doubles single quotes in literals and refuses nul bytes', () => {
    expect(quoteLiteral("O'Brien")).toBe("'O''Brien'");
    expect(() => quoteLiteral('\u0000')).toThrow(InvalidArgumentError);
    expect(() => quoteLiteral('\u0000')).toThrow('invalid "literal": a string literal cannot contain a nul byte');
  });
});
