import { describe, expect, it } from '@jest/globals';
import { InvalidArgumentError } from './errors.js';
import { quoteIdent, quoteLiteral, quoteQualified } from './sql.js';

describe('quoteIdent', () => {
  it.each([
    ['User', '"User"'],
    ['subjectIdRef', '"subjectIdRef"'],
    ['with space', '"with space"'],
    ['qu"ote', '"qu""ote"'],
    ['"', '""""'],
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

  it('refuses empty names and nul bytes with the argument named', () => {
    expect(() => quoteIdent('')).toThrow('invalid "identifier": an identifier cannot be empty');
    expect(() => quoteIdent('a\u0000b')).toThrow('contains a nul byte');
  });
});

describe('quoteQualified and quoteLiteral', () => {
  it('quotes both parts of a qualified name', () => {
    expect(quoteQualified('my schema', 'T"x')).toBe('"my schema"."T""x"');
  });

  it('doubles single quotes in literals and refuses nul bytes', () => {
    expect(quoteLiteral("O'Brien")).toBe("'O''Brien'");
    expect(() => quoteLiteral('\u0000')).toThrow(InvalidArgumentError);
  });
});
