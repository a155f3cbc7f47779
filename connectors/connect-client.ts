// A typed client for the Kafka Connect REST API: what `tributary connectors` needs, with errors that
// say whether a retry can help (Connect answers 409 while its workers rebalance).
import { z } from 'zod';
import { TributaryError } from '../errors/index.ts';

export class ConnectError extends TributaryError {
  constructor(
    message: string,
    retriable: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, { retriable, cause: options?.cause });
  }
}

const taskStateSchema = z.object({
  id: z.number(),
  state: z.string(),
  worker_id: z.string(),
  trace: z.string().optional(),
});
export const connectorStatusSchema = z.object({
  name: z.string(),
  connector: z.object({ state: z.string(), worker_id: z.string(), trace: z.string().optional() }),
  tasks: z.array(taskStateSchema),
});
export type ConnectorStatus = z.infer<typeof connectorStatusSchema>;

const configSchema = z.record(z.string(), z.string());

export type ApplyOutcome = 'created' | 'updated' | 'unchanged';

export class ConnectClient {
  constructor(private readonly baseUrl: string) {}

  async connectors(): Promise<string[]> {
    return z.array(z.string()).parse(await this.request('GET', '/connectors'));
  }

  async config(name: string): Promise<Record<string, string> | undefined> {
    const body = await this.request(
      'GET',
      `/connectors/${encodeURIComponent(name)}/config`,
      undefined,
      [404],
    );
    return body === undefined ? undefined : configSchema.parse(body);
  }

  /** Creates the connector, updates it when its configuration differs, or leaves it alone. */
  async apply(name: string, config: Record<string, string>): Promise<ApplyOutcome> {
    const current = await this.config(name);
    const wanted = { ...config, name };
    if (current && sameConfig(current, wanted)) return 'unchanged';
    await this.request('PUT', `/connectors/${encodeURIComponent(name)}/config`, wanted);
    return current ? 'updated' : 'created';
  }

  async status(name: string): Promise<ConnectorStatus> {
    return connectorStatusSchema.parse(
      await this.request('GET', `/connectors/${encodeURIComponent(name)}/status`),
    );
  }

  async pause(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(name)}/pause`);
  }

  async resume(name: string): Promise<void> {
    await this.request('PUT', `/connectors/${encodeURIComponent(name)}/resume`);
  }

  async restart(name: string): Promise<void> {
    await this.request(
      'POST',
      `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`,
    );
  }

  async delete(name: string): Promise<void> {
    await this.request('DELETE', `/connectors/${encodeURIComponent(name)}`, undefined, [404]);
  }

  private async request(
    method: string,
    path: string,
    body?: unknown,
    absentOn: number[] = [],
  ): Promise<unknown> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ConnectError(
        `cannot reach Kafka Connect at ${this.baseUrl}: ${(error as Error).message}`,
        true,
        undefined,
        { cause: error },
      );
    }
    if (absentOn.includes(response.status)) return undefined;
    const text = await response.text();
    if (!response.ok) {
      const message = safeMessage(text) ?? response.statusText;
      throw new ConnectError(
        `Kafka Connect ${method} ${path} failed (${response.status}): ${message}`,
        response.status === 409 || response.status >= 500,
        response.status,
      );
    }
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
}

function safeMessage(text: string): string | undefined {
  try {
    return z.object({ message: z.string() }).parse(JSON.parse(text)).message;
  } catch {
    return text || undefined;
  }
}

function sameConfig(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}
