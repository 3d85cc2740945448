/** The rules that decide retry or give up, and how long to wait. Pure functions. */
import { describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/alerts/email.js';
import { MAX_BACKOFF_MS, parseRetryAfter, PermanentSendError, retryDelayMs, RetryableSendError } from '../../src/alerts/send-errors.js';
import { slotTopic } from '../../src/alerts/push.js';

describe('retryDelayMs', () => {
  it('doubles from the base with jitter in [half, full], capped, never before Retry-After', () => {
    expect(retryDelayMs(1, 1000, null, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, null, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, null, () => 1)).toBe(8000);
    expect(retryDelayMs(4, 1000, null, () => 0)).toBe(4000);
    expect(retryDelayMs(40, 1000, null, () => 1)).toBe(MAX_BACKOFF_MS);
    expect(retryDelayMs(1, 1000, 30_000, () => 1)).toBe(30_000);
    expect(retryDelayMs(5, 1000, 2000, () => 1)).toBe(16_000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2031-01-14T09:00:00Z');
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(['5'], now)).toBe(5000);
    expect(parseRetryAfter('Tue, 14 Jan 2031 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 14 Jan 2031 08:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
  });
});

describe('classifySmtpError', () => {
  it('retries 4xx and connection trouble; gives up on 5xx and bad addresses', () => {
    expect(classifySmtpError(Object.assign(new Error('busy'), { responseCode: 421, code: 'EPROTOCOL' }))).toBeInstanceOf(RetryableSendError);
    expect(classifySmtpError(Object.assign(new Error('mailbox full'), { responseCode: 452, code: 'EENVELOPE' }))).toBeInstanceOf(RetryableSendError);
    expect(classifySmtpError(Object.assign(new Error('refused'), { code: 'ESOCKET' }))).toBeInstanceOf(RetryableSendError);
    expect(classifySmtpError(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }))).toBeInstanceOf(RetryableSendError);
    expect(classifySmtpError(Object.assign(new Error('no such user'), { responseCode: 550, code: 'EENVELOPE' }))).toBeInstanceOf(PermanentSendError);
    expect(classifySmtpError(Object.assign(new Error('Invalid recipient'), { code: 'EENVELOPE' }))).toBeInstanceOf(PermanentSendError);
  });
});

describe('slotTopic', () => {
  it('is the slot id in at most 32 URL-safe characters', () => {
    const topic = slotTopic('0b9e5d0c-4f7a-4c1e-9a53-3f7f0c2b8d11');
    expect(topic).toBe('0b9e5d0c4f7a4c1e9a533f7f0c2b8d11');
    expect(topic).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  });
});
