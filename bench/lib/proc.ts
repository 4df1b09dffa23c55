/**
 * Readings from Linux's /proc: CPU time and resident memory of a process, and the
 * whole machine's CPU time, so a run can say who used the CPU while it ran.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc's CPU counters (`getconf CLK_TCK`, 100 on Linux). */
const CLOCK_TICKS = 100;

/** User plus system CPU seconds a process (all its threads) has used, or undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

export interface MachineCpu {
  /** CPU seconds spent not idle, over all cores. */
  busySeconds: number;
  totalSeconds: number;
}

/** The machine's CPU counters since boot (first line of /proc/stat). */
export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  // idle and iowait are the 4th and 5th counters.
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busySeconds: (total - idle) / CLOCK_TICKS, totalSeconds: total / CLOCK_TICKS };
}

/** The load average over 1, 5 and 15 minutes, as `uptime` prints it. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = (os.totalmem() / 1024 ** 3).toFixed(0);
  return `${cpus.length} x ${model}, ${memoryGiB} GiB RAM, ${os.type()} ${os.release()}, Node.js ${process.version}`;
}
