/**
 * The piscina worker entry: receives a task (a fuzz batch, or a crash to
 * minimize), runs it, returns the compact result. Everything it runs lives
 * in src/engine and is importable without a pool.
 */
import { Piscina } from 'piscina';
import { BatchRunner } from '../src/engine/batch.js';
import { minimizeTask } from '../src/engine/minimize-task.js';
import type { BatchResult, FlushResult, MinimizeOutcome, WorkerSetup, WorkerTask } from '../src/engine/protocol.js';

const runner = new BatchRunner(Piscina.workerData as WorkerSetup);

export default function runTask(task: WorkerTask): Promise<BatchResult | MinimizeOutcome | FlushResult> {
  switch (task.kind) {
    case 'minimize':
      return minimizeTask(task);
    case 'flush':
      return runner.flush(task);
    default:
      return runner.run(task);
  }
}
