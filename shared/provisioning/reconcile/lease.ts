// The run lease: one run per connection at a time. The lease lives in the connection's reconciliation state row,
// claimed and renewed with its ETag; a run takes it when it is free, expired, or already its own (its message was
// delivered again, or it continues after a pause), and otherwise ends skipped naming the holder. While a run is
// paused by throttling the lease is held across the wait (until the continuation is due plus a lease's length), so
// neither the timer nor an admin starts another run meanwhile, and the state row keeps the paused run's progress;
// releasing the lease drops it. A run that finds its lease taken over while it works fails (`run-lease-lost`).
import { AppError, isAppError } from '../../domain/errors.js';
import type { ReconciliationState, RunProgress, RunRequest } from '../../domain/reconciliation.js';
import type { ReconciliationStore } from '../ports.js';

export class RunLease {
  private state: ReconciliationState | undefined;
  constructor(
    private readonly store: ReconciliationStore,
    private readonly request: RunRequest,
    private readonly leaseMs: number,
    private readonly now: () => Date,
  ) {}

  get current(): ReconciliationState {
    return this.state!;
  }

  /** Where this run paused, when it is continuing after a pause. */
  get progress(): RunProgress | undefined {
    return this.state?.resume;
  }

  /** Claims the connection; answers the live holder instead when another run (or another copy of this one) has it. */
  async acquire(): Promise<{ runId: string; until: string } | undefined> {
    const state = await this.store.getState(this.request.connectionId);
    if (state.lease && state.lease.runId !== this.request.runId && Date.parse(state.lease.until) > this.now().getTime())
      return state.lease;
    // Progress another run left (it paused and never came back) is of no use to this one.
    const { resume, ...rest } = state;
    const own = resume?.runId === this.request.runId ? { resume } : {};
    try {
      this.state = await this.store.saveState({
        ...rest,
        ...own,
        lease: { runId: this.request.runId, until: this.until(0) },
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update')
        return (
          (await this.store.getState(this.request.connectionId)).lease ?? { runId: '(unknown)', until: this.until(0) }
        );
      throw error;
    }
    return undefined;
  }

  /** Extends the lease when half of it is used up; fails the run if another run took over meanwhile. */
  async renew(): Promise<void> {
    const until = Date.parse(this.state!.lease!.until);
    if (until - this.now().getTime() > this.leaseMs / 2) return;
    await this.save({ ...this.state!, lease: { runId: this.request.runId, until: this.until(0) } });
  }

  /** Pauses: keeps `progress` and holds the lease until the run is due to continue, plus a lease's length. */
  async hold(progress: RunProgress, delayMs: number): Promise<void> {
    await this.save({
      ...this.state!,
      lease: { runId: this.request.runId, until: this.until(delayMs) },
      resume: progress,
    });
  }

  /** Ends the run's hold on the connection (and any progress it kept), saving `update` with it. */
  async release(update: Partial<ReconciliationState>): Promise<void> {
    const { lease: _lease, resume: _resume, ...rest } = this.state!;
    this.state = await this.store.saveState({ ...rest, ...update });
  }

  private async save(state: ReconciliationState): Promise<void> {
    try {
      this.state = await this.store.saveState(state);
    } catch (error) {
      if (isAppError(error) && error.code === 'concurrent-update')
        throw new AppError(
          'conflict',
          'run-lease-lost',
          'Another run took over this connection (the lease expired while this run was paused)',
        );
      throw error;
    }
  }

  private until(afterMs: number): string {
    return new Date(this.now().getTime() + afterMs + this.leaseMs).toISOString();
  }
}
