import { addCheck } from './add-check.js';
import { describeOperation } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('addCheck', [
  {
    name: 'adds NOT VALID then validates',
    setup: `create table ratings (id int primary key, score int); insert into ratings select g, g % 6 from generate_series(1, 1000) g`,
    step: step(addCheck, { table: 'ratings', name: 'ratings_score_range', expression: `"score" BETWEEN 0 AND 5` }),
  },
]);
