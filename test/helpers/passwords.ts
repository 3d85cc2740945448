/**
 * Cheap password hashes for test files that are about accounts, pages or routes rather
 * than about the cost of hashing. A hash names its own scrypt parameters, so a cheap one
 * verifies as any other; at OWASP's cost each hash is about a second of CPU on two shared
 * cores, and the files that sign up and sign in a few dozen times spent most of their time
 * there. The real cost stays tested where it is the subject: test/accounts/auth.test.ts
 * (the app's own lane stores OWASP's parameters) and hash-lane.test.ts.
 */
import { beforeAll } from 'vitest';
import { HashLane } from '../../src/accounts/hash-lane.js';
import { hashPassword, type ScryptParams } from '../../src/accounts/passwords.js';
import type { TestApp } from './app.js';

export const CHEAP_SCRYPT: ScryptParams = { log2N: 10, r: 8, p: 1 };

/** A stored hash of `password` at CHEAP_SCRYPT, for users a test inserts itself. */
export function cheapHash(password: string): Promise<string> {
  return hashPassword(password, CHEAP_SCRYPT);
}

/**
 * New passwords (sign-up, reset, change) through the app's lane, with the same bounds,
 * hashed at CHEAP_SCRYPT. Call after useTestApp, so it runs once the app is built.
 */
export function useCheapHashes(t: TestApp): void {
  beforeAll(() => {
    t.app.hashLane = new HashLane(t.app.hashLane.concurrency, t.app.hashLane.queueLimit, cheapHash);
  });
}
