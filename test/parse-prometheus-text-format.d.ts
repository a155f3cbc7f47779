// The Prometheus text parser the service test reads /metrics with ships without types.
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
