export { ConfigError, readInteger, readLogLevel, readOptionalUrl, readPort, readString, readUrl } from './config';
export { RateLimitedDiagLogger } from './diag-logger';
export { createLogger, flushLogs, type Logger, logger } from './logger';
export { LATENCY_BUCKETS, observeWithExemplar, registry } from './metrics';
export {
  methodNotAllowed,
  type Problem,
  ProblemError,
  ProblemType,
  sendProblem,
} from './problem';
export { optionalQueryParam, type QueryParamRule, requiredQueryParam } from './query';
export { currentTraceId, requestSpan, sampledTraceId } from './request-span';
export { shutdownTelemetry } from './sdk-handle';
export { runServer } from './server-lifecycle';
export {
  formatServerTiming,
  parseServerTiming,
  ServerTiming,
  type ServerTimingEntry,
  serverTiming,
  serverTimingHeader,
  serverTimingOf,
  traceResponseHeader,
} from './server-timing';
export { createServiceApp, type ReadinessCheck, type ServiceInfo } from './service-app';
export { serviceIdentity } from './service-identity';
export { startService } from './start-service';
export {
  UnexpectedUpstreamResponse,
  Upstream,
  UpstreamFailure,
  type UpstreamResponse,
} from './upstream';
export { type UpstreamProblem, upstreamProblem } from './upstream-problem';
