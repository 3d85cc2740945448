import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import type { Deps } from '../process/deps.js';
import type { Settings } from '../settings/definitions.js';

/**
 * A piece of scheduled upkeep run on the maintenance queue. The worker keeps one BullMQ
 * job scheduler per task (id = name, so several worker processes upsert the same one) and
 * dispatches jobs to `run` by name.
 */
export interface MaintenanceTask {
  name: string;
  /** Milliseconds between runs; re-evaluated as settings change, and the schedule follows. */
  everyMs(config: Config, settings: Settings): number;
  run(deps: Deps, job: Job): Promise<unknown>;
  /** Optional: started with the worker (e.g. a LISTEN that wakes the task early); returns a stop function. */
  start?(deps: Deps): Promise<() => Promise<void>>;
  /**
   * Optional: called when the worker finds that Redis lost its data (its job schedules
   * are gone), to put back at once the jobs that went with it, from PostgreSQL.
   */
  rebuild?(deps: Deps): Promise<unknown>;
}
