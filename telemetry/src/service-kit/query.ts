import type { Request } from 'express';
import { invalidParameter } from './problem';

export interface QueryParamRule {
  /** What a whole value must match, e.g. /^[A-Za-z0-9_-]+$/. */
  pattern: RegExp;
  /** Shown in the error, e.g. "letters, digits, '_' and '-'". */
  allowed: string;
  maxLength: number;
}

/**
 * The value of a query parameter that must appear at most once. Returns undefined
 * when absent; throws a 400 problem when it is repeated, empty, too long or has
 * characters outside the rule. The offending value is never echoed back.
 */
export function optionalQueryParam(req: Request, name: string, rule: QueryParamRule): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidParameter(name, `'${name}' must be given once`);
  if (value.length === 0) throw invalidParameter(name, `'${name}' must not be empty`);
  if (value.length > rule.maxLength) {
    throw invalidParameter(name, `'${name}' must be at most ${rule.maxLength} characters`);
  }
  if (!rule.pattern.test(value)) throw invalidParameter(name, `'${name}' may only contain ${rule.allowed}`);
  return value;
}

/** Like optionalQueryParam, but absence is also a 400. */
export function requiredQueryParam(req: Request, name: string, rule: QueryParamRule): string {
  const value = optionalQueryParam(req, name, rule);
  if (value === undefined) throw invalidParameter(name, `'${name}' is required`);
  return value;
}
