import { type Problem, ProblemType } from '@dice-roller/telemetry';

/** The answer for a die die-service does not know: 404 with the dice it does know. */
export function unknownDie(identifier: string, available: readonly string[]): Problem {
  return {
    type: ProblemType.unknownDie,
    title: 'Unknown die',
    status: 404,
    detail: `Die '${identifier}' not found`,
    available,
  };
}
