/**
 * What the worker process runs. Each capability exports its tasks from its own folder;
 * this list is the one place that wires them in.
 */
import type { Processor } from 'bullmq';
import type { Deps, MaintenanceTask } from '../queues/tasks.js';

export const maintenanceTasks: MaintenanceTask[] = [];

/** The deliveries queue's processor, when the delivery capability provides one. */
export const deliveryProcessor: ((deps: Deps) => Processor) | undefined = undefined;
