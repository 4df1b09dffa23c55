import path from 'node:path';
import type { CollectorPorts } from './collector';
import { type PrometheusConfig, type PrometheusServer, startPrometheus } from './prometheus';
import type { Chain } from './service-process';
import { readYaml, STACK_DIR } from './stack';

/**
 * The real Prometheus running the stack's own scrape configuration
 * (stack/prometheus/prometheus.yml), with each `service:port` target rewritten
 * to the process started on loopback and a short scrape interval, so that rate
 * windows fill in seconds. The collector's two jobs (its own metrics, the span
 * metrics) are kept when a collector runs, and left out otherwise.
 */

export const STACK_PROMETHEUS_YML = path.join(STACK_DIR, 'prometheus', 'prometheus.yml');

/** The shipped scrape configuration. */
export function stackPrometheusConfig(): PrometheusConfig {
  return readYaml<PrometheusConfig>(STACK_PROMETHEUS_YML);
}

/** The jobs that scrape the collector. */
export const COLLECTOR_JOBS = new Set(['otel-collector', 'span-metrics']);

export interface StackPrometheus {
  prometheus: PrometheusServer;
  /** The jobs it scrapes. */
  jobs: string[];
}

export async function startStackPrometheus(
  chain: Chain,
  scrapeInterval = '1s',
  collector?: CollectorPorts,
): Promise<StackPrometheus> {
  const stack = stackPrometheusConfig();
  let jobs: string[] = [];
  const prometheus = await startPrometheus((port) => {
    const local: Record<string, string> = {
      'die-service:8103': new URL(chain.dieService.url).host,
      'dice-roller:8104': new URL(chain.diceRoller.url).host,
      'frontend:8105': new URL(chain.frontend.url).host,
      'localhost:9090': `127.0.0.1:${port}`,
      ...(collector === undefined
        ? {}
        : {
            'otel-collector:8888': `127.0.0.1:${collector.telemetry}`,
            'otel-collector:8889': `127.0.0.1:${collector.spanMetrics}`,
          }),
    };
    const scrapeConfigs = stack.scrape_configs
      .filter((job) => collector !== undefined || !COLLECTOR_JOBS.has(job.job_name))
      .map((job) => ({
        ...job,
        static_configs: (job.static_configs ?? []).map((group) => ({
          ...group,
          targets: group.targets.map((target) => {
            const rewritten = local[target];
            if (rewritten === undefined) throw new Error(`job ${job.job_name}: no local target for ${target}`);
            return rewritten;
          }),
        })),
      }));
    jobs = scrapeConfigs.map((job) => job.job_name);
    return {
      ...stack,
      global: {
        ...stack.global,
        scrape_interval: scrapeInterval,
        scrape_timeout: scrapeInterval,
        evaluation_interval: scrapeInterval,
      },
      scrape_configs: scrapeConfigs,
    };
  });
  return { prometheus, jobs };
}
