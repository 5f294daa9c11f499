import { addUnique } from './add-unique.js';
import { describeOperation } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('addUnique', [
  {
    name: 'builds the unique index concurrently and attaches it as a constraint',
    setup: `create table users (id int primary key, email text); insert into users select g, 'u' || g || '@x.io' from generate_series(1, 2000) g`,
    step: step(addUnique, { table: 'users', columns: ['email'] }),
  },
  {
    name: 'keeps a unique index only (Prisma @@unique) over two columns',
    setup: `create table seats (id int primary key, room text, "No" int); insert into seats select g, 'r' || (g % 10), g from generate_series(1, 500) g`,
    step: step(addUnique, { table: 'seats', columns: ['room', 'No'], constraint: false }),
  },
]);
