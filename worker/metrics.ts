import { Runtime, type MetricsExporterConfig } from '@temporalio/worker';
import type { EnvironmentEntities } from '../client/environment-entity';
import type { Config } from '../config/schema';
import { METRICS } from '../contract/metrics';
import { ENVIRONMENT_STATES } from '../contract/operation';

/** `address:port`, an IPv6 address in brackets. */
const socketAddress = ({ address, port }: { address: string; port: number }) =>
  `${address.includes(':') ? `[${address}]` : address}:${port}`;

type Endpoint = Pick<Config['metrics'], 'port' | 'address'>;

/** The worker's Prometheus exporter, when `metrics.port` is set: the SDK's metrics and the product's. */
export function metricsExporter(metrics: Endpoint): MetricsExporterConfig | undefined {
  if (metrics.port === undefined) return undefined;
  return { prometheus: { bindAddress: socketAddress({ address: metrics.address, port: metrics.port }) } };
}

/** Where the exporter listens, as banners and logs show it (the address it binds, not a guess). */
export function metricsUrl(metrics: Endpoint): string | undefined {
  if (metrics.port === undefined) return undefined;
  return `http://${socketAddress({ address: metrics.address, port: metrics.port })}/metrics`;
}

/**
 * Gauges of where each environment stands, read from its entity workflow (the one place that knows,
 * whichever worker ran the operation) every `intervalMs` (metrics.gaugeInterval):
 * `maintenance_environment_state{environment, state}` is 1 for the current state and 0 for the
 * others, `maintenance_environments{state}` counts the environments of temporal.yaml in each state,
 * `maintenance_environment_overdue{environment}` is 1 while one is in maintenance longer than
 * policies.maximumInMaintenance. Every worker that serves metrics exports the same values
 * (dashboards take `max`). Returns a function that stops the collector.
 */
export function collectEnvironmentStates(
  entities: EnvironmentEntities,
  environments: string[],
  { intervalMs, onError }: { intervalMs: number; onError?: (err: unknown) => void },
): () => void {
  const meter = Runtime.instance().metricMeter;
  const perEnvironment = meter.createGauge(
    METRICS.environmentState,
    'int',
    '',
    'Environment state from its entity workflow: 1 for the current state, 0 for the others',
  );
  const count = meter.createGauge(METRICS.environments, 'int', '', 'Environments in each state');
  const overdue = meter.createGauge(
    METRICS.environmentOverdue,
    'int',
    '',
    'Environment in maintenance longer than policies.maximumInMaintenance: 1, else 0',
  );
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const collect = async () => {
    const states = await Promise.all(
      environments.map(async (environment) => {
        const view = await entities.view(environment).catch((err: unknown) => void onError?.(err));
        return { environment, state: view?.state, overdue: !!view?.maintenance?.overdueSince };
      }),
    );
    if (stopped) return;
    for (const s of states) if (s.state) overdue.set(s.overdue ? 1 : 0, { environment: s.environment });
    for (const state of ENVIRONMENT_STATES) {
      count.set(states.filter((s) => s.state === state).length, { state });
      for (const s of states)
        if (s.state) perEnvironment.set(s.state === state ? 1 : 0, { environment: s.environment, state });
    }
  };
  const loop = () => {
    void collect().finally(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
