import { expect } from 'vitest';

/** Awaits `promise`, expecting PostgreSQL to refuse it with `code` (and `constraint`, if given). */
export async function expectRefused(promise: Promise<unknown>, code: string, constraint?: string): Promise<void> {
  let error: (Error & { code?: string; constraint?: string }) | undefined;
  try {
    await promise;
  } catch (err) {
    error = err as typeof error;
  }
  expect(error, 'the database accepted what it should refuse').toBeDefined();
  expect({ code: error!.code, ...(constraint ? { constraint: error!.constraint } : {}) }).toEqual({
    code,
    ...(constraint ? { constraint } : {}),
  });
}
