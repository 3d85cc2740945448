import { newSecretKey } from '../../config.js';
import { UsageError, type Command } from '../command.js';

/** Prints a new SECRET_KEY (32 random bytes, base64url) as an environment line. */
export const secretGenerate: Command = {
  name: 'secret:generate',
  usage: '(no arguments)',
  async run(args) {
    if (args.length) throw new UsageError(`takes no arguments (got ${args.join(' ')})`);
    // stdout carries only the line, so `npm run -s cli -- secret:generate >> .env` works
    console.log(`SECRET_KEY=${newSecretKey()}`);
    console.error('Keep SECRET_KEY secret. Changing it later resets the sign-in rate-limit counters and device cookies, nothing else.');
  },
};
