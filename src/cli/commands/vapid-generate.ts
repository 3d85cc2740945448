import webpush from 'web-push';
import { UsageError, type Command } from '../command.js';

/** Prints a new VAPID key pair as environment lines, ready for the deployment's settings. */
export const vapidGenerate: Command = {
  name: 'vapid:generate',
  usage: '(no arguments)',
  async run(args) {
    if (args.length) throw new UsageError(`takes no arguments (got ${args.join(' ')})`);
    const { publicKey, privateKey } = webpush.generateVAPIDKeys();
    // stdout carries only the two lines, so `npm run -s cli -- vapid:generate >> .env` works
    console.log(`VAPID_PUBLIC_KEY=${publicKey}`);
    console.log(`VAPID_PRIVATE_KEY=${privateKey}`);
    console.error('Keep VAPID_PRIVATE_KEY secret. Changing the pair later invalidates every browser subscription.');
  },
};
