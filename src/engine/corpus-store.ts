/**
 * The corpus directory: one file per crash signature, in the v1 text format
 * with a `#` header. Files are written atomically (temp file + rename) so a
 * run killed at any moment leaves only whole entries; a malformed entry is
 * reported by name and skipped, never fatal.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadProgramText, readProgramFile, type LoadedProgram } from '../exec/load.js';
import { EXPECT_FORMS, parseHeader, type CorpusHeader } from '../corpus/header.js';
import { signatureId } from '../oracle/signature.js';
import { UserError } from '../util/errors.js';
import { makeDirs, removeMadeDirs } from '../util/make-dirs.js';

export const ENTRY_SUFFIX = '.dmafuzz';

export interface CorpusEntry {
  file: string;
  loaded: LoadedProgram;
  header: CorpusHeader;
}

export interface CorpusLoad {
  entries: CorpusEntry[];
  /** files that could not be read or parsed, with the reason */
  malformed: Array<{ file: string; error: string }>;
}

/** Makes sure the directory exists and is writable; a clear error otherwise. */
export function prepareDir(dir: string, what: string): void {
  prepareDirs([[dir, what]]);
}

/**
 * Makes each directory a command will write to, and checks it is one and
 * writable. When any of them fails, the ones this call made are taken away
 * again: a refused run leaves nothing behind (a bad --out no longer leaves
 * an empty corpus directory).
 */
export function prepareDirs(dirs: ReadonlyArray<readonly [dir: string, what: string]>): void {
  const made: string[] = [];
  try {
    for (const [dir, what] of dirs) {
      try {
        made.push(...makeDirs(dir));
        fs.accessSync(dir, fs.constants.W_OK);
      } catch (e) {
        // makeDirs fails (EEXIST) on a file in the way, so what passes is a directory
        throw new UserError(`${what} '${dir}' is not a writable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
  } catch (e) {
    removeMadeDirs(made);
    throw e;
  }
}

/** A directory that must exist (regress, export): a clear error otherwise. */
export function prepareDirExists(dir: string, what: string): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(`${what} '${dir}' does not exist or is not a directory`);
}

export function loadCorpus(dir: string): CorpusLoad {
  const out: CorpusLoad = { entries: [], malformed: [] };
  if (!fs.existsSync(dir)) return out;
  for (const name of fs.readdirSync(dir).sort()) {
    if (!name.endsWith(ENTRY_SUFFIX)) continue;
    const file = path.join(dir, name);
    try {
      const text = readProgramFile(file);
      const loaded = loadProgramText(text, file);
      const header = parseHeader(loaded.program.header);
      const bad = header.badExpectations[0];
      if (bad !== undefined) {
        const line = text.split('\n').findIndex((l) => l.replace(/^#\s?/, '').trim() === bad) + 1;
        throw new UserError(`expected ${EXPECT_FORMS}, got '${bad}'`, file, line || undefined);
      }
      out.entries.push({ file, loaded, header });
    } catch (e) {
      out.malformed.push({ file, error: e instanceof UserError ? e.format() : String(e) });
    }
  }
  return out;
}

export interface NewEntry {
  signature: string;
  kind: string;
  blame: string;
  policy: string;
  firstSeen: string;
  originalStatements: number;
  minimizedStatements: number;
  /** the program text (starting with `# dmafuzz v1`) */
  text: string;
  /** 1-based index of the failing statement in the program */
  statement: number;
  message: string;
  /** set when replaying the program alone cannot give the verdict (a worker the watchdog replaced) */
  notReplayable?: string;
}

/** Where the entry for a signature lives. */
export function entryPath(dir: string, signature: string): string {
  return path.join(dir, `${signature.split('/')[0]}-${signatureId(signature)}${ENTRY_SUFFIX}`);
}

/** An entry's full text: the `#` header (with the expect line for its failing statement), then the program. */
export function formatEntry(e: NewEntry): string {
  const body = e.text.replace(/^# dmafuzz v1\n/, '');
  const header = [
    '# dmafuzz v1',
    `# signature: ${e.signature}`,
    `# kind: ${e.kind}`,
    `# blame: ${e.blame}`,
    `# policy: ${e.policy}`,
    `# first-seen: ${e.firstSeen}`,
    `# length: original ${e.originalStatements}, minimized ${e.minimizedStatements}`,
  ];
  // the failing statement's line in this file: header lines, then the machine line if any, then statements
  const machineLines = /^machine /.test(body.split('\n')[0] ?? '') ? 1 : 0;
  const line = header.length + 1 /* the expect line itself */ + machineLines + e.statement;
  header.push(e.notReplayable ? `# replayable: no (${e.notReplayable})` : `# expect ${e.policy}: crash ${e.kind} ${e.blame} line ${line}`);
  return [...header, body].join('\n');
}

/** Writes a file atomically: a temp file beside it, then a rename. */
export function writeAtomically(file: string, text: string): void {
  writeFilesAtomically([[file, text]]);
}

/**
 * Writes files that belong together (a C fragment and its header) all or
 * none: every target is checked first (a directory in the way fails before
 * anything is written), every text goes to a temp file beside its target,
 * and only then are they renamed into place. On a failure, the temp files
 * and any directory made for them are taken away, and the error names the
 * file it was about.
 */
export function writeFilesAtomically(files: ReadonlyArray<readonly [file: string, text: string]>): void {
  const temps: string[] = [];
  const made: string[] = [];
  let current = files[0]?.[0] ?? '';
  try {
    for (const [file] of files) {
      current = file;
      // a rename onto a directory fails only after the files before it are in place
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st && !st.isFile()) throw new Error(st.isDirectory() ? 'a directory is in the way' : 'not a regular file');
    }
    for (const [file, text] of files) {
      current = file;
      made.push(...makeDirs(path.dirname(file)));
      const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
      temps.push(tmp);
      fs.writeFileSync(tmp, text);
    }
    files.forEach(([file], i) => {
      current = file;
      fs.renameSync(temps[i]!, file);
    });
  } catch (e) {
    for (const tmp of temps) {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // its directory could not be made or read (a file in the way): there is no temp file
      }
    }
    removeMadeDirs(made);
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? `a file is in the way of its directory (${code})` : (code ?? (e as Error).message);
    throw new UserError(`cannot write: ${why}`, current);
  }
}

/** Writes (or replaces) an entry atomically; returns its path. */
export function writeEntry(dir: string, e: NewEntry): string {
  const file = entryPath(dir, e.signature);
  writeAtomically(file, formatEntry(e));
  return file;
}
