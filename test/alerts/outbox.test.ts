/** Without SMTP_URL, alert emails are written as .eml files to OUTBOX_DIR. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestContext } from '../helpers/context.js';
import { BASE_URL, enqueue, finished, insertAlert, startHarness, testConfig, waitForAlert, type Harness } from './fixtures.js';

const ctx = useTestContext();
let dir: string;
let h: Harness;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slotwatch-outbox-'));
  h = await startHarness(testConfig(ctx, { OUTBOX_DIR: dir }));
});

afterAll(async () => {
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the outbox', () => {
  it('holds one .eml per alert, complete with headers and hold link, and the alert is SENT', async () => {
    const a = await insertAlert(ctx.pool);
    await enqueue(h.producer, a);
    const row = await waitForAlert(ctx.pool, a.alertId, finished);
    const path = join(dir, `${a.alertId}.eml`);
    expect(row).toMatchObject({ status: 'SENT', channel: 'email', provider_message_id: `file:${path}` });
    const parsed = await simpleParser(await readFile(path));
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value[0]!.address : null).toBe(a.email);
    expect(parsed.text).toContain(`${BASE_URL}/slots/${a.slotId}`);
    expect(parsed.headerLines.map((l) => l.key)).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));
  });
});
