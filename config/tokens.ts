// Access tokens from the environment, when not given as a flag (a flag would show in `ps`).
const nonEmpty = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

/** The dashboards' token. */
export function dashboardsToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nonEmpty(env.TRIBUTARY_DASHBOARDS_TOKEN);
}

/** The feature server's token. */
export function featureServerToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nonEmpty(env.TRIBUTARY_FEATURES_TOKEN);
}
