// Settings of a MySQL/MariaDB capture (`tributary capture --source mysql://…`).
import { z } from 'zod';
import { captureSettings } from './index.ts';

export const mysqlUrlSchema = z.string({ error: 'is required' }).refine((value) => {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'mysql:' || url.protocol === 'mariadb:') &&
      url.hostname !== '' &&
      url.pathname.length > 1
    );
  } catch {
    return false;
  }
}, 'must be a URL like mysql://USER:PASSWORD@HOST:PORT/DATABASE');

export const mysqlCaptureConfigSchema = z.object({
  source: mysqlUrlSchema,
  tables: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('all') }),
    z.object({
      kind: z.literal('list'),
      tables: z.array(z.string().regex(/^[\w$]+(\.[\w$]+)?$/, 'must be database.table or table')).min(1),
    }),
  ]),
  ...captureSettings,
});
export type MysqlCaptureConfig = z.infer<typeof mysqlCaptureConfigSchema>;
