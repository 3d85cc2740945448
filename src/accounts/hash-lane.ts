/**
 * A bound on password hashes made at once for new passwords (sign-up, reset, change).
 * Each scrypt hash takes 128 MiB and one of libuv's four threadpool threads for a few
 * hundred milliseconds; a burst of sign-ups hashing freely would fill the pool, and every
 * sign-in (which verifies with the same scrypt) would wait behind them. New hashes go
 * through this lane, a few at a time with a bounded queue; sign-ins do not, so they always
 * find threads free. When the queue is full the caller is told to come back later.
 */
import { hashPassword } from './passwords.js';

/** The lane's queue is full: try again in a few seconds. */
export class HashLaneFullError extends Error {
  override name = 'HashLaneFullError';
}

export class HashLane {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** The most hashes that ever ran at once (tests check it never passes the bound). */
  peakRunning = 0;

  constructor(
    readonly concurrency: number,
    readonly queueLimit: number,
    private readonly hashFn: (password: string) => Promise<string> = (password) => hashPassword(password),
  ) {}

  /** Hashes `password` when a place is free; throws HashLaneFullError when the queue is full. */
  async hash(password: string): Promise<string> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) throw new HashLaneFullError('too many passwords are being set right now');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    this.peakRunning = Math.max(this.peakRunning, this.running);
    try {
      return await this.hashFn(password);
    } finally {
      // hand the place straight to the next in line, or give it back
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Hashes running and waiting now. */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.waiting.length };
  }
}
