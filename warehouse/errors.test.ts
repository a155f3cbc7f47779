import { describe, expect, it } from 'vitest';
import { isRetriableWarehouseFailure, WarehouseError } from './errors.ts';

describe('WarehouseError', () => {
  it.each([
    ["Code: 27. DB::Exception: Cannot parse input: expected '\"' before: 'x'", 27, true],
    ['Code: 41. DB::Exception: Cannot read DateTime: unexpected word', 41, true],
    ['Code: 60. DB::Exception: Unknown table expression identifier', 60, false],
    ['connect ECONNREFUSED 127.0.0.1:8123', undefined, false],
  ])('%s → code %s, refused data: %s', (message, code, refused) => {
    const error = new WarehouseError(`warehouse statement failed: ${message}`, { retriable: false });
    expect(error.clickhouseCode).toBe(code);
    expect(error.refusedData).toBe(refused);
  });

  it.each([
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' }), true],
    [
      new Error('Code: 243. DB::Exception: Cannot reserve 1.00 MiB, not enough space. (NOT_ENOUGH_SPACE)'),
      true,
    ],
    [new Error('Code: 74. DB::Exception: Cannot write to file: No space left on device'), true],
    [new Error('Code: 60. DB::Exception: Unknown table'), false],
  ])('%s is retriable: %s', (error, retriable) => {
    expect(isRetriableWarehouseFailure(error)).toBe(retriable);
  });
});
