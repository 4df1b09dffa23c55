import { ProblemError, ProblemType, requiredQueryParam } from '@dice-roller/telemetry';
import type { Request } from 'express';

/** The most rolls one `/roll-async` request may ask for. */
export const MAX_BATCH_SIZE = 20;

/** The checks every query parameter gets first: given once, not empty, short, digits only. */
const DIGITS = { pattern: /^\d+$/, allowed: 'digits', maxLength: 10 };

/** `times` as written by a client that means it: 1 to MAX_BATCH_SIZE, no sign, exponent or leading zero. */
function isBatchSize(value: string): boolean {
  return /^[1-9]\d?$/.test(value) && Number(value) <= MAX_BATCH_SIZE;
}

/** The `times` query parameter of a batch, or a 400 problem naming it. */
export function requiredBatchSize(req: Request): number {
  const value = requiredQueryParam(req, 'times', DIGITS);
  if (!isBatchSize(value)) {
    throw new ProblemError({
      type: ProblemType.invalidParameter,
      title: 'Invalid parameter',
      status: 400,
      detail: `'times' must be an integer from 1 to ${MAX_BATCH_SIZE}`,
      parameter: 'times',
    });
  }
  return Number(value);
}
