// The dashboards seam: the server the CLI and the service start, and the panel definitions the
// reports draw with.
export { startDashboards, buildDashboards, dashboardsOptionsSchema } from './server.ts';
export { DashboardsError } from './errors.ts';
export type { DashboardsOptions, RunningDashboards } from './server.ts';
export { PANELS, PALETTE, panelById, shiftDay } from './panels.ts';
export type { Panel, Column, Row, ChartOption, Unit } from './panels.ts';
export { filtersSchema, toQueryString } from './filters.ts';
export type { Filters, ResolvedFilters } from './filters.ts';
export { toCsv } from './csv.ts';
export { escapeHtml } from './html.ts';
