/**
 * What a digest says: soonest first, ten listed and "and N more" with the alerts page, the
 * cap notice on the message that reaches the cap, and a push payload inside the push
 * services' 4 KB however many slots the digest holds.
 */
import { describe, expect, it } from 'vitest';
import { alertFacts, messageFooter, renderDigestEmail, renderDigestPush } from '../../src/alerts/templates.js';

const BASE = 'https://slotwatch.test';
const facts = (n: number, centre = 'Mill Hill') =>
  Array.from({ length: n }, (_, i) =>
    alertFacts(
      { centerName: `${centre} ${i}`, testType: 'practical', startTime: new Date(Date.UTC(2031, 0, 14, 9 + (i % 8), 30) + Math.floor(i / 8) * 86_400_000), distanceM: 6437.4, slotId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` },
      BASE,
    ),
  );

describe('a digest', () => {
  it('by email lists ten slots, then "and N more" with a link to them all', () => {
    const all = facts(25);
    const mail = renderDigestEmail(all, 'Sam', `${BASE}/unsubscribe/t`, messageFooter(BASE, false));
    expect(mail.subject).toBe('25 test slots free near you');
    expect([...mail.text.matchAll(/\/slots\/[0-9a-f-]{36}/g)]).toHaveLength(10);
    expect(mail.text).toContain(`And 15 more: ${BASE}/alerts`);
    expect(mail.text).not.toContain('daily limit');
    expect(mail.html).toContain(`<a href="${BASE}/alerts">And 15 more</a>`);
  });

  it('that reaches the daily cap says so and links the free slots', () => {
    const mail = renderDigestEmail(facts(2), null, `${BASE}/unsubscribe/t`, messageFooter(BASE, true));
    expect(mail.text).toContain('reached your daily limit');
    expect(mail.text).toContain(`${BASE}/alerts#free`);
    expect(renderDigestPush(facts(2), [], messageFooter(BASE, true)).body).toContain('Daily alert limit reached');
  });

  it('by push stays far inside 4 KB with 1,000 slots at centres with long names', () => {
    const all = facts(1000, 'Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch Driving Test Centre, Anglesey');
    const payload = renderDigestPush(all, all.map((f) => f.holdUrl.slice(-36)), messageFooter(BASE, true));
    // the encrypted record adds 86 bytes (RFC 8291) to the JSON
    expect(Buffer.byteLength(JSON.stringify(payload)) + 86).toBeLessThan(4096);
    expect(payload.slotIds).toHaveLength(10);
    expect(payload.body).toContain('and 997 more');
    expect(payload.url).toBe(`${BASE}/alerts`);
  });
});
