/**
 * Push opt-in on the learner pages, in real headless Chromium. This Chromium has no push
 * service, so pushManager.subscribe() itself is refused: the first test asserts everything
 * up to and including that call (permission, the service worker registered at /sw.js, the
 * call made with the server's VAPID key, and the page saying plainly it could not). The
 * second replaces only the browser's missing push service with the project's test push
 * receiver, to show the page then registers the subscription with the API and deletes it
 * when turned off. The third delivers a push to the service worker through DevTools and
 * checks the notification it shows and the page its click opens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import webpush from 'web-push';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/paths.js';
import { createUser } from '../../src/accounts/users.js';
import { useTestApp } from '../helpers/app.js';
import { browserMissing, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { insertCenter, insertSlot } from '../helpers/factories.js';
import { startPushReceiver, type PushReceiver } from '../../dev/push-receiver.js';
import { eventually, expectAccessible, watchCsp } from './browser-kit.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const BROWSER_SCRIPTS = join(projectRoot, 'test', 'web', 'browser');
const vapid = webpush.generateVAPIDKeys();
const t = useTestApp({ VAPID_PUBLIC_KEY: vapid.publicKey, VAPID_PRIVATE_KEY: vapid.privateKey, PUSH_ALLOW_LOCAL_ENDPOINTS: true, LOGIN_LIMIT_PER_MINUTE: 1000 });
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
let base = '';
let browser: Browser | undefined;
let receiver: PushReceiver;

beforeAll(async () => {
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  receiver = await startPushReceiver(vapid.publicKey);
  if (!browserMissing) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await receiver?.close();
});

/** A new learner signed in on /watches, notifications allowed for the site. */
async function learnerOnWatches(init?: (page: Page) => Promise<void>): Promise<{ context: BrowserContext; page: Page; userId: string; csp: string[] }> {
  const email = `push-${Math.random().toString(36).slice(2, 10)}@pages.test`;
  const user = await createUser(t.ctx.pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT' });
  const context = await browser!.newContext({ viewport: { width: 390, height: 844 } });
  const csp = watchCsp(context);
  await context.grantPermissions(['notifications'], { origin: base });
  const page = await context.newPage();
  if (init) await init(page);
  await page.goto(`${base}/signin`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/watches`);
  return { context, page, userId: user.id, csp };
}

const subscriptionCount = async (userId: string) =>
  (await t.ctx.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM push_subscriptions WHERE user_id = $1`, [userId])).rows[0]!.n;

describe.skipIf(browserMissing)(`push opt-in in Chromium${browserMissing ? ` (skipped: ${browserMissing})` : ''}`, () => {
  it('asks permission, registers the service worker and subscribes with the VAPID key; says so when the browser refuses', async () => {
    const { context, page, userId, csp } = await learnerOnWatches(async (p) => {
      await p.addInitScript({ path: join(BROWSER_SCRIPTS, 'push-spy.js') });
    });
    await page.getByRole('button', { name: 'Turn on push alerts' }).click();
    await eventually(() => page.evaluate<number>('window.subscribeCalls.length')).toBe(1);
    const [call] = await page.evaluate<{ userVisibleOnly: boolean; key: number[] }[]>('window.subscribeCalls');
    expect(call!.userVisibleOnly).toBe(true);
    expect(Buffer.from(call!.key).toString('base64url')).toBe(vapid.publicKey);
    expect(await page.evaluate('Notification.permission')).toBe('granted');
    expect(await page.evaluate(`navigator.serviceWorker.getRegistration('/').then((r) => r?.active?.scriptURL)`)).toBe(`${base}/sw.js`);

    // no push service in this Chromium: the page says so, and nothing half-registered remains
    await eventually(() => page.locator('#push-state').innerText()).toContain('could not sign up for push alerts');
    expect(await page.locator('#alert').innerText()).toContain('Push alerts could not be turned on');
    expect(await page.getByRole('button', { name: 'Turn on push alerts' }).isEnabled()).toBe(true);
    expect(await subscriptionCount(userId)).toBe(0);
    await page.screenshot({ path: screenshotPath('learner-push-refused'), fullPage: true });
    await expectAccessible(page, 'watches with push refused');
    expect(csp).toEqual([]);
    await context.close();
  });

  it('registers the subscription with the API, and turning off deletes it and unsubscribes', async () => {
    const sub = receiver.subscribe();
    // the browser's missing push service, replaced by the test push receiver's subscription
    const { context, page, userId } = await learnerOnWatches(async (p) => {
      await p.addInitScript({ content: `window.standInSubscription = ${JSON.stringify({ endpoint: sub.endpoint, keys: sub.keys })};` });
      await p.addInitScript({ path: join(BROWSER_SCRIPTS, 'push-service-stand-in.js') });
    });
    await page.getByRole('button', { name: 'Turn on push alerts' }).click();
    await eventually(() => page.locator('#push-state').innerText()).toBe('Push alerts are on for this device.');
    const { rows } = await t.ctx.pool.query(`SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = $1`, [userId]);
    expect(rows).toEqual([{ endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth }]);
    await page.screenshot({ path: screenshotPath('learner-push-on'), fullPage: true });

    await page.getByRole('button', { name: 'Turn off push alerts' }).click();
    await eventually(() => page.locator('#push-state').innerText()).toBe('Push alerts are off on this device.');
    expect(await subscriptionCount(userId)).toBe(0);
    expect(await page.evaluate('window.unsubscribed')).toBe(1);
    await context.close();
  });

  it('shows the alert a push carries and opens the slot page when it is clicked', async () => {
    const centre = await insertCenter(t.ctx.pool, { name: 'Garretts Green', postcode: 'B33 0SS' });
    const slot = await insertSlot(t.ctx.pool, { centerId: centre.id });
    const { context, page } = await learnerOnWatches();
    // register the worker the way the page does, and wait for it to control nothing yet but be active
    await page.evaluate(`navigator.serviceWorker.register('/sw.js', { scope: '/' }).then(() => navigator.serviceWorker.ready).then(() => true)`);
    const cdp = await context.newCDPSession(page);
    const registrations = new Map<string, string>();
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
      for (const r of e.registrations) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
    });
    await cdp.send('ServiceWorker.enable');
    await eventually(() => registrations.get(`${base}/`)).toBeDefined();
    const registrationId = registrations.get(`${base}/`)!;

    // what src/alerts/templates.ts sends; the link names PUBLIC_BASE_URL, another host than this test's
    const payload = { title: 'Test slot free: Garretts Green', body: 'Tuesday, 6 January 2031 at 09:00. Tap to hold it.', url: `https://slotwatch.example/slots/${slot.id}` };
    const shown = () =>
      page.evaluate<{ title: string; body: string; url: string }[]>(
        `navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) => ns.map((n) => ({ title: n.title, body: n.body, url: n.data?.url })))`,
      );
    // DevTools drops a synthetic push now and then while the worker is starting up (seen on
    // a loaded machine), so it is delivered again until a notification shows; the tag is
    // the notification's URL, so a second delivery replaces the first rather than adding one
    const deliver = async (data: unknown, count: number) => {
      for (let attempt = 1; attempt <= 5; attempt++) {
        await cdp.send('ServiceWorker.deliverPushMessage', { origin: `${base}/`, registrationId, data: JSON.stringify(data) });
        const deadline = Date.now() + 4000;
        while (Date.now() < deadline && (await shown()).length < count) await new Promise((r) => setTimeout(r, 100));
        if ((await shown()).length >= count) return;
      }
    };
    await deliver(payload, 1);
    await eventually(shown).toEqual([{ title: payload.title, body: payload.body, url: `${base}/slots/${slot.id}` }]);

    // a payload pointing elsewhere opens our own page, never another site
    await deliver({ title: 'x', body: 'y', url: 'https://evil.example/phish' }, 2);
    await eventually(async () => (await shown()).map((n) => n.url)).toContain(`${base}/watches`);

    // the click: a synthetic notificationclick in the worker (see browser/notification-click.js)
    const worker = context.serviceWorkers().find((w) => w.url() === `${base}/sw.js`)!;
    const click = readFileSync(join(BROWSER_SCRIPTS, 'notification-click.js'), 'utf8').replace('SLOT_URL', JSON.stringify(`${base}/slots/${slot.id}`));
    const opened = await worker.evaluate(click);
    expect(opened).toEqual({ url: `${base}/slots/${slot.id}`, left: 0 });
    await cdp.detach();
    await context.close();
  });
});
