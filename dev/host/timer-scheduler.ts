// Timer trigger of the local host. NCRONTAB (six fields with seconds, UTC) is evaluated by croner; runs never
// overlap (a timer function is a singleton on Azure); a run that starts late because the previous one overran
// gets `isPastDue: true`, then the schedule resumes from now; `runOnStartup` fires once at start.
// Not modelled: the schedule monitor that persists last/next runs across restarts (useMonitor).
import { randomUUID } from 'node:crypto';
import type { Timer } from '@azure/functions';
import { Cron } from 'croner';
import type { TimerFunctionDefinition } from '../../functions/define.js';
import { InvocationContext } from './azure-functions-classes.js';
import type { HostLogger } from './host-logger.js';

/** Lateness tolerated before a run counts as past due (timers fire a few ms late routinely). */
const PAST_DUE_TOLERANCE_MS = 1000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export function parseNcrontab(schedule: string): Cron {
  if (schedule.trim().split(/\s+/).length !== 6) {
    throw new Error(
      `"${schedule}" is not an NCRONTAB expression: expected six fields {second} {minute} {hour} {day} {month} {day-of-week}`,
    );
  }
  // NCrontab (the .NET library the host uses) requires both day fields to match.
  return new Cron(schedule, { timezone: 'UTC', mode: '6-part', domAndDow: true, paused: true });
}

export class TimerScheduler {
  private readonly cron: Cron;
  private timeout: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private last: Date | undefined;

  constructor(
    readonly fn: TimerFunctionDefinition,
    readonly schedule: string,
    private readonly logger: HostLogger,
  ) {
    this.cron = parseNcrontab(schedule);
  }

  start(): void {
    if (this.fn.runOnStartup) this.running = this.invoke(new Date(), false).then(() => this.scheduleNext(new Date()));
    else this.scheduleNext(new Date());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timeout);
    await this.running;
  }

  /** Next occurrence strictly after `from`. */
  nextOccurrence(from: Date): Date | null {
    return this.cron.nextRun(from);
  }

  private scheduleNext(from: Date): void {
    if (this.stopped) return;
    const due = this.nextOccurrence(from);
    if (due) this.wakeAt(due);
  }

  private wakeAt(due: Date): void {
    const wait = due.getTime() - Date.now();
    // setTimeout fires at once for delays above 2^31-1 ms (~24.8 days): wait in chunks instead.
    this.timeout =
      wait > MAX_TIMEOUT_MS
        ? setTimeout(() => this.wakeAt(due), MAX_TIMEOUT_MS)
        : setTimeout(
            () => {
              this.running = this.fire(due);
            },
            Math.max(0, wait),
          );
  }

  private async fire(due: Date): Promise<void> {
    await this.invoke(due, Date.now() - due.getTime() > PAST_DUE_TOLERANCE_MS);
    if (this.stopped) return;
    // A run that overran the next occurrence is followed by one past-due run straight away (not one per
    // missed occurrence), then the schedule resumes from now.
    const next = this.nextOccurrence(due);
    if (next && next.getTime() < Date.now()) {
      await this.invoke(next, true);
      if (this.stopped) return;
    }
    this.scheduleNext(new Date());
  }

  private async invoke(scheduled: Date, isPastDue: boolean): Promise<void> {
    const invocationId = randomUUID();
    const timer: Timer = {
      isPastDue,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: (this.last ?? new Date(0)).toISOString(),
        next: (this.nextOccurrence(scheduled) ?? scheduled).toISOString(),
        lastUpdated: new Date().toISOString(),
      },
    };
    this.last = scheduled;
    const context = new InvocationContext({
      invocationId,
      functionName: this.fn.name,
      logHandler: (level, ...args) => this.logger.log(level, this.fn.name, invocationId, ...args),
      options: {
        trigger: {
          type: 'timerTrigger',
          name: 'timer',
          schedule: this.fn.schedule,
          runOnStartup: this.fn.runOnStartup ?? false,
        },
        extraInputs: [],
        extraOutputs: [],
      },
    });
    try {
      await this.fn.handler(timer, context);
    } catch (error) {
      context.error(`Executed '${this.fn.name}' (Failed): ${(error as Error)?.stack ?? String(error)}`);
    }
  }
}
