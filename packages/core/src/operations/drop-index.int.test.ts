import { dropIndex } from './drop-index.js';
import { describeOperation } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('dropIndex', [
  {
    name: 'drops concurrently and rebuilds the same definition on down',
    setup: `create table events (id int primary key, kind text, at timestamptz);
            create index "events_kind_at_idx" on events (kind, at desc) where kind is not null;
            insert into events select g, 'k' || (g % 4), now() from generate_series(1, 1000) g`,
    step: step(dropIndex, { name: 'events_kind_at_idx' }),
  },
]);
