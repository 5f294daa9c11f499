/**
 * For every operation that adds a rule and takes `up`: an old-code writer that knows nothing of the rule
 * keeps inserting and updating rows that break it during the whole expand phase, without a single error;
 * after contract the rule holds for every row and is enforced on every writer.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { withClient } from '../db/with-client.js';
import { contractStep, definePhase, definePlan, schemaStep } from '../phases/define-plan.js';
import { PhaseRunner } from '../phases/phase-runner.js';
import { addCheck } from './add-check.js';
import { addColumn } from './add-column.js';
import { addForeignKey } from './add-foreign-key.js';
import { addUnique } from './add-unique.js';
import { applySetupMigration, exec } from './fixtures/operation-harness.js';
import { step, type OperationStep } from './operation.js';
import { setNotNull } from './set-not-null.js';

const db = useTestDatabase();

const CASES: readonly { name: string; operation: OperationStep; oldWrites: readonly string[]; broken: string; refusedAfter: string }[] = [
  {
    name: 'addColumn up',
    operation: step(addColumn, { table: 'item', column: 'label', type: 'TEXT', nullable: false, up: `'item ' || id` }),
    oldWrites: [`insert into item (id, qty, shop, note) values ($1, 1, 1, 'x')`, `update item set qty = qty + 1 where id = $1`],
    broken: `label is null`,
    refusedAfter: `insert into item (id, qty, shop, note) values (999999, 1, 1, 'x')`,
  },
  {
    name: 'setNotNull up',
    operation: step(setNotNull, { table: 'item', column: 'note', up: `'none'` }),
    oldWrites: [`insert into item (id, qty, shop, note) values ($1, 1, 1, null)`, `update item set note = null where id = $1`],
    broken: `note is null`,
    refusedAfter: `insert into item (id, qty, shop, note) values (999999, 1, 1, null)`,
  },
  {
    name: 'addCheck up',
    operation: step(addCheck, { table: 'item', name: 'item_qty_positive', expression: 'qty > 0', column: 'qty', up: '1' }),
    oldWrites: [`insert into item (id, qty, shop, note) values ($1, -5, 1, 'x')`, `update item set qty = 0 where id = $1`],
    broken: `not (qty > 0)`,
    refusedAfter: `insert into item (id, qty, shop, note) values (999999, -1, 1, 'x')`,
  },
  {
    name: 'addUnique up',
    operation: step(addUnique, { table: 'item', columns: ['note'], constraint: false, column: 'note', up: `note || '#' || id` }),
    oldWrites: [`insert into item (id, qty, shop, note) values ($1, 1, 1, 'n')`, `update item set note = 'n', qty = 2 where id = $1`],
    broken: `exists (select 1 from item o where o.note = item.note and o.id <> item.id)`,
    refusedAfter: `insert into item (id, qty, shop, note) values (999999, 1, 1, 'n')`,
  },
  {
    name: 'addForeignKey up',
    operation: step(addForeignKey, { table: 'item', columns: ['shop'], references: { table: 'shop', columns: ['id'] }, up: '1' }),
    oldWrites: [`insert into item (id, qty, shop, note) values ($1, 1, 404, 'x')`, `update item set shop = 405 where id = $1`],
    broken: `not exists (select 1 from shop s where s.id = item.shop)`,
    refusedAfter: `insert into item (id, qty, shop, note) values (999999, 1, 404, 'x')`,
  },
];

describe('old code keeps writing, without an error, while a rule is added with up', () => {
  for (const [n, testCase] of CASES.entries()) {
    it(`${testCase.name}: no write fails during expand; the rule holds for every row after contract`, async () => {
      await exec(db.url, `drop table if exists item; drop table if exists shop`);
      const dir = path.join(mkdtempSync(path.join(tmpdir(), 'evolve-oldcode-')), 'migrations');
      await applySetupMigration(
        db.url,
        dir,
        `2030070${n}000000_setup`,
        `create table shop (id int primary key); insert into shop values (1), (2);
         create table item (id int primary key, qty int, shop int, note text);
         insert into item select g, (g % 7) - 2, 1 + g % 3, case when g % 5 = 0 then null else 'n' end from generate_series(1, 20000) g`,
      );
      const plan = definePlan({
        name: `oldcode${n}`,
        migrationsDir: dir,
        migrationPrefix: `2030071${n}000000`,
        phases: [
          definePhase({ name: `expand${n}`, steps: [schemaStep('rule', testCase.operation)] }),
          definePhase({ name: `contract${n}`, kind: 'contract', dependsOn: [`expand${n}`], steps: [contractStep('rule', testCase.operation)] }),
        ],
      });
      let writing = true;
      let writes = 0;
      const errors: string[] = [];
      const writer = withClient(db.url, async (client) => {
        for (let id = 100000; writing; id += 1) {
          for (const sql of testCase.oldWrites) {
            try {
              await client.query(sql, [id]);
              writes += 1;
            } catch (error) {
              errors.push(error instanceof Error ? error.message : String(error));
            }
          }
        }
      });
      const runner = new PhaseRunner(plan, { databaseUrl: db.url, migrationsDir: dir });
      try {
        await runner.run(`expand${n}`);
      } finally {
        writing = false;
        await writer;
      }
      expect(errors).toEqual([]);
      expect(writes).toBeGreaterThan(0);
      await runner.run(`contract${n}`);
      expect((await runner.verify(`contract${n}`)).filter((c) => !c.ok)).toEqual([]);
      expect((await runner.verify(`expand${n}`)).filter((c) => !c.ok)).toEqual([]);
      expect((await exec(db.url, `select count(*)::int as n from item where ${testCase.broken}`)).rows).toEqual([{ n: 0 }]);
      await expect(exec(db.url, testCase.refusedAfter)).rejects.toThrow();
    });
  }
});
