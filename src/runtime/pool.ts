/**
 * Bounded concurrency with back-pressure: `submit` resolves once the task has *started*, so a producer
 * that awaits it never holds more than `concurrency` tasks in memory. Errors are reported to `onError`
 * (the producer decides whether to stop) and never leave a dangling rejection.
 */
export class TaskPool {
  private running = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    readonly concurrency: number,
    private readonly onError: (error: unknown) => void,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
  }

  get active(): number {
    return this.running;
  }

  async submit(task: () => Promise<void>): Promise<void> {
    while (this.running >= this.concurrency) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.running++;
    void task()
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.running--;
        this.waiters.shift()?.();
        if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
  }

  /** Resolves when no task is running. */
  async drain(): Promise<void> {
    if (this.running === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }
}
