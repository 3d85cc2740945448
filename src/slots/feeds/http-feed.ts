/** The HTTP adapter: GETs a JSON or CSV availability document from FEED_URL. */
import { FeedUnavailableError, MalformedFeedError, type FeedSlot, type SlotFeed } from './feed.js';
import { parseFeed } from './parse.js';

const MAX_BYTES = 20 * 1024 * 1024;

export class HttpSlotFeed implements SlotFeed {
  constructor(
    private readonly url: string,
    readonly source: string,
    private readonly timeoutMs = 15_000,
  ) {}

  /** Fetches and validates the whole document. */
  async fetch(): Promise<FeedSlot[]> {
    let res: Response;
    try {
      res = await fetch(this.url, { signal: AbortSignal.timeout(this.timeoutMs), headers: { accept: 'application/json, text/csv' } });
    } catch (err) {
      throw new FeedUnavailableError(`could not fetch the feed: ${(err as Error).message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new FeedUnavailableError(`the feed answered HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > MAX_BYTES) {
      await res.body?.cancel();
      throw new MalformedFeedError(`the feed is larger than ${MAX_BYTES} bytes`);
    }
    const body = await res.text();
    if (body.length > MAX_BYTES) throw new MalformedFeedError(`the feed is larger than ${MAX_BYTES} bytes`);
    return parseFeed(body, res.headers.get('content-type') ?? '');
  }
}
