// `tributary dlq`: lists the dead letters and feeds them back to their topics after a fix.
import { DEAD_LETTER_TOPIC, replayDeadLetters } from '../../ingest/index.ts';
import { listDeadLetters, openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';
import { formatTable } from '../progress.ts';

const usage = `Usage: tributary dlq list --warehouse DIR|URL [--pipeline NAME] [--all] [--limit N]
       tributary dlq replay --warehouse DIR|URL --brokers HOST:PORT [--pipeline NAME] [--id ID ...]

list     shows the dead letters still waiting (with --all, the replayed ones too): where each came
         from and why it was set aside.
replay   sends the waiting dead letters (or the given ids) back to the topic they came from, byte
         for byte, and marks them replayed; run it once the cause is fixed. An event that fails
         again becomes a new dead letter. Dead letters of the native capture have no topic and are
         left as they are.`;

const spec = {
  usage,
  options: {
    warehouse: { type: 'string' },
    brokers: { type: 'string' },
    pipeline: { type: 'string' },
    id: { type: 'string', multiple: true },
    all: { type: 'boolean' },
    limit: { type: 'string' },
  },
} as const;

export const dlqCommand = {
  async run(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    const { values } = parseCommandArgs(rest, spec);
    if (values.help || action === '--help' || action === '-h') {
      console.log(usage);
      return 0;
    }
    if (action !== 'list' && action !== 'replay')
      throw new UsageError(action === undefined ? 'say list or replay' : `unknown action "${action}"`, usage);
    if (values.warehouse === undefined) throw new UsageError('--warehouse is required', usage);
    if (action === 'replay' && values.brokers === undefined)
      throw new UsageError('replay needs --brokers', usage);
    const warehouse = await openWarehouse(parseWarehouseTarget(values.warehouse));
    try {
      const filter = {
        pipeline: values.pipeline,
        ids: values.id,
        includeReplayed: values.all ?? false,
        limit: intFlag('limit', values.limit, 100, usage),
      };
      if (action === 'replay') {
        const { replayed, skipped, missing } = await replayDeadLetters(
          warehouse,
          (values.brokers ?? '').split(','),
          { ...filter, includeReplayed: false, limit: undefined },
        );
        console.log(
          `replayed ${replayed} dead letter(s)` +
            (skipped ? `; ${skipped} without a topic left as they are` : '') +
            (missing ? `; ${missing} no longer on ${DEAD_LETTER_TOPIC} (its retention passed)` : ''),
        );
        return 0;
      }
      const letters = await listDeadLetters(warehouse, filter);
      const rows = letters.map((letter) => [
        letter.id,
        letter.failed_at.slice(0, 19),
        letter.pipeline,
        letter.topic ? `${letter.topic}[${letter.partition}]@${letter.offset}` : '(capture)',
        letter.replayed_at ? 'replayed' : 'waiting',
        letter.error.replace(/\s+/g, ' ').slice(0, 100),
      ]);
      console.log(
        rows.length === 0
          ? 'no dead letters'
          : formatTable(['id', 'failed at', 'pipeline', 'from', 'state', 'error'], rows),
      );
      return 0;
    } finally {
      await warehouse.close();
    }
  },
};
