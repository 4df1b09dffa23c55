import type { QueryParamRule } from '@dice-roller/telemetry';

/** The rule for die identifiers, shared by the spec file and every service's query parameters. */
export const DIE_IDENTIFIER_RULE: QueryParamRule = {
  pattern: /^[A-Za-z0-9_-]+$/,
  allowed: "letters, digits, '_' and '-'",
  maxLength: 64,
};

export function isDieIdentifier(value: string): boolean {
  return value.length > 0 && value.length <= DIE_IDENTIFIER_RULE.maxLength && DIE_IDENTIFIER_RULE.pattern.test(value);
}
