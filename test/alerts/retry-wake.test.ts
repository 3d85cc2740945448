/**
 * Retries waiting on a receiver that was down are sent as soon as it accepts again, not
 * when each one's backoff ends; a refusal of one message alone keeps its backoff.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver, type SmtpReceiver } from '../../dev/smtp-receiver.js';
import { useTestContext } from '../helpers/context.js';
import { alertRow, enqueue, finished, insertAlert, startHarness, testConfig, until, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
let smtp: SmtpReceiver;
let h: Harness;

beforeAll(async () => {
  smtp = await startSmtpReceiver();
  // a first retry 10 to 20 s away: what the test must not have to wait for
  h = await startHarness(testConfig(ctx, { SMTP_URL: smtp.url, DELIVERY_BACKOFF_MS: '20000' }));
});

afterAll(async () => {
  await h?.close();
  await smtp?.close();
});

const mailsTo = (email: string) => smtp.messages.filter((m) => m.envelopeTo.includes(email));

describe('retries waiting on a receiver', () => {
  it('are woken by the first send it accepts again; a refusal of one address alone is not', async () => {
    const email = h.producer.deliveries.email[0]!;
    const down = [await insertAlert(ctx.pool), await insertAlert(ctx.pool)];
    const greylisted = await insertAlert(ctx.pool);
    // the server down for the first two; a 450 for the third's address alone
    await smtp.stop();
    for (const a of down) await enqueue(h.producer, a);
    const refused = async (id: string) => (await alertRow(ctx.pool, id)).attempts === 1 && (await email.getJobState(id)) === 'delayed';
    await until(async () => (await refused(down[0]!.alertId)) && (await refused(down[1]!.alertId)), 'both sends refused and delayed');
    await smtp.start();
    smtp.setMode({ kind: 'reject-rcpt', match: new RegExp(greylisted.email.replace(/\W/g, '\\$&')), code: 450 });
    await enqueue(h.producer, greylisted);
    await until(() => refused(greylisted.alertId), 'the greylisted address refused and delayed');

    // the server accepts again: the next send it takes wakes the two waiting on it
    const probe = await insertAlert(ctx.pool);
    const back = Date.now();
    await enqueue(h.producer, probe);
    for (const a of down) expect(await waitForAlert(ctx.pool, a.alertId, finished, 8000)).toMatchObject({ status: 'SENT', attempts: 2 });
    expect(Date.now() - back, 'sent well before their backoff of 10 s or more ended').toBeLessThan(8000);
    for (const a of [...down, probe]) expect(mailsTo(a.email)).toHaveLength(1);
    expect(await email.getJobState(greylisted.alertId)).toBe('delayed');
    expect(await alertRow(ctx.pool, greylisted.alertId)).toMatchObject({ status: 'PENDING', attempts: 1 });
  });
});
