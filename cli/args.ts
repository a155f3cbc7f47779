// Command-line parsing: node's parseArgs in strict mode, with errors that print the usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

export interface CommandSpec<Options extends NonNullable<ParseArgsConfig['options']>> {
  usage: string;
  options: Options;
}

export function parseCommandArgs<Options extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  spec: CommandSpec<Options>,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message, spec.usage);
  }
}

/** A whole number from a flag, or a usage error naming the flag. */
export function intFlag(name: string, value: string | undefined, fallback: number, usage: string): number {
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got "${value}"`, usage);
  return Number(value);
}
