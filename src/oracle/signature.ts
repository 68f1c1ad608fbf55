/**
 * Crash signatures: what makes two crashes "the same bug" for deduplication
 * and for the minimizer's predicate. Policy + kind + the failing statement's
 * kind + the path history of the handle involved. Line numbers, names, sizes
 * and seeds are left out so that minimizing and renaming keep the signature.
 */
import { createHash } from 'node:crypto';
import type { CrashKind } from './verdict.js';

export function makeSignature(policy: string, kind: CrashKind, op: string, pathHistory: string): string {
  return `${policy}/${kind}/${op}/${pathHistory}`;
}

/** A short stable id for file names and reports. */
export function signatureId(signature: string): string {
  return createHash('sha256').update(signature).digest('hex').slice(0, 12);
}
