// The connectors seam: Debezium connector definitions and the Kafka Connect REST client.
export { ConnectClient, ConnectError } from './connect-client.ts';
export type { ApplyOutcome, ConnectorStatus } from './connect-client.ts';
export { postgresConnector, mysqlConnector, columnExcludeList, HEARTBEAT_TABLE } from './connector-config.ts';
export type {
  ConnectorDefinition,
  MysqlConnectorOptions,
  PostgresConnectorOptions,
} from './connector-config.ts';
export { prepareMysqlSource, preparePostgresSource } from './prepare-source.ts';
