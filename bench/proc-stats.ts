/** Memory and CPU of other processes, from /proc (Linux), for benchmarks. */
import fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

export function rssMiB(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return line ? Number(line[1]) / 1024 : NaN;
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Direct children of `parent` whose command name starts with `name` (e.g. the dev server `temporal`). */
export function childPids(parent: number, name: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === parent && comm.startsWith(name);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

export interface Usage {
  /** Highest RSS seen while sampling. */
  peakRssMiB: number;
  cpuSeconds: number;
  /** CPU seconds per wall second: 1.0 is one core busy all the time. */
  cores: number;
}

/** Samples a process's RSS every 100 ms until `stop()`, which also gives the CPU it used meanwhile. */
export function sampleUsage(pid: number): { stop(): Usage } {
  const began = Date.now();
  const cpuBefore = cpuSeconds(pid);
  let peak = rssMiB(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssMiB(pid));
      const cpu = cpuSeconds(pid) - cpuBefore;
      return { peakRssMiB: peak, cpuSeconds: cpu, cores: cpu / ((Date.now() - began) / 1000) };
    },
  };
}
