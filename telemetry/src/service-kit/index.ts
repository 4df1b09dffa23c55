// The small HTTP-service kit the three services share, built on the OpenTelemetry part.
export { ConfigError, readInteger, readLogLevel, readOptionalUrl, readPort, readString, readUrl } from './config';
export { type Problem, ProblemError, ProblemType } from './problem';
export { optionalQueryParam, type QueryParamRule, requiredQueryParam } from './query';
export { runServer } from './server-lifecycle';
export { recordServerTimingPart } from './server-timing';
export { createServiceApp, type ReadinessCheck, type ServiceInfo } from './service-app';
export { startService } from './start-service';
export {
  type CallMetrics,
  type CallOutcome,
  callMetricPair,
  UnexpectedUpstreamResponse,
  Upstream,
  UpstreamClient,
  type UpstreamClientOptions,
  UpstreamFailure,
  UpstreamProblem,
  type UpstreamResponse,
} from './upstream';
