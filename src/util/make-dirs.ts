/**
 * `mkdir -p` that cannot spin. Node 20's `fs.mkdirSync(dir, { recursive:
 * true })` loops forever when a parent exists but refuses new entries with
 * ENOENT, as /proc does: `fuzz --corpus /proc/x` ran at 100% of a core
 * until killed, instead of failing. This creates each missing component on
 * its own, so such a refusal is an error like any other.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Makes `dir` and its missing parents; returns the directories it made,
 * outermost first (none when `dir` was there), so that a caller who then
 * fails can take them away again (removeMadeDirs). A failure part way takes
 * away what this call made before it is thrown.
 */
export function makeDirs(dir: string): string[] {
  const target = path.resolve(dir);
  // a file where the directory should be fails as mkdir fails on it (Node's recursive mkdir does too)
  if (fs.existsSync(target) && !fs.statSync(target).isDirectory()) {
    throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${target}'`), { code: 'EEXIST', path: target });
  }
  const missing: string[] = [];
  for (let d = target; !fs.existsSync(d); d = path.dirname(d)) {
    missing.push(d);
    if (path.dirname(d) === d) break;
  }
  const made: string[] = [];
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
      made.push(d);
    } catch (e) {
      // made meanwhile by someone else (another run on the same corpus): what was asked for
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
      removeMadeDirs(made);
      throw e;
    }
  }
  return made;
}

/** Takes away directories makeDirs made, innermost first, each only while still empty. */
export function removeMadeDirs(made: readonly string[]): void {
  for (const d of [...made].reverse()) {
    try {
      fs.rmdirSync(d);
    } catch {
      // no longer empty (someone wrote into it) or already gone: leave it
    }
  }
}
