import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRebalance } from './rebalance.ts';

// kafkajs' typings declare less than its constructors take: the broker's error code and type, and
// the retrier's `cause` (its runtime signature is `(error, { cause })`).
const protocolError = (type: string, code: number) =>
  new KafkaJSProtocolError(Object.assign(new Error(type), { type, code, retriable: false }));
const RetrierError = KafkaJSNonRetriableError as unknown as new (
  error: Error,
  options: { cause: Error },
) => Error;
const gaveUp = (error: Error) => new RetrierError(error, { cause: error });

describe('a group-membership error', () => {
  it('is recognised as kafkajs raises it, and wrapped by its retrier (a commit after the session expired)', () => {
    const unknownMember = protocolError('UNKNOWN_MEMBER_ID', 25);
    expect(isRebalance(unknownMember)).toBe(true);
    expect(isRebalance(gaveUp(unknownMember))).toBe(true);
    expect(isRebalance(protocolError('REBALANCE_IN_PROGRESS', 27))).toBe(true);
  });

  it('is not any other failure', () => {
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', 29);
    expect(isRebalance(denied)).toBe(false);
    expect(isRebalance(gaveUp(denied))).toBe(false);
    expect(isRebalance(new Error('socket hang up'))).toBe(false);
    expect(isRebalance(undefined)).toBe(false);
  });
});
