/**
 * bench/results/summary.md: each benchmark's figures from its JSON in bench/results/, with
 * the goal stated in its header (or the README), met or not. A benchmark with no goal of
 * its own is held to the comparison it makes against the baseline it measures in the same
 * run, and the table says which.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { e2eWhyNotMet } from './_e2e-why.js';

/** The arguments `npm run bench` (all of them) runs each with: short enough for about twenty-five minutes in all. */
export const SUMMARY_ARGS: Record<string, string[]> = {
  e2e: [],
  delivery: ['--rounds', '2'],
  // 5,000 watches as its committed run had: at 100,000 one burst owes ~100,000 messages
  burst: ['--watches', '5000'],
  // its defaults: the same burst with one worker, two, and on a Redis Cluster, about six minutes
  scale: [],
  match: ['--sizes', '100000,300000'],
  booking: ['--rounds', '1', '--duration', '10'],
  signin: ['--rounds', '1'],
  metrics: ['--large', '300000', '--rounds', '3'],
  postcodes: ['--lookups', '5000'],
};

type Row = [figure: string, measured: string, goal: string, met: boolean | null];
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each bench's own JSON shape

const results = join(dirname(fileURLToPath(import.meta.url)), 'results');
const read = (name: string): Json | null => (existsSync(join(results, `${name}.json`)) ? (JSON.parse(readFileSync(join(results, `${name}.json`), 'utf8')) as Json) : null);
const s = (x: unknown, unit = '') => (x === null || x === undefined ? '-' : `${typeof x === 'number' ? +x.toFixed(3) : String(x)}${unit}`);

const rowsOf: Record<string, (j: Json) => Row[]> = {
  e2e: (j) => [
    ...(j.goals as { goal: string; value: unknown; met: boolean }[]).map((g): Row => [
      g.goal.replace(/:.*/, ''),
      s(g.value, typeof g.value === 'number' ? ' s' : ''),
      g.goal.replace(/^[^:]*: /, ''),
      g.value === null ? null : g.met,
    ]),
    ['capacity (two workers)', s(j.capacity?.perSecond, ' messages/s'), 'measured; the stream runs at half', null],
    ['steady stream throughput', s(j.steady?.throughput?.messagesPerSecond, ' messages/s'), `target ${s(j.steady?.throughput?.targetMessagesPerSecond)}/s`, null],
  ],
  delivery: (j) =>
    (['push', 'email'] as const).flatMap((ch): Row[] =>
      j[ch]
        ? [
            [`${ch} burst`, s(j[ch].burst.perSecond, ' messages/s'), `≥ ${j[ch].goalPerSecond}/s`, j[ch].burst.perSecond >= j[ch].goalPerSecond],
            [`${ch} paced at half: p99 enqueue → accepted`, s(j[ch].paced.p99Ms, ' ms'), `BullMQ no-op ${s(j[ch].bullmqNoopPerSecond)}/s in the same run (comparison)`, null],
          ]
        : [],
    ),
  burst: (j) =>
    (j.runs as Json[]).map((r): Row => [
      `digests ${r.digestSeconds ? `${r.digestSeconds} s` : 'off'}: messages per learner, first message p95`,
      `${s(r.messagesPerLearner)}, ${s(r.firstMessageSeconds.p95, ' s')}`,
      'digests fewer messages per learner than digests off (comparison)',
      r.digestSeconds ? r.messagesPerLearner < (j.runs as Json[]).find((x) => !x.digestSeconds)?.messagesPerLearner : null,
    ]),
  scale: (j) => {
    const phases = j.phases as Json[];
    const rows = phases.map((p): Row => [
      `${p.phase}: messages/s, matches/s, worker CPU per message`,
      `${s(p.messagesPerSecond)}/s, ${s(p.matchesPerSecond)}/s, ${s(p.cpuMsPerMessage['workers (all)'], ' ms')}`,
      'measured (the ratios below compare them)',
      null,
    ]);
    rows.push(['two workers vs one: messages/s', `×${s(j.ratios.twoVsOne.messagesPerSecond)}`, 'more than ×1 (comparison in the same run)', j.ratios.twoVsOne.messagesPerSecond > 1]);
    if (j.ratios.clusterVsTwo) rows.push(['cluster vs one Redis (two workers): messages/s', `×${s(j.ratios.clusterVsTwo.messagesPerSecond)}`, 'measured (comparison in the same run)', null]);
    else rows.push(['Redis Cluster phase', s(j.clusterPhase), '-', null]);
    return rows;
  },
  match: (j) =>
    (j.results as Json[]).map((r): Row => [
      `${r.watches.toLocaleString()} watches: alerts/s, one release of ~1,000 matches`,
      `${s(r.alertsPerSecond)}/s (${s(r.rateVsFloor)} of the bare INSERT), ${s(r.singleRelease?.medianMs, ' ms')}`,
      'cost per alert flat as watches grow (comparison with the smallest size)',
      r.costVsFirst === undefined ? null : r.costVsFirst < 1.5,
    ]),
  booking: (j) =>
    (['distinct', 'hot'] as const).map((shape): Row => [
      `holds over HTTP, ${shape}`,
      `${s(j[shape].autocannon.perSecond)}/s, p99 ${s(j[shape].autocannon.p99Ms, ' ms')}`,
      `${s(j[shape].ratioAutocannon)} of pgbench running the same SQL (comparison)`,
      null,
    ]).concat([['slots with two active appointments', s(j.slotsWithTwoActiveAppointments), '0', j.slotsWithTwoActiveAppointments === 0]]),
  signin: (j) => [
    ['sign-in during a sign-up burst, bounded (median)', s(j.bounded.signInDuringBurstMedianMs, ' ms'), `alone ${s(j.bounded.signInAloneMedianMs, ' ms')}; unbounded ${s(j.unbounded.signInDuringBurstMedianMs, ' ms')} (comparison)`, j.bounded.signInDuringBurstMedianMs < j.unbounded.signInDuringBurstMedianMs],
  ],
  metrics: (j) => [
    [`scrape at ${Number(j.large).toLocaleString()} alerts`, s(j.scrape[j.large].countsMs, ' ms'), `counting queries it replaced: ${s(j.scrape[j.large].tablesMs, ' ms')} (comparison)`, j.scrape[j.large].countsMs < j.scrape[j.large].tablesMs],
    ['writers with the counting triggers', `×${s(j.writers.insertRatio)} insert, ×${s(j.writers.updateRatio)} update`, 'against triggers off (comparison)', null],
  ],
  postcodes: (j) => [
    ['import of the full file', s(j.import.emptyTableSeconds, ' s'), '< 60 s', j.import.emptyTableSeconds < 60],
    ['lookup p99', s(j.lookups.imported.p99Us / 1000, ' ms'), '< 1 ms', j.lookups.imported.p99Us < 1000],
  ],
};

