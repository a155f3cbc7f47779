// Delivering a written report: a webhook (HTTP POST of a JSON summary with links) and e-mail over
// SMTP (nodemailer). Each is retried with doubling waits; every attempt is returned with its error,
// so the caller records it. Neither ever touches the report's files.
import nodemailer from 'nodemailer';
import { TributaryError } from '../errors/index.ts';

/** A delivery the receiver refused; retried like any other failed attempt, and recorded. */
export class DeliveryError extends TributaryError {}

export interface Attempt {
  ok: boolean;
  error?: string;
  /** ISO time of the attempt. */
  at: string;
}

export interface DeliveryOutcome {
  channel: 'webhook' | 'email';
  /** Where it went: the webhook URL, or the recipients (never a password). */
  target: string;
  delivered: boolean;
  attempts: Attempt[];
}

interface Retry {
  attempts: number;
  backoffMs: number;
}

async function withRetries(retry: Retry, send: () => Promise<void>): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let index = 0; index < retry.attempts; index++) {
    const at = new Date().toISOString();
    try {
      await send();
      attempts.push({ ok: true, at });
      return attempts;
    } catch (error) {
      attempts.push({ ok: false, at, error: (error as Error).message.split('\n')[0] });
      if (index + 1 < retry.attempts)
        await new Promise((resolve) => setTimeout(resolve, retry.backoffMs * 2 ** index));
    }
  }
  return attempts;
}

export async function deliverByWebhook(
  options: { url: string; retry: Retry },
  payload: unknown,
): Promise<DeliveryOutcome> {
  const body = JSON.stringify(payload);
  const attempts = await withRetries(options.retry, async () => {
    const response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok)
      throw new DeliveryError(`the webhook answered ${response.status} ${response.statusText}`);
  });
  return {
    channel: 'webhook',
    target: redact(options.url),
    delivered: attempts.at(-1)?.ok === true,
    attempts,
  };
}

export async function deliverByEmail(
  options: { smtpUrl: string; from: string; to: string[]; retry: Retry },
  message: { subject: string; html: string; attachments: { filename: string; content: string }[] },
): Promise<DeliveryOutcome> {
  const transport = nodemailer.createTransport(options.smtpUrl);
  try {
    const attempts = await withRetries(options.retry, async () => {
      await transport.sendMail({
        from: options.from,
        to: options.to,
        subject: message.subject,
        html: message.html,
        attachments: message.attachments,
      });
    });
    return {
      channel: 'email',
      target: options.to.join(', '),
      delivered: attempts.at(-1)?.ok === true,
      attempts,
    };
  } finally {
    transport.close();
  }
}

/** A URL without its password, for the delivery record. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
