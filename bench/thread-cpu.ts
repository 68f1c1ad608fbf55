/**
 * Where a run's CPU went, split between its worker threads and everything
 * else in the process (the coordinator, V8's platform threads: compiler and
 * GC helpers). Linux only: the threads that outlive the run are read from
 * /proc/self/task/TID/schedstat before and after it, the process total from
 * getrusage, which keeps the time of threads that have ended; the workers,
 * gone when the pool is destroyed, are the difference.
 */
import fs from 'node:fs';

export interface CpuSplit {
  /** core-seconds of the worker threads */
  workers: number;
  /** core-seconds of every other thread of the process */
  others: number;
}

export interface CpuMark {
  threads: Map<string, number>;
  usage: NodeJS.CpuUsage;
}

function threadNs(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync('/proc/self/task');
  } catch {
    return out; // not Linux: no thread is read, so all of the process's CPU is counted as the workers'
  }
  for (const tid of tids) {
    try {
      out.set(tid, Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

export function cpuMark(): CpuMark {
  return { threads: threadNs(), usage: process.cpuUsage() };
}

/** The split between two marks taken around a run whose worker threads started after `before` and ended before `after`. */
export function cpuSplit(before: CpuMark, after: CpuMark): CpuSplit {
  const used = process.cpuUsage(before.usage);
  const total = (used.user + used.system) / 1e6;
  let others = 0;
  for (const [tid, ns] of after.threads) others += (ns - (before.threads.get(tid) ?? 0)) / 1e9;
  return { workers: Math.max(0, total - others), others };
}
