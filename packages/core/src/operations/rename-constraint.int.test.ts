import { describeOperation } from './fixtures/operation-harness.js';
import { step } from './operation.js';
import { renameConstraint } from './rename-constraint.js';

describeOperation('renameConstraint', [
  {
    name: 'renames a unique constraint (its index follows); down renames it back',
    setup: `create table "Tag" (id int primary key, label text, constraint "Tag_label_uniq" unique (label))`,
    step: step(renameConstraint, { table: 'Tag', from: 'Tag_label_uniq', to: 'Tag_label_key' }),
  },
  {
    name: 'refuses a name that is taken',
    setup: `create table dup (id int primary key, a int constraint dup_a_check check (a > 0), b int constraint dup_b_check check (b > 0))`,
    step: step(renameConstraint, { table: 'dup', from: 'dup_a_check', to: 'dup_b_check' }),
    refusal: /"dup_b_check" is taken/,
  },
  {
    name: 'quotes hostile identifiers',
    setup: `create table "T ""q" (id int primary key, v int constraint "odd ""name" check (v > 0))`,
    step: step(renameConstraint, { table: 'T "q', from: 'odd "name', to: 'even "name' }),
  },
]);
