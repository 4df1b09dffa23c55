/**
 * The file each service loads before its own code: `node --require
 * @dice-roller/telemetry/register dist/server.js`. Instrumentation patches modules
 * as they are first required, so the SDK must run before http, pino or undici
 * are loaded. CommonJS with --require guarantees that order without ESM loader hooks.
 */
import { getBooleanFromEnv } from '@opentelemetry/core';
import { setActiveSdk } from './sdk-handle';
import { serviceIdentity } from './service-identity';

if (!getBooleanFromEnv('OTEL_SDK_DISABLED')) {
  // Loaded conditionally and synchronously: with OTEL_SDK_DISABLED=true nothing
  // of the SDK is loaded, and --require finishes before the app's first import.
  const { startTelemetrySdk } = require('./sdk') as typeof import('./sdk');
  setActiveSdk(startTelemetrySdk(serviceIdentity));

  if (process.env.OTEL_LOG_LEVEL === undefined) {
    // Required only now, after the pino instrumentation is in place.
    const { diag, DiagLogLevel } = require('@opentelemetry/api') as typeof import('@opentelemetry/api');
    const { RateLimitedDiagLogger } = require('./diag-logger') as typeof import('./diag-logger');
    const { logger } = require('./logger') as typeof import('./logger');
    diag.setLogger(new RateLimitedDiagLogger(logger), DiagLogLevel.WARN);
  }
}
