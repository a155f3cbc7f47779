// The `tributary` command: dispatches subcommands and turns every expected failure into one clear
// line on stderr and a non-zero exit code.
import { UsageError } from './args.ts';
import { captureCommand } from './commands/capture.ts';
import { demoCommand } from './commands/demo.ts';
import { isExpectedError } from './errors.ts';

interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  demo: demoCommand,
  capture: captureCommand,
};

const USAGE = `Usage: tributary <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Run "tributary <command> --help" for the options of a command.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`tributary: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command.run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof UsageError) {
    console.error(`tributary: ${error.message}\n\n${error.usage}`);
    process.exitCode = 2;
  } else if (isExpectedError(error)) {
    console.error(`tributary: ${(error as Error).message}`);
    process.exitCode = 1;
  } else {
    console.error('tributary: unexpected failure:', error);
    process.exitCode = 1;
  }
}
