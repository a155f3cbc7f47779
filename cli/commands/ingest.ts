// `tributary ingest`: a worker of a Kafka consumer group landing change events in the warehouse.
import { z } from 'zod';
import { parseConfig, piiPolicyOptions } from '../../config/index.ts';
import { createPiiPolicy, runKafkaWorker } from '../../ingest/index.ts';
import { documentFieldsOf, getPack } from '../../packs/index.ts';
import { openWarehouse, parseWarehouseTarget } from '../../warehouse/index.ts';
import { intFlag, parseCommandArgs, UsageError } from '../args.ts';

const usage = `Usage: tributary ingest --brokers HOST:PORT[,HOST:PORT] --group NAME --topics 'REGEX'
                        --warehouse DIR|http(s)://URL [--until-idle SECONDS] [--keep-pii]
                        [--max-event-bytes N] [--pack NAME]

Consumes Debezium envelopes (from Debezium or from "tributary capture --to kafka") as one member of
the consumer group NAME, and lands them in the raw mirrors exactly once: offsets are committed only
after the warehouse accepted the batch. Events that cannot be decoded or stored go to the
tributary.dlq topic and the dead_letters table. Run several workers with one group to share the
partitions. Stops on SIGINT/SIGTERM after the batch in progress.

Options:
  --brokers LIST        Kafka bootstrap servers
  --group NAME          consumer group (and the name of its checkpoints in the warehouse)
  --topics REGEX        topics to consume, e.g. '^learning\\.'
  --warehouse DIR|URL   embedded ClickHouse directory, or a ClickHouse HTTP URL
  --until-idle SECONDS  exit 0 after this long without a message
  --keep-pii            store email/phone values of Debezium events as they are
  --max-event-bytes N   larger events go to the dead letters (default 4194304)
  --pack NAME           for Debezium MongoDB events: the pack declaring the collections' typed
                        fields (default learning)`;

const spec = {
  usage,
  options: {
    brokers: { type: 'string' },
    group: { type: 'string' },
    topics: { type: 'string' },
    warehouse: { type: 'string' },
    'until-idle': { type: 'string' },
    'keep-pii': { type: 'boolean' },
    'max-event-bytes': { type: 'string' },
    pack: { type: 'string' },
  },
} as const;

const ingestConfigSchema = z.object({
  brokers: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'must be HOST:PORT')).min(1),
  group: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must use only letters, digits, ".", "_" and "-"'),
  topics: z.string().transform((value, context) => {
    try {
      return new RegExp(value);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: `is not a valid regular expression: ${(error as Error).message}`,
      });
      return z.NEVER;
    }
  }),
  warehouse: z.string().min(1),
});

export const ingestCommand = {
  async run(argv: string[]): Promise<number> {
    const { values } = parseCommandArgs(argv, spec);
    if (values.help) {
      console.log(usage);
      return 0;
    }
    for (const required of ['brokers', 'group', 'topics', 'warehouse'] as const) {
      if (values[required] === undefined) throw new UsageError(`--${required} is required`, usage);
    }
    const config = parseConfig(ingestConfigSchema, {
      brokers: values.brokers?.split(',').map((broker) => broker.trim()),
      group: values.group,
      topics: values.topics,
      warehouse: values.warehouse,
    });
    const untilIdle =
      values['until-idle'] === undefined ? undefined : intFlag('until-idle', values['until-idle'], 0, usage);
    const warehouse = await openWarehouse(parseWarehouseTarget(config.warehouse));
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const result = await runKafkaWorker({
        brokers: config.brokers,
        group: config.group,
        topics: config.topics,
        warehouse,
        pii: createPiiPolicy(piiPolicyOptions(values['keep-pii'] ?? false)),
        untilIdleSeconds: untilIdle,
        documentFields: documentFieldsOf(getPack(values.pack ?? 'learning')),
        maxEventBytes: intFlag('max-event-bytes', values['max-event-bytes'], 4 * 1024 * 1024, usage),
        signal: stop.signal,
        events: {
          log: (message) => console.error(message),
          warn: (message) => console.error(`warning: ${message}`),
        },
      });
      console.error(`done: ${result.messages} messages, ${result.deadLetters} dead letters`);
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await warehouse.close();
    }
  },
};
