import { format } from 'node:util';
import { type Logger, readInteger, registry } from '@dice-roller/telemetry';
import type {
  Client,
  createEvaluationEvent as CreateEvaluationEvent,
  EvaluationContext,
  Hook,
  Logger as OpenFeatureLogger,
} from '@openfeature/server-sdk';
import { trace } from '@opentelemetry/api';
import client from 'prom-client';
import { FAULT_NAMES, FAULTS, type FaultName, type FaultService } from './faults';
import { type ActiveFault, flagFilePath } from './flag-file';
import { FlagFileWatcher } from './flag-file-watcher';

/**
 * OpenFeature and flagd's provider take a sixth of a second of CPU to load (the
 * provider brings its gRPC client along even to read a file). A service imports
 * this module with its handlers; they are loaded only when the lab starts, once
 * the service listens.
 */
function loadOpenFeature() {
  return {
    openFeature: require('@openfeature/server-sdk') as typeof import('@openfeature/server-sdk'),
    flagd: require('@openfeature/flagd-provider') as typeof import('@openfeature/flagd-provider'),
  };
}

/**
 * The semantic conventions' `feature_flag.evaluation` event
 * (https://opentelemetry.io/docs/specs/semconv/feature-flags/feature-flags-events/),
 * built by OpenFeature's own `createEvaluationEvent`, on the span where a fault
 * was evaluated switched on. OpenFeature's SpanEventHook
 * (@openfeature/open-telemetry-hooks) writes the same event for every evaluation,
 * "off" included, which would put one on nearly every span.
 */
function faultEvaluationEvent(createEvaluationEvent: typeof CreateEvaluationEvent): Hook {
  return {
    finally(hookContext, details) {
      if (details.value === 0) return;
      const span = trace.getActiveSpan();
      if (span?.isRecording() !== true) return;
      const { name, attributes } = createEvaluationEvent(hookContext, details);
      span.addEvent(name, attributes);
    },
  };
}

/**
 * OpenFeature and the flagd provider report through this logger. The flag file's
 * problems are the watcher's to report (one clear line each); what the provider
 * says about the same file stays at debug.
 */
function openFeatureLogger(logger: Logger): OpenFeatureLogger {
  const debug = (...args: unknown[]) => logger.debug({ component: 'openfeature' }, format(...args));
  return { error: debug, warn: debug, info: debug, debug };
}

function exposeFaultActive(service: FaultService, watcher: FlagFileWatcher): void {
  const faults = FAULT_NAMES.filter((fault) => FAULTS[fault].service === service);
  new client.Gauge({
    name: 'fault_active',
    help: 'Faults of the fault lab this service implements: 1 while switched on in the flag file, else 0.',
    labelNames: ['fault'] as const,
    registers: [registry],
    collect() {
      for (const fault of faults) this.set({ fault }, watcher.isActive(fault) ? 1 : 0);
    },
  });
}

let watcher: FlagFileWatcher | undefined;
let flags: Client | undefined;

/** The flag file this process reads, polled every FAULT_FLAGS_POLL_MS. Call after the service listens. */
export function watchFaultFlags(logger: Logger): FlagFileWatcher {
  if (watcher !== undefined) return watcher;
  const pollMs = readInteger('FAULT_FLAGS_POLL_MS', 1000, { min: 50, max: 60_000 });
  watcher = new FlagFileWatcher(flagFilePath(), logger, pollMs);
  watcher.start();
  return watcher;
}

/**
 * Starts the fault lab in a service that implements faults: OpenFeature with
 * flagd's provider evaluating the flag file in-process, the evaluation event on
 * spans, and `fault_active` on /metrics. Call once, after the service listens.
 */
export async function startFaultFlags(service: FaultService, logger: Logger): Promise<void> {
  const file = watchFaultFlags(logger);
  const { openFeature, flagd } = loadOpenFeature();
  const { OpenFeature } = openFeature;
  OpenFeature.setLogger(openFeatureLogger(logger));
  OpenFeature.addHooks(faultEvaluationEvent(openFeature.createEvaluationEvent));
  flags = OpenFeature.getClient('fault-lab');
  exposeFaultActive(service, file);
  const provider = () =>
    new flagd.FlagdProvider(
      { resolverType: 'in-process', offlineFlagSourcePath: file.file },
      openFeatureLogger(logger),
    );
  const setProvider = () =>
    OpenFeature.setProviderAndWait(provider()).catch((error: unknown) => {
      logger.error({ error: String(error) }, 'Fault flags: the flagd provider did not start; every fault stays off');
    });
  // flagd's file source gives up for good when its first reading fails: hand it
  // the file only once it reads well.
  if (file.hasGoodReading) {
    await setProvider();
  } else {
    let started = false;
    file.onChange(() => {
      if (started) return;
      started = true;
      void setProvider();
    });
  }
}

/** The faults the flag file switches on, as this process last read it (none if it does not watch it). */
export function faultsSwitchedOn(): readonly ActiveFault[] {
  return watcher?.activeFaults ?? [];
}

/**
 * What a fault's flag evaluates to here: 0 when it is off. A fault the file does
 * not switch on is answered without an evaluation, so a lab with every fault off
 * costs a request next to nothing.
 */
export async function faultValue(fault: FaultName, context?: EvaluationContext): Promise<number> {
  if (flags === undefined || watcher?.isActive(fault) !== true) return 0;
  return flags.getNumberValue(fault, 0, context);
}
