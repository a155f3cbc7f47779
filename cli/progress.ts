// Progress display for long commands: redrawn bars on a terminal, a line every few seconds in logs.

export interface ProgressLine {
  label: string;
  /** 0…1, or undefined for an open-ended counter. */
  fraction?: number;
  detail: string;
}

export class ProgressDisplay {
  private lines = new Map<string, ProgressLine>();
  private drawnLines = 0;
  private lastPlainAt = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = stream.isTTY === true;
  }

  update(line: ProgressLine): void {
    this.lines.set(line.label, line);
    this.render(false);
  }

  /** Prints a message above the bars. */
  log(message: string): void {
    this.clear();
    this.stream.write(`${message}\n`);
    this.render(true);
  }

  finish(): void {
    this.render(true);
    this.drawnLines = 0;
  }

  private render(force: boolean): void {
    if (!this.tty) {
      if (!force && Date.now() - this.lastPlainAt < 2000) return;
      this.lastPlainAt = Date.now();
      for (const line of this.lines.values()) this.stream.write(`${line.label}: ${line.detail}\n`);
      return;
    }
    this.clear();
    for (const line of this.lines.values())
      this.stream.write(`${formatLine(line, this.stream.columns ?? 100)}\n`);
    this.drawnLines = this.lines.size;
  }

  private clear(): void {
    if (!this.tty || this.drawnLines === 0) return;
    this.stream.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }
}

function formatLine(line: ProgressLine, columns: number): string {
  const label = line.label.padEnd(10);
  if (line.fraction === undefined) return `${label} ${line.detail}`.slice(0, columns - 1);
  const width = 30;
  const filled = Math.round(Math.min(1, Math.max(0, line.fraction)) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  return `${label} ${bar} ${String(Math.round(line.fraction * 100)).padStart(3)}% ${line.detail}`.slice(
    0,
    columns - 1,
  );
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, index) =>
    Math.max(cell.length, ...rows.map((row) => (row[index] ?? '').length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, index) =>
        index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
      )
      .join('  ');
  return [format(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(format)].join(
    '\n',
  );
}
