/**
 * Model invariants. A failed assertion is a bug in the simulator, judged as a
 * `model-panic` verdict; a run that outgrows one of the model's fixed limits
 * is a `hang` (it exceeded its budget). Both are thrown, never swallowed.
 */
export class ModelPanic extends Error {
  override name = 'ModelPanic';
}

export class BudgetExceeded extends Error {
  override name = 'BudgetExceeded';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ModelPanic(`model invariant broken: ${message}`);
}

export function budget(condition: unknown, what: string): asserts condition {
  if (!condition) throw new BudgetExceeded(`the run exceeded the model's budget: ${what}`);
}
