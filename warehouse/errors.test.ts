import { describe, expect, it } from 'vitest';
import { WarehouseError } from './errors.ts';

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
});
