import { beforeAll, describe, expect, it } from '@jest/globals';
import { parseSync } from 'libpg-query';
import { loadSqlParser } from './sql-source.js';
import { copyTree, fragmentSql, parsesTo, statementSql } from './sql-tree.js';

type Obj = Record<string, unknown>;
const tree = (sql: string): { type: string; body: Obj } => {
  const stmt = parseSync(sql).stmts?.[0]?.stmt as unknown as Record<string, Obj>;
  const type = Object.keys(stmt)[0] ?? '';
  return { type, body: stmt[type] ?? {} };
};

beforeAll(() => loadSqlParser());

describe('statements printed from their parse tree', () => {
  it.each([
    ['CREATE INDEX "Post_authorId_idx" ON "app"."Post"("authorId") WHERE "deletedAt" IS NULL'],
    [`ALTER TABLE "Üser" ADD COLUMN "tags" TEXT[] DEFAULT ARRAY['x', 'y']::TEXT[]`],
    [`ALTER TABLE "Post" ADD CONSTRAINT "fk" FOREIGN KEY ("a", "b") REFERENCES "U"("x", "y") ON DELETE SET NULL`],
  ])('%s prints back to the same tree', (sql) => {
    const { type, body } = tree(sql);
    const printed = statementSql(type, body);
    expect(printed).toBeDefined();
    expect(parsesTo(printed ?? '', type, body)).toBe(true);
  });

  it('a changed flag is printed, and a comment in the original cannot swallow it', () => {
    const { type, body } = tree('CREATE INDEX "i" ON "T" ("c") -- why\n');
    expect(statementSql(type, { ...copyTree(body), concurrent: true })).toBe('CREATE INDEX CONCURRENTLY i ON "T" (c)');
  });

  it('refuses a print that does not parse back to the tree (pgsql-deparser lowercases the index of USING INDEX)', () => {
    const { type, body } = tree('ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key"');
    expect(statementSql(type, body)).toBeUndefined();
    expect(parsesTo('ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX "User_email_key"', type, body)).toBe(true);
    expect(parsesTo('ALTER TABLE "User" ADD CONSTRAINT "User_email_key" UNIQUE USING INDEX user_email_key', type, body)).toBe(false);
  });

  it('prints fragments: a type and an expression', () => {
    const { body } = tree('ALTER TABLE "T" ADD COLUMN "c" VARCHAR(20)[] DEFAULT \'x\'');
    const column = ((body['cmds'] as Obj[])[0]?.['AlterTableCmd'] as Obj)['def'] as { ColumnDef: { typeName: Obj; constraints: { Constraint: { raw_expr: Obj } }[] } };
    expect(fragmentSql({ TypeName: column.ColumnDef.typeName })).toBe('varchar(20)[]');
    expect(fragmentSql(column.ColumnDef.constraints[0]?.Constraint.raw_expr ?? {})).toBe(`'x'`);
  });
});
