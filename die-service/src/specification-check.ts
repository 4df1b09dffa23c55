import type { DieSpecification } from './die-specification';

/**
 * Whether a value is a specification as the contract defines it: faces a
 * non-empty array of integers, error_rate a number from 0 to 1. A caller checks
 * what die-service answered, so that an answer outside the contract (a bad deploy)
 * is refused at the door instead of failing somewhere inside the roll.
 */
export function isDieSpecification(value: unknown): value is DieSpecification {
  const { faces, error_rate: errorRate } = (typeof value === 'object' && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  return (
    Array.isArray(faces) &&
    faces.length > 0 &&
    faces.every((face) => Number.isSafeInteger(face)) &&
    typeof errorRate === 'number' &&
    errorRate >= 0 &&
    errorRate <= 1
  );
}
