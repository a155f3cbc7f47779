// The reports seam: one function a command or a scheduled job calls, with its options schema.
export { runReport, reportOptionsSchema, ReportError } from './run-report.ts';
export type { ReportOptions, ReportResult, ReportSummary } from './run-report.ts';
export { renderChartSvg } from './render.ts';
export type { DeliveryOutcome } from './deliver.ts';
