import { describeOperation } from './fixtures/operation-harness.js';
import { step } from './operation.js';
import { rawSql } from './raw-sql.js';

describeOperation('rawSql', [
  {
    name: 'runs hand-written up and down, verified by a query',
    setup: `create table flags (id int primary key)`,
    step: step(rawSql, {
      name: 'flag_view',
      up: [`CREATE VIEW active_flags AS SELECT id FROM flags`, `COMMENT ON TABLE flags IS 'feature flags; see docs'`],
      down: [`DROP VIEW active_flags`, `COMMENT ON TABLE flags IS NULL`],
      lock: 'SHARE UPDATE EXCLUSIVE',
      verify: `select to_regclass('active_flags') is not null`,
    }),
  },
]);
