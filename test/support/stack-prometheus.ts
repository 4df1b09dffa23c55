import path from 'node:path';
import { type PrometheusConfig, type PrometheusServer, startPrometheus } from './prometheus';
import type { Chain } from './service-process';
import { readYaml, STACK_DIR } from './stack';

/**
 * Debian's Prometheus running the stack's own scrape configuration
 * (stack/prometheus/prometheus.yml), with each `service:port` target rewritten
 * to the service started on loopback and a short scrape interval, so that rate
 * windows fill in seconds. Jobs whose targets do not run here (the collector)
 * are left out and listed.
 */

export const STACK_PROMETHEUS_YML = path.join(STACK_DIR, 'prometheus', 'prometheus.yml');

/** Jobs of the stack whose targets are not started by the tests. */
export const JOBS_NOT_RUN_HERE = new Set(['otel-collector']);

export interface StackPrometheus {
  prometheus: PrometheusServer;
  /** The jobs it scrapes. */
  jobs: string[];
}

export async function startStackPrometheus(chain: Chain, scrapeInterval = '1s'): Promise<StackPrometheus> {
  const stack = readYaml<PrometheusConfig>(STACK_PROMETHEUS_YML);
  let jobs: string[] = [];
  const prometheus = await startPrometheus((port) => {
    const local: Record<string, string> = {
      'die-service:8103': new URL(chain.dieService.url).host,
      'dice-roller:8104': new URL(chain.diceRoller.url).host,
      'frontend:8105': new URL(chain.frontend.url).host,
      'localhost:9090': `127.0.0.1:${port}`,
    };
    const scrapeConfigs = stack.scrape_configs
      .filter((job) => !JOBS_NOT_RUN_HERE.has(job.job_name))
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
