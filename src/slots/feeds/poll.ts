/** One poll of a slot feed: fetch and validate the whole document, apply it in one transaction, record the outcome. */
import type pg from 'pg';
import type { Logger } from 'pino';
import { withTransaction } from '../../db/transaction.js';
import type { Queryable } from '../../db/types.js';
import { FeedUnavailableError, MalformedFeedError, type SlotFeed } from './feed.js';
import { unknownCenterExternalIds } from '../centers.js';
import { upsertFeedSlots } from '../time-slots.js';

export type PollOutcome =
  | { outcome: 'ok'; slots: number; inserted: number; updated: number }
  | { outcome: 'malformed' | 'unavailable'; error: string };

async function record(db: Queryable, source: string, o: PollOutcome): Promise<void> {
  await db.query(
    `INSERT INTO feed_polls (source, outcome, slots, inserted, updated, error) VALUES ($1, $2, $3, $4, $5, $6)`,
    o.outcome === 'ok' ? [source, o.outcome, o.slots, o.inserted, o.updated, null] : [source, o.outcome, null, null, null, o.error.slice(0, 1000)],
  );
}

/**
 * Polls `feed` once. A malformed document (or one naming an unknown centre) changes no
 * slot: it is logged, counted in feed_polls, and the poll returns quietly so the
 * schedule just tries again; so is a feed that cannot be fetched.
 */
export async function pollFeed(pool: pg.Pool, feed: SlotFeed, log: Logger): Promise<PollOutcome> {
  let result: PollOutcome;
  try {
    const slots = await feed.fetch();
    const counts = await withTransaction(pool, async (tx) => {
      // a centre the database does not know refuses the whole feed before anything is written
      const unknown = await unknownCenterExternalIds(tx, [...new Set(slots.map((s) => s.centerExternalId))]);
      if (unknown.length) throw new MalformedFeedError(`unknown centre ${unknown.map((c) => `"${c}"`).join(', ')}`);
      return upsertFeedSlots(tx, feed.source, slots);
    });
    result = { outcome: 'ok', slots: slots.length, ...counts };
    log.info({ source: feed.source, ...counts, slots: slots.length }, 'feed applied');
  } catch (err) {
    if (err instanceof MalformedFeedError) {
      result = { outcome: 'malformed', error: err.message };
      log.warn({ source: feed.source, error: err.message }, 'malformed feed refused; nothing changed');
    } else if (err instanceof FeedUnavailableError) {
      result = { outcome: 'unavailable', error: err.message };
      log.warn({ source: feed.source, error: err.message }, 'feed unavailable');
    } else {
      throw err;
    }
  }
  await record(pool, feed.source, result);
  return result;
}
