/**
 * Variant 8 of the benchmark: the project's own services, with their own SDK
 * switched off (OTEL_SDK_DISABLED=true, so `@dice-roller/telemetry/register`
 * starts nothing) and the stock tracing of variants 4 and 7 (`tracing.ts`) started
 * instead. Loaded with `node --require` before the service's own preload.
 *
 * It is the yardstick for the project's own telemetry: the same code, the same
 * five spans per roll, but none of what the project adds to the SDK (its metric
 * reader, trace ids in logs, hooks, resource). NodeSDK obeys OTEL_SDK_DISABLED
 * too, so the variable is hidden from it while it starts (with `require`: an
 * `import` would run before the lines around it).
 */
const ownSdkDisabled = process.env.OTEL_SDK_DISABLED;
delete process.env.OTEL_SDK_DISABLED;
require('./tracing');
if (ownSdkDisabled !== undefined) process.env.OTEL_SDK_DISABLED = ownSdkDisabled;
