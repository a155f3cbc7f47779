// Errors that mean the consumer group moved on without this member: the partition's next owner
// rebuilds what was in flight, so they end a partition's work instead of the worker.

/** A group-membership error, also when kafkajs wraps it (its retrier gives up with the protocol error as `cause`). */
export function isRebalance(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { type, cause } = current as { type?: unknown; cause?: unknown };
    if (
      typeof type === 'string' &&
      ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID', 'NOT_COORDINATOR'].includes(type)
    )
      return true;
    current = cause;
  }
  return false;
}
