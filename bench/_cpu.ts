/**
 * Where the CPU of a benchmark run went, by process, read from /proc (Linux; NaN
 * elsewhere). On a 2-core machine the load generator, the web process, PostgreSQL and
 * Redis all share the same cores, so "requests per second" alone cannot say which of them
 * a change made cheaper; CPU milliseconds per request can.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { masters, type RedisConnection } from '../src/queues/redis.js';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const BACKEND_TITLE = /^postgres: (?:\S+: )?\S+ (\S+) /;

/** utime + stime (+ cutime + cstime when `children`) of a process, in seconds. */
export function processCpuSeconds(pid: number | string | undefined, children = false): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/**
 * The CPU seconds of the PostgreSQL backends serving one database, sampled every 100 ms
 * so that backends that exit during the run (pgbench's) still count, less at most their
 * last 100 ms. Shared server processes (WAL writer, checkpointer) are left out: other
 * databases on the same server use them too.
 */
export class BackendCpu {
  private readonly first = new Map<string, number>();
  private readonly last = new Map<string, number>();
  /** Pids already looked at that are not backends of this database (cmdline read once). */
  private readonly others = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly database: string) {}

  private sample(): void {
    let pids: string[];
    try {
      pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const pid of pids) {
      if (this.others.has(pid)) continue;
      if (!this.last.has(pid)) {
        let cmd = '';
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          continue;
        }
        // a backend names itself "postgres: [<cluster>: ]<user> <database> <client> <state>"
        if (BACKEND_TITLE.exec(cmd)?.[1] !== this.database) {
          this.others.add(pid);
          continue;
        }
      }
      const cpu = processCpuSeconds(pid);
      if (Number.isNaN(cpu)) continue;
      if (!this.first.has(pid)) this.first.set(pid, this.timer ? 0 : cpu); // born during the run: all its CPU counts
      this.last.set(pid, cpu);
    }
  }

  start(): void {
    this.first.clear();
    this.last.clear();
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  /** Seconds used since start(). */
  stop(): number {
    this.sample();
    clearInterval(this.timer);
    this.timer = undefined;
    let total = 0;
    for (const [pid, cpu] of this.last) total += cpu - (this.first.get(pid) ?? 0);
    return total;
  }
}

/** Redis's own CPU seconds so far (INFO cpu), summed over every master of a cluster. */
export async function redisCpuSeconds(redis: RedisConnection): Promise<number> {
  let total = 0;
  for (const node of masters(redis)) {
    const info = await node.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
    total += field('used_cpu_sys') + field('used_cpu_user');
  }
  return total;
}

/** This process's CPU seconds, with or without its waited-for children (pgbench, wrk). */
export function selfCpuSeconds(): { own: number; children: number } {
  const own = process.cpuUsage();
  return { own: (own.user + own.system) / 1e6, children: processCpuSeconds('self', true) - processCpuSeconds('self') };
}
