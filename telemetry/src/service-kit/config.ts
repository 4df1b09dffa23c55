/**
 * Reading configuration from environment variables, once, at start-up. Each reader
 * throws a ConfigError naming the variable, so a bad value stops the service with a
 * message that says what to fix instead of failing later on a request path.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function raw(name: string): string | undefined {
  const value = process.env[name]?.trim();
  return value === '' ? undefined : value;
}

export function readInteger(
  name: string,
  defaultValue: number,
  { min = 0, max = Number.MAX_SAFE_INTEGER } = {},
): number {
  const value = raw(name);
  if (value === undefined) return defaultValue;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max} (got "${value}")`);
  }
  return parsed;
}

export function readPort(name: string, defaultValue: number): number {
  return readInteger(name, defaultValue, { min: 0, max: 65_535 });
}

function parseHttpUrl(name: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL (got "${value}")`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${name} must be an http(s) URL (got "${value}")`);
  }
  // Credentials would be written to the start-up log; a query or fragment would be
  // silently dropped from every call.
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ConfigError(`${name} must be an http(s) URL without credentials, query or fragment`);
  }
  return url;
}

/** An upstream's base URL, as an origin plus optional path prefix, without a trailing slash. */
export function readUrl(name: string, defaultValue: string): string {
  return parseHttpUrl(name, raw(name) ?? defaultValue).href.replace(/\/$/, '');
}

export function readOptionalUrl(name: string): string | undefined {
  const value = raw(name);
  return value === undefined ? undefined : parseHttpUrl(name, value).href.replace(/\/$/, '');
}

export function readString(name: string, defaultValue: string): string {
  return raw(name) ?? defaultValue;
}

const LOG_LEVELS: Record<string, string> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
};

/** LOG_LEVEL accepts the contract's names (DEBUG, INFO, WARNING, ERROR) in any case. */
export function readLogLevel(): string {
  const value = raw('LOG_LEVEL') ?? 'info';
  const level = LOG_LEVELS[value.toLowerCase()];
  if (level === undefined) {
    throw new ConfigError(`LOG_LEVEL must be one of debug, info, warning, error (got "${value}")`);
  }
  return level;
}
