/**
 * What slotwatch writes to people never lets user-typed text read as its own words: the
 * alert email greets by a first name only when it is one word, and the account emails hold
 * no user text at all (only our words and links built from PUBLIC_BASE_URL and a token).
 */
import { describe, expect, it } from 'vitest';
import { resetEmail, resetLink, signUpAttemptEmail, verificationEmail, verifyLink } from '../../src/accounts/account-emails.js';
import { greetingName, normaliseName } from '../../src/accounts/names.js';
import { messageFooter, renderAlertEmail, renderDigestEmail, type AlertFacts } from '../../src/alerts/templates.js';

const facts: AlertFacts = {
  center: 'Leeds',
  testType: 'practical driving test',
  date: 'Tuesday 15 July 2031',
  time: '09:30',
  distance: '3.2 miles away',
  holdUrl: 'https://slotwatch.test/slots/1',
};

const footer = messageFooter('https://slotwatch.test', false);

describe('names in messages', () => {
  it('greets by a one-word first name, and by none when the name could read as a sentence', () => {
    for (const name of ['Sam', "O'Neill", 'Jean-Luc', 'Zoë', '王小明']) {
      expect(renderAlertEmail(facts, name, 'https://slotwatch.test/u', footer).text.split('\n')[0]).toBe(`Hello ${name},`);
    }
    // each passes the name rule, yet could be read as slotwatch speaking
    for (const name of ['Your account is locked. Call', 'Sam. Reply with your password', 'J. R. R.']) {
      expect(normaliseName(name)).toBe(name);
      const email = renderAlertEmail(facts, name, 'https://slotwatch.test/u', footer);
      expect(email.text.split('\n')[0]).toBe('Hello,');
      expect(email.html).not.toContain(name);
      // a digest greets by the same rule
      const digest = renderDigestEmail([facts, facts], name, 'https://slotwatch.test/u', footer);
      expect(digest.text.split('\n')[0]).toBe('Hello,');
      expect(digest.html).not.toContain(name);
    }
    expect(greetingName(null)).toBeNull();
    // names stored before the rule are still handled: markup is neither greeted nor unescaped
    const old = renderAlertEmail(facts, '<b>Sam</b>', 'https://slotwatch.test/u', footer);
    expect(old.html).not.toContain('<b>');
    expect(old.text.split('\n')[0]).toBe('Hello,');
  });

  it('refuses what is not a name: control characters, line breaks, digits, markup, URLs, format characters', () => {
    for (const bad of ['Sam\r\nBcc: x', 'Sa\tm', 'R2D2', '<Sam>', 'http://x', 'Sam\u200b', 'Sam\u202e', ' ', '-', "'", 'Sam_', 'Sam@x']) {
      expect(normaliseName(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});

describe('account emails', () => {
  const base = 'https://slotwatch.test';
  const token = 'T'.repeat(43);

  it('carry only our words and our links, in text and escaped HTML', () => {
    const verify = verificationEmail(verifyLink(base, token));
    expect(verify.subject).toBe('Confirm your email address for slotwatch');
    expect(verify.text).toContain(`${base}/verify#token=${token}`);
    expect(verify.text).toContain('for 48 hours');
    expect(verify.html).toContain(`<a href="${base}/verify#token=${token}">`);

    const reset = resetEmail(resetLink(base, token));
    expect(reset.text).toContain(`${base}/reset-password#token=${token}`);
    expect(reset.text).toContain('for 30 minutes');

    const attempt = signUpAttemptEmail(base);
    expect(attempt.text).toContain(`${base}/signin`);
    expect(attempt.text).toContain(`${base}/forgot-password`);
    expect(attempt.text).not.toContain('token');

    // a base URL is configuration, not user text, but it is escaped all the same
    expect(signUpAttemptEmail('https://x.test/"><script>').html).not.toContain('"><script>');
  });
});
