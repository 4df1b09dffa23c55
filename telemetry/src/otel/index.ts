// The OpenTelemetry part: what a service uses once register.ts has started the SDK.
export { RateLimitedDiagLogger } from './diag-logger';
export { createLogger, flushLogs, type Logger, logger } from './logger';
export {
  counter,
  gauge,
  histogram,
  KnownValues,
  LATENCY_BUCKETS,
  observeWithExemplar,
  registry,
} from './metrics';
export { shutdownTelemetry } from './sdk-handle';
export { serviceIdentity } from './service-identity';
export { requestSpan, sampledTraceId, withTraceId } from './spans';
