import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Listening, listenSilently } from '../support/in-process';
import { type Chain, startChain } from '../support/service-process';

let blackHole: Listening;
let chain: Chain;

beforeAll(async () => {
  // Accepts TCP, reads the export request, never answers.
  blackHole = await listenSilently();
  // Generous call timeouts: this test is about the collector, not about how busy
  // the machine running it is.
  chain = await startChain({
    OTEL_EXPORTER_OTLP_ENDPOINT: blackHole.url,
    // Each export gives up after 3 s instead of 10 s, so several fail within the test.
    OTEL_EXPORTER_OTLP_TIMEOUT: '3000',
    // A small queue (2048 spans by default) overflows within one stuck export
    // however fast this machine rolls: the frontend makes two spans per roll.
    OTEL_BSP_MAX_QUEUE_SIZE: '256',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '128',
    ROLL_DELAY_MAX_MS: '0',
    DIE_SERVICE_TIMEOUT_MS: '10000',
    DICE_ROLLER_TIMEOUT_MS: '30000',
  });
});

afterAll(async () => {
  await chain?.stop();
  await blackHole?.close();
});

function residentMegabytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1]) / 1024;
}

async function rollMany(
  count: number,
  concurrency: number,
): Promise<{ statuses: Map<number, number>; latencies: number[] }> {
  const statuses = new Map<number, number>();
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const started = performance.now();
      const response = await fetch(`${chain.frontend.url}/roll?die=fair`);
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { statuses, latencies };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

describe('a collector that accepts connections and never answers', () => {
  it('leaves requests unaffected, memory bounded, the log quiet, and shutdown within 10 s', async () => {
    await rollMany(300, 10);
    const rssAfterWarmUp = chain.all.map((service) => residentMegabytes(service.pid));

    const { statuses, latencies } = await rollMany(2000, 10);
    expect([...statuses.entries()]).toEqual([[200, 2000]]);
    const rssAfterLoad = chain.all.map((service) => residentMegabytes(service.pid));
    console.log(
      `black-holed collector: 2000 rolls, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms;`,
      `RSS MB before/after: ${rssAfterWarmUp.map((mb, i) => `${chain.all[i]?.name} ${mb.toFixed(0)}/${rssAfterLoad[i]?.toFixed(0)}`).join(', ')}`,
    );
    // Spans wait in a bounded queue (OTEL_BSP_MAX_QUEUE_SIZE, 256 here) and are
    // dropped beyond it, which the SDK reports. V8 collects garbage lazily, so
    // RSS rises under load whatever the collector does; the bound is what matters.
    for (const rss of rssAfterLoad) expect(rss).toBeLessThan(450);
    // The SDK reports dropped spans once a failed export has freed the queue and
    // the next span ends, so keep a trickle of rolls going until it does.
    const droppedReported = chain.frontend.waitForLog((line) => /Dropped \d+ spans/.test(String(line.message)), 30_000);
    let reported = false;
    // A rejection (no report in 30 s) surfaces through the race below.
    droppedReported.then(
      () => {
        reported = true;
      },
      () => {},
    );
    while (!reported) {
      const trickle = await fetch(`${chain.frontend.url}/roll?die=fair`);
      expect(trickle.status).toBe(200);
      await Promise.race([droppedReported, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    expect((await droppedReported).level).toBe('WARNING');

    for (const service of chain.all) {
      const warnings = service.logs.filter((line) => line.component === 'opentelemetry-sdk');
      // One line per kind of SDK message per minute, however many batches failed.
      const kinds = warnings.map((line) => String(line.message).replace(/\d+/g, '#'));
      expect(new Set(kinds).size).toBe(kinds.length);
      expect(kinds.length).toBeLessThanOrEqual(3);
    }

    const stopping = chain.all.map(async (service) => {
      const started = performance.now();
      const exit = await service.stop(15_000);
      return { exit, seconds: (performance.now() - started) / 1000 };
    });
    for (const { exit, seconds } of await Promise.all(stopping)) {
      expect(exit.code).toBe(0);
      expect(seconds).toBeLessThan(10);
    }
  });
});
