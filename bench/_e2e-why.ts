/**
 * Why an e2e latency goal was not met, worked out from the run's own figures: a message
 * cannot be told sooner than the machine's measured capacity lets the messages owed
 * before it be sent, whatever the pipeline does. Written under the goals in e2e.md and
 * summary.md, so a "no" is never left bare.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- e2e.json's own shape
type Json = Record<string, any>;

export function e2eWhyNotMet(j: Json): string[] {
  const cap = j.capacity?.perSecond as number | undefined;
  const goals = (j.goals ?? []) as { goal: string; met: boolean; value: unknown }[];
  if (!cap || goals.every((g) => g.met)) return [];
  const out: string[] = [`Why a latency goal is not met (capacity measured in the same run: ${cap} messages/s on ${j.machine?.cpus ?? 'these'} CPUs):`];
  const missed = (prefix: string) => goals.some((g) => g.goal.startsWith(prefix) && g.met === false);
  const secs = (n: number) => (n / cap).toFixed(2);
  if (missed('steady')) {
    const most = j.steady.learnersPerSlot.max as number;
    const p95 = j.steady.learnersPerSlot.p95 as number;
    out.push(
      `- steady stream: one slot owes up to ${most} learners (p95 ${p95}) at once. At ${cap} messages/s the last of ${most} is told ${secs(most)} s after the first (${secs(p95)} s for ${p95}), however fast each step is; the p99 over a stream whose big slots owe more than a second of this machine's capacity cannot be under 1 s. Median stages from the release: ${JSON.stringify(j.steady.stagesMedianSecondsFromRelease)}: matching and queueing take about a tenth of a second; the rest is messages waiting their turn for the senders.`,
    );
  }
  if (missed('first burst')) {
    const n = j.firstBurst.expected as number;
    out.push(
      `- first burst: ${n} learners owed at once are ${secs(n)} s of capacity, so its p95 cannot be under about ${((0.95 * n) / cap).toFixed(2)} s here. The same burst once warm took p95 ${j.warmBurst.immediate.p95} s; the first took ${j.firstBurst.immediate.p95} s (${(j.firstBurst.immediate.p95 / j.warmBurst.immediate.p95).toFixed(1)}×), the rest being the cost of a cold start (stages: ${JSON.stringify(j.firstBurst.stagesMedianSecondsFromRelease)} against ${JSON.stringify(j.warmBurst.stagesMedianSecondsFromRelease)} warm).`,
    );
  }
  if (missed('digests')) {
    out.push(
      `- digests: a digest falls due at the end of its learner's window and is sent by the same senders as the stream's immediate messages, which run at half capacity on average but at all of it while a big slot's ${j.steady.learnersPerSlot.max} messages go out; a digest due then waits up to ${secs(j.steady.learnersPerSlot.max)} s behind them.`,
    );
  }
  out.push('- On a machine with more cores, or with more worker processes, capacity grows and these floors fall; the share told (every expected learner, none twice) does not depend on it.');
  return out;
}
