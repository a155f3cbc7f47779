// The dashboards' settings from the environment: the access token, when not given as a flag.
export function dashboardsToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.TRIBUTARY_DASHBOARDS_TOKEN;
  return value === undefined || value === '' ? undefined : value;
}
