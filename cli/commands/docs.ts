// `tributary docs`: writes the data dictionary of a warehouse (HTML and Markdown) for analysts.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readDataDictionary, renderHtml, renderMarkdown } from '../../catalog/index.ts';
import { openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary docs --warehouse DIR|http(s)://URL --out DIR [--source PACK=PREFIX …]

Writes DIR/index.html and DIR/data-dictionary.md: every table and view of the warehouse with its
columns, types and comments (the metric definitions), its rows, when data last landed in it, and
what it is computed from (mart ← facts ← mirrors ← source table).

Options:
  --source PACK=PREFIX   the mirror prefix a pack was captured under, when not the pack's name`;

const spec = {
  usage,
  options: {
    warehouse: { type: 'string' },
    out: { type: 'string' },
    source: { type: 'string', multiple: true },
  },
} as const;

export const docsCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    if (values.out === undefined) throw new UsageError('--out is required', usage);
    const sources: Record<string, string> = {};
    for (const entry of values.source ?? []) {
      const match = /^([A-Za-z0-9_]+)=([A-Za-z0-9_]+)$/.exec(entry);
      if (!match?.[1] || !match[2])
        throw new UsageError(`--source must be PACK=PREFIX, not "${entry}"`, usage);
      sources[match[1]] = match[2];
    }
    const out = resolve(values.out);
    const warehouse = await openWarehouse(parseWarehouseTarget(values.warehouse));
    try {
      const dictionary = await readDataDictionary(warehouse, { sources });
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'index.html'), renderHtml(dictionary));
      await writeFile(join(out, 'data-dictionary.md'), renderMarkdown(dictionary));
      console.error(
        `wrote ${dictionary.tables.length} tables to ${join(out, 'index.html')} and data-dictionary.md`,
      );
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};
