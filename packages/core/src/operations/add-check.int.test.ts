import { addCheck } from './add-check.js';
import { expect } from '@jest/globals';
import { describeOperation, exec } from './fixtures/operation-harness.js';
import { step } from './operation.js';

describeOperation('addCheck', [
  {
    name: 'adds NOT VALID then validates',
    setup: `create table ratings (id int primary key, score int); insert into ratings select g, g % 6 from generate_series(1, 1000) g`,
    step: step(addCheck, { table: 'ratings', name: 'ratings_score_range', expression: `"score" BETWEEN 0 AND 5` }),
  },
  {
    name: 'with up, old code that writes violating rows keeps working until contract; existing violations repaired',
    setup: `create table "Review" (id int primary key, stars int); insert into "Review" select g, g % 8 from generate_series(1, 1000) g`,
    step: step(addCheck, { table: 'Review', name: 'Review_stars_range', expression: `"stars" BETWEEN 1 AND 5`, column: 'stars', up: 'least(greatest(stars, 1), 5)' }),
    contract: true,
    afterUp: async (url) => {
      await exec(url, `insert into "Review" values (9001, 9)`);
      await exec(url, `update "Review" set stars = 0 where id = 1`);
      expect((await exec(url, `select id, stars from "Review" where id in (1, 7, 9001) order by id`)).rows).toEqual([
        { id: 1, stars: 1 },
        { id: 7, stars: 5 },
        { id: 9001, stars: 5 },
      ]);
    },
    afterContract: async (url) => {
      await expect(exec(url, `insert into "Review" values (9002, 9)`)).rejects.toThrow(/"Review_stars_range"/);
    },
  },
]);
