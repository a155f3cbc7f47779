// Native MySQL/MariaDB capture: consistent snapshot, then the row binary log, through the landing runner.
export { runMysqlCapture } from './capture.ts';
export type { MysqlCaptureEvents, MysqlCaptureOptions, MysqlCaptureResult } from './capture.ts';
export type { MysqlTableSelection } from './catalog.ts';
export { checkBinlogCapture, connectMysql, parseMysqlUrl, redactMysqlUrl } from './catalog.ts';
