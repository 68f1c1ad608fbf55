/**
 * The piscina worker entry: receives a batch task, runs it, returns the
 * compact result. Everything it runs lives in src/engine/batch.ts and is
 * importable without a pool.
 */
import { BatchRunner } from '../src/engine/batch.js';
import type { BatchResult, FuzzTask } from '../src/engine/protocol.js';

const runner = new BatchRunner();

export default function runTask(task: FuzzTask): Promise<BatchResult> {
  return runner.run(task);
}
