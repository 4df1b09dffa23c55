/**
 * One measured run: a load child drives a chain's roll URL at a fixed concurrency
 * while the harness records, over exactly the measured window, the CPU time of
 * every process it started, the machine's total CPU time (so the share used by
 * processes outside the benchmark is known), each service's event-loop delay and,
 * at the end, its resident memory.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { trackProcess as track } from '../../test/support/service-process';
import type { Chain, VariantId } from './chains';
import type { LoadRequest, LoadResult } from './load';
import { machineCpu, processCpuSeconds, rssBytes } from './proc';

export interface ServiceSample {
  name: string;
  /** CPU cores this service kept busy on average during the run. */
  cpuCores: number;
  /** CPU milliseconds this service spent per completed roll. */
  cpuMsPerRoll: number;
  /**
   * p99 event-loop delay over the run, milliseconds: how late the event loop ran a
   * timer due every 10 ms (the 10 ms themselves taken off).
   */
  lagP99Ms: number | undefined;
  rssMiB: number | undefined;
}

export interface RunRecord {
  scenario: 'throughput' | 'users' | 'rate';
  variant: VariantId;
  connections: number;
  round: number;
  load: LoadResult;
  services: ServiceSample[];
  /** CPU cores the load generator kept busy (its own measurement of the measured run). */
  loadCpuCores: number;
  /** CPU cores the harness kept busy: the OTLP sink and the bookkeeping. */
  harnessCpuCores: number;
  /** CPU cores the whole machine kept busy. */
  machineBusyCores: number;
  /** CPU cores used by processes the benchmark did not start: the noise. */
  foreignCpuCores: number;
  /** The measured window on the monotonic clock, microseconds (to cut CPU profiles to it). */
  windowUs: { startUs: number; endUs: number };
}

export interface RunOptions {
  chain: Chain;
  scenario: RunRecord['scenario'];
  connections: number;
  /** Open loop at this many requests per second (`connections` caps the pool); undefined: closed loop. */
  ratePerSecond?: number;
  round: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** Every process the benchmark runs besides the chain under test (other chains). */
  otherPids: () => number[];
}

type Message = { type: 'ready' } | { type: 'done'; result: LoadResult };

/**
 * Both prom-client (the project) and the yardsticks sample the event loop with
 * monitorEventLoopDelay at its default resolution: a timer every 10 ms, whose
 * recorded delay includes those 10 ms.
 */
const LAG_SAMPLING_INTERVAL_MS = 10;

function cpuOf(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (processCpuSeconds(pid) ?? 0), 0);
}

export async function measureRun(options: RunOptions): Promise<RunRecord> {
  const { chain } = options;
  const request: LoadRequest = {
    url: chain.rollUrl,
    connections: options.connections,
    ...(options.ratePerSecond === undefined ? {} : { ratePerSecond: options.ratePerSecond }),
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
    timeoutSeconds: 10,
  };
  const child = fork(path.join(__dirname, 'load.js'), [JSON.stringify(request)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(child);
  const childPid = child.pid ?? -1;
  const servicePids = chain.services.map((service) => service.process.pid);

  interface Snapshot {
    at: bigint;
    services: number[];
    others: number;
    loadChild: number;
    harness: number;
    machine: number;
  }
  const snapshot = (): Snapshot => {
    const harness = process.cpuUsage();
    return {
      at: process.hrtime.bigint(),
      services: servicePids.map((pid) => processCpuSeconds(pid) ?? 0),
      others: cpuOf(options.otherPids()),
      loadChild: processCpuSeconds(childPid) ?? 0,
      harness: (harness.user + harness.system) / 1e6,
      machine: machineCpu().busySeconds,
    };
  };

  let before: Snapshot | undefined;
  const { result, after } = await new Promise<{ result: LoadResult; after: Snapshot }>((resolve, reject) => {
    child.on('message', (message: Message) => {
      if (message.type === 'ready') {
        // A new event-loop delay window for each service, then the measured run.
        void Promise.all(chain.services.map((service) => service.readLagP99())).then(() => {
          before = snapshot();
          child.send({ type: 'go' });
        });
      } else if (message.type === 'done') {
        resolve({ result: message.result, after: snapshot() });
      }
    });
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code} before reporting`)));
  });
  const lags = await Promise.all(chain.services.map((service) => service.readLagP99()));
  if (before === undefined) throw new Error('the load generator reported before it started');

  const wall = Number(after.at - before.at) / 1e9;
  const serviceCpu = after.services.map((cpu, index) => cpu - (before?.services[index] ?? 0));
  const loadChildCpu = after.loadChild - before.loadChild;
  const harnessCpu = after.harness - before.harness;
  const othersCpu = after.others - before.others;
  const machineBusy = after.machine - before.machine;
  const ownCpu = serviceCpu.reduce((a, b) => a + b, 0) + loadChildCpu + harnessCpu + othersCpu;
  const rolls = Math.max(1, result.completed);

  return {
    scenario: options.scenario,
    variant: chain.variant,
    connections: options.connections,
    round: options.round,
    load: result,
    services: chain.services.map((service, index) => {
      const rss = rssBytes(service.process.pid);
      const lag = lags[index];
      return {
        name: service.name,
        cpuCores: (serviceCpu[index] ?? 0) / wall,
        cpuMsPerRoll: ((serviceCpu[index] ?? 0) * 1000) / rolls,
        lagP99Ms: lag === undefined ? undefined : Math.max(0, lag * 1000 - LAG_SAMPLING_INTERVAL_MS),
        rssMiB: rss === undefined ? undefined : rss / 1024 ** 2,
      };
    }),
    loadCpuCores: result.cpuSeconds / result.wallSeconds,
    harnessCpuCores: harnessCpu / wall,
    machineBusyCores: machineBusy / wall,
    foreignCpuCores: Math.max(0, machineBusy - ownCpu) / wall,
    windowUs: { startUs: Number(before.at / 1000n), endUs: Number(after.at / 1000n) },
  };
}
