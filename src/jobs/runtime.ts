import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { closeDeps, createDeps, type Deps } from '../process/deps.js';
import { log as rootLog, scrubError } from '../log.js';
import { recordHeartbeat } from '../queues/heartbeat.js';
import { bullPrefix, QUEUES } from '../queues/names.js';
import { closeWorker, workerMetrics } from '../queues/queues.js';
import { isCluster, masters, type RedisConnection } from '../queues/redis.js';
import type { MaintenanceTask } from './task.js';
import { maintenanceTasks } from './tasks.js';

/** How often a worker re-reads settings to follow a changed interval, and checks that its schedules are still in Redis. */
const SETTINGS_RECHECK_MS = 5000;
/** The least time without a maintenance job after which a worker on a cluster is judged stuck (see startWorker). */
const MIN_STALE_MS = 10_000;

export interface WorkerOptions {
  /** The maintenance tasks to run (the senders are one: deliveryChannelsTask); all by default. */
  tasks?: MaintenanceTask[];
  /** Resolves push endpoint hosts (dns.lookup when unset). */
  lookupHost?: Deps['lookupHost'];
}

export interface RunningWorker {
  deps: Deps;
  workers: Worker[];
  /** Closes workers (letting active jobs finish), then queues, Redis and the pool. */
  close(): Promise<void>;
}

/**
 * Starts one worker process's share of the work: job schedulers for every maintenance task
 * (upserted by a stable id, so any number of processes may start at once and there is
 * still one schedule each), a worker on the maintenance queue that dispatches by job
 * name, and whatever the tasks start themselves (the deliveries queues' senders).
 */
