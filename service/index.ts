// The service seam: `tributary run`'s roles, its HTTP endpoints and its metrics.
export { ROLES, runService } from './service.ts';
export type { Role, ServiceOptions } from './service.ts';
export { ServiceMetrics } from './metrics.ts';
export { readiness, startServiceHttp } from './http.ts';
export type { ReadinessCheck, ServiceHttp } from './http.ts';
