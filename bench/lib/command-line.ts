/**
 * What the benchmark's entry points (`run.ts`, `traffic-gen-rate.ts`) share on
 * their command line: one kind of usage error, and one way to answer it.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Repeated `--<option> KEY=VALUE` arguments as an environment. */
export function environmentAssignments(option: string, assignments: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    assignments.map((assignment) => {
      const eq = assignment.indexOf('=');
      if (eq < 1) throw new UsageError(`--${option} takes KEY=VALUE (got "${assignment}")`);
      return [assignment.slice(0, eq), assignment.slice(eq + 1)];
    }),
  );
}

/**
 * This process's options, parsed by `parse`; undefined when they ask for --help,
 * which prints `usage`. A usage error (ours or node:util's parseArgs's) prints its
 * message and `usage`, and exits with 2.
 */
export function readCommandLine<T>(parse: (argv: string[]) => T | 'help', usage: string): T | undefined {
  let options: T | 'help';
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(error as Error).message}\n\n${usage}`);
      process.exit(2);
    }
    throw error;
  }
  if (options !== 'help') return options;
  process.stdout.write(usage);
  return undefined;
}
