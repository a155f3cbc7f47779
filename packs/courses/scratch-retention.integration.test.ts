import { afterAll, beforeAll, expect, it } from 'vitest';
import { coursesWarehouse, SOURCE, type CoursesWarehouse } from '../../test/courses-warehouse.ts';
import { runTransforms } from '../../transforms/run.ts';
import { coursesPack } from './index.ts';

let data: CoursesWarehouse;
beforeAll(async () => {
  data = await coursesWarehouse({ users: 40, days: 12, seed: 11 });
}, 600_000);
afterAll(async () => data?.close());

const text = async () =>
  (await data.warehouse.queryBytes(`SELECT * EXCEPT (pack) FROM mart_retention WHERE pack = 'x' AND period < 4 AND grain = 'day' ORDER BY ALL`, 'TabSeparated', {})).toString('utf8');

it('retention after a no-change incremental run', async () => {
  const options = { warehouse: data.warehouse, source: SOURCE, pack: 'x', mapping: coursesPack.mapping(SOURCE), marts: coursesPack.marts };
  await runTransforms({ ...options, full: true });
  const before = await text();
  const run = await runTransforms(options);
  console.log('RUN', JSON.stringify(run));
  console.log('CORR', JSON.stringify(await data.warehouse.query(`SELECT * FROM _tributary_retention_corrections WHERE pack = 'x' LIMIT 5`)));
  expect(await text()).toEqual(before);
});
