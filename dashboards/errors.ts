// The dashboards' own failures: bad options at start, and marts a panel needs but cannot find.
import { TributaryError } from '../errors/index.ts';

export class DashboardsError extends TributaryError {}
