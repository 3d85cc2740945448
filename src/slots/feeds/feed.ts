/** A provider's published availability, as slotwatch reads it. */
import type { TestType } from '../test-types.js';

export interface FeedSlot {
  /** The provider's id for the slot: with the feed's source, the key of time_slots. */
  externalId: string;
  /** test_centers.external_id of the centre. */
  centerExternalId: string;
  testType: TestType;
  start: Date;
  end: Date;
  available: boolean;
}

/** Something that yields a whole, validated availability document, or throws. */
export interface SlotFeed {
  /** time_slots.source for the slots it brings. */
  readonly source: string;
  /** The document's slots; throws MalformedFeedError or FeedUnavailableError. */
  fetch(): Promise<FeedSlot[]>;
}

/** The document was fetched but is not a valid feed: nothing of it is applied. */
export class MalformedFeedError extends Error {
  override name = 'MalformedFeedError';
}

/** The feed could not be fetched (network, HTTP status, timeout): try again at the next poll. */
export class FeedUnavailableError extends Error {
  override name = 'FeedUnavailableError';
}
