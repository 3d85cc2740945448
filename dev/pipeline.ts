/**
 * What the demo, the benchmarks and the fault drills share about the loop they drive: when
 * it has nothing left to do, and stopping the processes they started.
 */
import type { ChildProcess } from 'node:child_process';
import type { Queryable } from '../src/db/types.js';

/**
 * Resolves once no release is unmatched and no alert or message is pending or being sent
 * (with `digests: false`, digests still waiting for their window do not count), so that a
 * count taken after it is final; throws after `timeoutMs`, naming how much was left.
 */
export async function waitForQuietPipeline(db: Queryable, timeoutMs: number, o: { digests?: boolean; what?: string } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM slot_releases WHERE processed_at IS NULL)
            + (SELECT count(*) FROM user_alerts WHERE status IN ('PENDING', 'SENDING'))
            + (SELECT count(*) FROM alert_messages WHERE status IN ('PENDING', 'SENDING') AND ($1::boolean OR kind = 'single')) AS n`,
      [o.digests ?? true],
    );
    if (rows[0]!.n === '0') return;
    if (Date.now() > deadline) throw new Error(`${o.what ?? 'the pipeline'} did not settle within ${timeoutMs / 1000} s: ${rows[0]!.n} releases, alerts or messages left`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** SIGTERM to each child still running, SIGKILL after `graceMs`; resolves when all have exited. */
export async function stopChildren(children: ChildProcess[], graceMs: number): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), graceMs).unref();
        }),
    ),
  );
}
