/**
 * @dice-roller/telemetry: two parts, in two folders.
 * - otel/: the OpenTelemetry part a reader copies into their own service (start
 *   with otel/register.ts, the file node loads first).
 * - service-kit/: the small HTTP-service kit the three services share (the Express
 *   app, the one error path, the upstream client, configuration, lifecycle).
 */
export * from './otel';
export * from './service-kit';
