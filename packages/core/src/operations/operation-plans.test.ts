import { describe, expect, it } from '@jest/globals';
import type { CatalogSnapshot } from '../db/catalog-snapshot.js';
import { addForeignKey } from './add-foreign-key.js';
import { changeColumnType } from './change-column-type.js';
import { catalogOf } from './fixtures/catalog-fixture.js';
import { parseSpec } from './operation.js';
import { renameColumn } from './rename-column.js';

describe('operation plans refuse what they cannot undo', () => {
  it('does not rename or retype a primary key column', () => {
    const catalog = catalogOf({ User: ['id', 'name'] });
    expect(() => renameColumn.plan(parseSpec(renameColumn, { table: 'User', from: 'id', to: 'userId' }), catalog)).toThrow('primary key "User_pkey"');
    expect(() => changeColumnType.plan(parseSpec(changeColumnType, { table: 'User', column: 'id', type: 'BIGINT' }), catalog)).toThrow('primary key "User_pkey"');
  });

  it('does not delete orphans whose deletion would cascade into other tables', () => {
    const base = catalogOf({ Parent: ['id'], Child: ['id', 'parentId'], Grandchild: ['id', 'childId'] });
    const catalog: CatalogSnapshot = {
      ...base,
      tables: base.tables.map((t) =>
        t.name === 'Grandchild'
          ? { ...t, constraints: [...t.constraints, { name: 'Grandchild_childId_fkey', type: 'f', definition: '', validated: true, columns: ['childId'], referencedTable: '"public"."Child"', deleteAction: 'c' }] }
          : t,
      ),
    };
    const spec = parseSpec(addForeignKey, { table: 'Child', columns: ['parentId'], references: { table: 'Parent', columns: ['id'] }, orphans: 'delete' });
    expect(() => addForeignKey.plan(spec, catalog)).toThrow(`would cascade to "Grandchild"."Grandchild_childId_fkey"`);
    expect(addForeignKey.plan({ ...spec, orphans: 'set-null' }, catalog).expand.length).toBeGreaterThan(0);
  });

  it('adds the NOT VALID foreign key before cleaning orphans, and validates last', () => {
    const plan = addForeignKey.plan(
      parseSpec(addForeignKey, { table: 'Child', columns: ['parentId'], references: { table: 'Parent', columns: ['id'] }, orphans: 'set-null', index: false }),
      catalogOf({ Parent: ['id'], Child: ['id', 'parentId'] }),
    );
    expect(plan.expand.map((unit) => unit.name)).toEqual(['fk_Child_parentId_fkey', 'orphan_backup_Child_parentId_fkey', 'orphans_set-null_Child_parentId_fkey', 'fk_validate_Child_parentId_fkey']);
  });
});
