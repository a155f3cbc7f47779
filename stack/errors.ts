// The one error class of the local stack: a service that cannot be resolved, started or stopped.
import { TributaryError } from '../errors/index.ts';

export class StackError extends TributaryError {}
