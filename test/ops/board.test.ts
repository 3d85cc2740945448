/**
 * The admin queue board in a real headless Chromium: an admin signs in, sees every queue
 * and its counts, and retries a failed job; a CLIENT is refused and sees no job data.
 */
import { Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/accounts/passwords.js';
import { createUser } from '../../src/accounts/users.js';
import { bullPrefix, QUEUES } from '../../src/queues/names.js';
import { useTestApp } from '../helpers/app.js';
import { browserMissing, launchBrowser, screenshotPath } from '../helpers/browser.js';

const t = useTestApp();
const PASSWORD = 'correct horse battery';
let base = '';
let browser: Browser | undefined;
let deliveries: Queue;

beforeAll(async () => {
  const hash = await hashPassword(PASSWORD);
  await createUser(t.ctx.pool, { email: 'admin@board.test', passwordHash: hash, role: 'ADMIN' });
  await createUser(t.ctx.pool, { email: 'learner@board.test', passwordHash: hash, role: 'CLIENT' });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });

  // one failed delivery (ids only in its data) and one completed, on the app's own queues
  const prefix = bullPrefix(t.config.QUEUE_PREFIX, 'deliveries-email');
  deliveries = new Queue('deliveries-email', { connection: t.ctx.redis, prefix });
  const events = new QueueEvents('deliveries-email', { connection: t.ctx.redis.duplicate(), prefix });
  await events.waitUntilReady();
  const worker = new Worker(
    'deliveries-email',
    async (job) => {
      if (job.id === 'alert-broken') throw new UnrecoverableError('SMTP 550 mailbox unavailable');
    },
    { connection: t.ctx.redis.duplicate({ maxRetriesPerRequest: null }), prefix },
  );
  const jobs = await deliveries.addBulk(['alert-ok', 'alert-broken'].map((id) => ({ name: 'send', data: { alertId: id }, opts: { jobId: id } })));
  await Promise.all(jobs.map((j) => j.waitUntilFinished(events).catch(() => undefined)));
  await worker.close();
  await events.close();
  if (!browserMissing) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await deliveries?.close();
});

describe('the queue board over HTTP', () => {
  it('sends anonymous pages to sign in and refuses anonymous API calls', async () => {
    const page = await fetch(`${base}/admin/queues`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/admin/login');
    const api = await fetch(`${base}/admin/queues/api/queues`);
    expect(api.status).toBe(401);
    expect(await api.text()).not.toContain('alert-broken');
  });

  it('limits failed sign-ins per address and client like every other login, answering 429 with Retry-After', async () => {
    const attempt = () =>
      fetch(`${base}/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'email=guess%40board.test&password=wrong',
        redirect: 'manual',
      });
    const codes: number[] = [];
    for (let i = 0; i < t.config.LOGIN_LIMIT_PER_MINUTE; i++) codes.push((await attempt()).status);
    expect(codes.every((c) => c === 401)).toBe(true);
    const limited = await attempt();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('does not take a token in the URL', async () => {
    const { token } = await t.signedIn('ADMIN');
    const res = await fetch(`${base}/admin/queues/api/queues?token=${token}`);
    expect(res.status).toBe(401);
  });
});

describe.skipIf(browserMissing)(`the queue board in Chromium${browserMissing ? ` (skipped: ${browserMissing})` : ''}`, () => {
  it('lets an admin sign in, see every queue with its counts, and retry a failed job', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin/queues`);
    expect(new URL(page.url()).pathname).toBe('/admin/login');
    await page.getByLabel('Email').fill('admin@board.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/admin/queues**`);
    for (const name of Object.values(QUEUES)) await expect.poll(() => page.getByText(name, { exact: true }).count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('Loading').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('board-overview'), fullPage: true });
    // each queue's card names it with its job total; deliveries-email has one failed of two
    const overview = await page.locator('main').innerText();
    expect(overview).toMatch(/deliveries-email[\s\S]*FAILED\s+1[\s\S]*2 Jobs/);
    expect(overview).toMatch(/maintenance[\s\S]*0 Jobs/);

    // the session is a cookie the page cannot read, scoped to /admin
    const cookies = await context.cookies(`${base}/admin/queues`);
    const cookie = cookies.find((c) => c.name === 'sw_admin');
    expect(cookie).toMatchObject({ name: 'sw_admin', httpOnly: true, sameSite: 'Strict', path: '/admin' });
    // and the device cookie that lets this browser in when strangers have failed for the address
    expect(cookies.find((c) => c.name === 'sw_device')).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(page.url()).not.toContain(cookie!.value);

    await page.goto(`${base}/admin/queues/queue/${'deliveries-email'}?status=failed`);
    await expect.poll(() => page.getByText('SMTP 550 mailbox unavailable').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('board-failed-job'), fullPage: true });
    await page.getByRole('button', { name: 'Retry all' }).click();
    // the board asks before acting on every job of a state
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => deliveries.getFailedCount()).toBe(0);
    expect(await deliveries.getJobState('alert-broken')).toBe('waiting');
    await context.close();
  });

  it('refuses a signed-in CLIENT without showing job data', async () => {
    const context = await browser!.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/admin/login`);
    await page.getByLabel('Email').fill('learner@board.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByText('The queue board is for admins only.').count()).toBe(1);
    const body = await page.content();
    expect(body).not.toContain('alert-broken');
    await page.screenshot({ path: screenshotPath('board-refused') });
    const api = await page.request.get(`${base}/admin/queues/api/queues`);
    expect([401, 403]).toContain(api.status());
    expect(await api.text()).not.toContain('alert-broken');
    await context.close();
  });

  it('shows a wrong password as an error on the form', async () => {
    const page = await browser!.newPage();
    await page.goto(`${base}/admin/login`);
    await page.getByLabel('Email').fill('admin@board.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Email or password is wrong.');
    await page.close();
  });
});
