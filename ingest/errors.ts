// Capture errors: a source that cannot be read or captured, with a message saying what to do.
import { TributaryError } from '../errors/index.ts';

export class CaptureError extends TributaryError {}
