/**
 * Summarises .cpuprofile files: where the CPU time of a service went.
 *
 *   node bench/dist/bench/profile-summary.js [--top N] [--inclusive REGEX]... FILE.cpuprofile...
 *
 * --inclusive adds the time of every stack passing through a function whose name
 * or file matches REGEX (for example 'pino', 'BatchSpanProcessor', 'observe').
 * --callers REGEX lists, instead, the heaviest call paths into matching functions.
 */
import { parseArgs } from 'node:util';
import { callersOf, formatSummary, summariseProfile } from './lib/cpu-profile';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    top: { type: 'string', default: '25' },
    inclusive: { type: 'string', multiple: true, default: [] },
    callers: { type: 'string' },
    depth: { type: 'string', default: '6' },
  },
});
if (positionals.length === 0) {
  console.error('usage: profile-summary.js [--top N] [--inclusive REGEX]... FILE.cpuprofile...');
  process.exit(2);
}
const patterns = values.inclusive.map((source) => new RegExp(source));
for (const file of positionals) {
  if (values.callers !== undefined) {
    console.log(`${file}: call paths into /${values.callers}/ (% of busy time)`);
    for (const share of callersOf(file, new RegExp(values.callers), Number(values.depth), Number(values.top))) {
      console.log(`  ${share.percent.toFixed(1).padStart(5)} %  ${share.ms.toFixed(0).padStart(7)} ms  ${share.name}`);
    }
  } else {
    console.log(formatSummary(summariseProfile(file, { patterns, limit: Number(values.top) })));
  }
  console.log();
}