/** The markdown; `outcomes` when the benchmarks were just run (how long each took), null when it is read from what is there. */
export function writeSummary(outcomes: Record<string, { code: number; seconds: number }> | null): string {
  const lines = [
    '# Benchmark summary',
    '',
    outcomes
      ? `\`npm run bench\` (every benchmark, in turn) on ${new Date().toISOString()}. Each ran with the arguments shown; the full figures are in bench/results/<name>.json.`
      : `Written by \`npm run bench -- --summary-only\` on ${new Date().toISOString()} from the JSON in bench/results/, each from its own run (dated below; a full \`npm run bench\` needs about twenty-five minutes of a machine nothing else is using); the full figures are in bench/results/<name>.json.`,
    '"Met" is the goal from the benchmark\'s header or the README; where a benchmark states no goal, the row holds it to the comparison it makes against a baseline measured in the same run, and says so.',
    '',
    '| benchmark | figure | measured | goal or comparison | met |',
    '| --- | --- | ---: | --- | :---: |',
  ];
  const notes: string[] = [];
  for (const name of Object.keys(SUMMARY_ARGS)) {
    const j = read(name);
    const o = outcomes?.[name];
    // the figures are CPU-bound on a small machine: how busy it was matters
    const load = j?.loadAverage ?? j?.machine?.loadAverageAtEnd ?? j?.load;
    const ran =
      (o ? `\`npm run bench -- ${[name, ...SUMMARY_ARGS[name]!].join(' ')}\`, ${o.seconds} s${o.code ? ', FAILED' : ''}` : `run of ${s(j?.when ?? 'unknown date')}`) +
      (j?.command ? ` (\`${j.command}\`)` : '') +
      (load === undefined ? '' : `, load average ${[load].flat().join(' ')}`);
    notes.push(`- ${name}: ${ran}`);
    if (!j) {
      lines.push(`| ${name} | - | no bench/results/${name}.json | - | - |`);
      continue;
    }
    let rows: Row[];
    try {
      rows = rowsOf[name]!(j);
    } catch (err) {
      rows = [['-', `unreadable: ${(err as Error).message}`, '-', null]];
    }
    for (const [figure, measured, goal, met] of rows) lines.push(`| ${name} | ${figure} | ${measured} | ${goal} | ${met === null ? '-' : met ? 'yes' : '**no**'} |`);
  }
  const e2e = read('e2e');
  const why = e2e ? e2eWhyNotMet(e2e) : [];
  if (why.length) lines.push('', ...why);
  lines.push('', 'How each ran:', '', ...notes, '');
  return lines.join('\n');
}