export async function startWorker(config: Config, options: WorkerOptions = {}): Promise<RunningWorker> {
  const tasks = options.tasks ?? maintenanceTasks;
  const log = rootLog.child({ process: 'worker' });
  const deps: Deps = { ...createDeps(config, 'worker', log), ...(options.lookupHost ? { lookupHost: options.lookupHost } : {}) };
  const { queues, redis, settings } = deps;
  const prefix = bullPrefix(config.QUEUE_PREFIX, QUEUES.maintenance);

  // upserting by a stable id makes this safe from any number of processes at once; when
  // an admin changes an interval, every process re-upserts the same new schedule
  const scheduled = new Map<string, number>();
  // set when schedules were found missing; cleared once every task has rebuilt its jobs
  let rebuildDue = false;
  async function upsertSchedules(): Promise<void> {
    const current = await settings.all();
    // a Redis that restarted without persistence (or lost its data in a failover) has no
    // schedules left, and no job would ever run again: what is missing is upserted anew
    const present = new Set((await queues.maintenance.getJobSchedulers()).map((s) => s.key));
    const lost = [...scheduled.keys()].filter((name) => !present.has(name));
    for (const name of lost) {
      log.warn({ task: name }, 'job schedule missing from Redis; upserting it again');
      scheduled.delete(name);
    }
    for (const task of tasks) {
      const every = task.everyMs(config, current);
      if (scheduled.get(task.name) === every) continue;
      await queues.maintenance.upsertJobScheduler(task.name, { every }, { name: task.name, opts: { removeOnComplete: 100, removeOnFail: 500 } });
      scheduled.set(task.name, every);
    }
    // the queued jobs went with the schedules: every task puts its own back from PostgreSQL
    if (lost.length) rebuildDue = true;
    if (rebuildDue) {
      for (const task of tasks) await task.rebuild?.(deps);
      rebuildDue = false;
    }
  }
  await warnOnEviction(redis, log);
  // no schedule at all at start: a Redis that lost its data while no worker ran, a first
  // start, or queues under a key layout of their own (each queue its own hash tag) that an
  // earlier version's jobs are not in. Either way what PostgreSQL says is owed is queued now,
  // not when the sweep would find it; on a first start that finds nothing.
  if (!(await queues.maintenance.getJobSchedulers()).length) {
    log.info('no job schedules in Redis at start; queueing what PostgreSQL says is owed');
    rebuildDue = true;
  }
  await upsertSchedules();
  // a recheck waits while Redis is away (the worker's connection queues its commands), so
  // the next one must not start until it is done
  let rechecking = false;
  const rescheduler = setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    upsertSchedules()
      .catch((err: unknown) => log.warn({ err }, 'could not update job schedules'))
      .finally(() => (rechecking = false));
  }, SETTINGS_RECHECK_MS);
  rescheduler.unref();

  const byName = new Map(tasks.map((t) => [t.name, t]));
  const workers: Worker[] = [];
  // when this process's maintenance worker last took, finished or failed a job
  let lastActivity = Date.now();
  const maintenanceWorker = () => {
    const w = new Worker(
      QUEUES.maintenance,
      async (job) => {
        const task = byName.get(job.name);
        if (!task) return { skipped: `no task named ${job.name}` }; // an old schedule from an earlier release
        // BullMQ keeps a failure's message and stack in Redis, where the queue board shows them
        const result = await task.run({ ...deps, log: log.child({ queue: QUEUES.maintenance, jobId: job.id, task: job.name }) }, job).catch((err: unknown) => {
          throw scrubError(err);
        });
        // readiness checks read this: a stuck worker shows, not only a dead one
        await recordHeartbeat(redis, config.QUEUE_PREFIX, task.name);
        return result;
      },
      { connection: redis, prefix, concurrency: Math.max(1, tasks.length), metrics: workerMetrics },
    );
    for (const event of ['active', 'completed', 'failed'] as const) w.on(event, () => (lastActivity = Date.now()));
    return watchWorker(w);
  };
  const watchWorker = (w: Worker) => {
    w.on('error', (err) => log.error({ err, queue: w.name }, 'worker error'));
    w.on('failed', (job, err) => log.warn({ err, queue: w.name, jobId: job?.id, attempts: job?.attemptsMade }, 'job failed'));
    return w;
  };
  if (tasks.length) workers.push(maintenanceWorker());

  // On a Redis Cluster, a BullMQ Worker whose queue's master fails over was seen to stop for
  // good now and then: its blocking connection (a duplicate Cluster client of its own) never
  // hands it another job, and its close() never returns. A maintenance worker that has taken
  // no job for several of the shortest intervals while jobs are owed in its queue is stuck, not
  // idle (when other worker processes take every job, none waits or is overdue): it is dropped
  // (force-closed, not awaited, since its close may hang) and a new one, with fresh
  // connections, takes its place.
  let watchdog: NodeJS.Timeout | undefined;
  let checking = false;
  if (tasks.length && isCluster(redis)) {
    watchdog = setInterval(() => {
      const shortest = Math.min(...scheduled.values());
      const staleAfter = Math.max(5 * shortest, MIN_STALE_MS);
      const idle = Date.now() - lastActivity;
      const index = workers.findIndex((w) => w.name === QUEUES.maintenance);
      if (index < 0 || idle < staleAfter || checking) return;
      checking = true;
      void replaceIfStuck(index, idle, shortest)
        .catch((err: unknown) => log.warn({ err }, 'could not check the maintenance worker'))
        .finally(() => (checking = false));
    }, SETTINGS_RECHECK_MS);
    watchdog.unref();
  }
  // a job is owed when it waits, or when it is a scheduled one whose time has passed: BullMQ's
  // workers themselves move due jobs out of the delayed set, so with every worker stuck they stay there
  async function replaceIfStuck(index: number, idle: number, overdueMs: number): Promise<void> {
    const [counts, [firstDelayed]] = await Promise.all([queues.maintenance.getJobCounts('waiting', 'prioritized'), queues.maintenance.getJobs(['delayed'], 0, 0, true)]);
    const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0);
    const overdue = firstDelayed !== undefined && firstDelayed.timestamp + firstDelayed.delay < Date.now() - overdueMs;
    if ((waiting === 0 && !overdue) || closing) return;
    log.warn({ queue: QUEUES.maintenance, idleMs: idle, waiting, overdue }, 'maintenance worker has taken no job for several intervals while jobs are owed; replacing it');
    const stuck = workers[index]!;
    lastActivity = Date.now();
    workers[index] = maintenanceWorker();
    void stuck.close(true).catch((err: unknown) => log.warn({ err }, 'could not close the replaced maintenance worker'));
  }
  const stops: (() => Promise<void>)[] = [];
  for (const task of tasks) if (task.start) stops.push(await task.start(deps));

  let closing: Promise<void> | undefined;
  return {
    deps,
    workers,
    close() {
      closing ??= (async () => {
        clearInterval(rescheduler);
        clearInterval(watchdog);
        await Promise.all(stops.map((s) => s()));
        await Promise.all(workers.map((w) => closeWorker(w, log)));
        await closeDeps(deps);
      })();
      return closing;
    },
  };
}

/**
 * Says once, at start, when Redis may evict keys to make room: BullMQ's jobs and schedules
 * are keys, and an evicted one is work silently lost. (BullMQ prints its own terse line on
 * every connection; this one tells the operator what to change.) A managed Redis that
 * refuses CONFIG GET is left unchecked. On a cluster every master is asked: each holds
 * queues of its own.
 */
async function warnOnEviction(redis: RedisConnection, log: Logger): Promise<void> {
  for (const node of masters(redis)) {
    const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy').catch(() => null)) as string[] | null;
    const policy = reply?.[1];
    if (!policy || policy === 'noeviction') continue;
    log.warn(
      { maxmemoryPolicy: policy, node: `${node.options.host}:${node.options.port}` },
      `Redis's maxmemory-policy is ${policy}: when Redis fills up it will delete queued jobs and schedules. Set maxmemory-policy noeviction (redis.conf or CONFIG SET) so a full Redis refuses new jobs instead`,
    );
    return;
  }
}
