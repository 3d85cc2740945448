/** `npm run cli -- feed:poll [URL]`: polls the availability feed once now and prints the outcome. */
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { createPool } from '../../db/pool.js';
import { log } from '../../log.js';
import { HttpSlotFeed } from '../../slots/feeds/http-feed.js';
import { pollFeed } from '../../slots/feeds/poll.js';

export const feedPoll: Command = {
  name: 'feed:poll',
  usage: '[URL]',
  async run(args, config) {
    const url = args[0] ?? config.FEED_URL;
    if (!url) throw new UsageError('no feed: set FEED_URL or give the URL');
    if (!/^https?:\/\//.test(url)) throw new UsageError('the feed URL must start with http:// or https://');
    const pool = createPool(config.DATABASE_DIRECT_URL, { max: 2, applicationName: 'slotwatch-cli' });
    try {
      const result = await pollFeed(pool, new HttpSlotFeed(url, config.FEED_SOURCE), log);
      process.stdout.write(JSON.stringify(result) + '\n');
      return result.outcome === 'ok' ? 0 : 1;
    } finally {
      await pool.end();
    }
  },
};
