// The checks every pack's simulator makes of its options before writing anything.
import { TributaryError } from '../../errors/index.ts';
import type { SimulationOptions } from '../pack.ts';

export class SimulationOptionsError extends TributaryError {}

export function validateSimulationOptions(options: SimulationOptions): void {
  if (!Number.isInteger(options.users) || options.users < 0)
    throw new SimulationOptionsError(`users must be a whole number ≥ 0, got ${options.users}`);
  if (!Number.isInteger(options.days) || options.days < 1)
    throw new SimulationOptionsError(`days must be a whole number ≥ 1, got ${options.days}`);
  if (!Number.isFinite(options.seed))
    throw new SimulationOptionsError(`seed must be a finite number, got ${options.seed}`);
  if (options.endDate && Number.isNaN(options.endDate.getTime()))
    throw new SimulationOptionsError('endDate is not a valid date');
}
