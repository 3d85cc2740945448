/**
 * The pages outside the learner scope under their content security policies in a real
 * headless Chromium: the unsubscribe page (its stylesheet applies, its button works), the
 * admin sign-in and the queue board it leads to (Bull Board's scripts run and draw the
 * queues), and Swagger UI (its scripts draw the operations). A policy that refused a
 * page's own script or style would show as a console refusal, or as a page that never draws.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { useTestApp } from '../helpers/app.js';
import { browserMissing, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { insertUser, insertWatch } from '../helpers/factories.js';
import { watchCsp } from './browser-kit.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: 1000 });
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
let base = '';
let browser: Browser | undefined;

beforeAll(async () => {
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  if (!browserMissing) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page; csp: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
  return { context, page: await context.newPage(), csp: watchCsp(context) };
}

describe.skipIf(browserMissing)('pages under their policies', () => {
  it('the unsubscribe page is styled by its stylesheet and its button unsubscribes', async () => {
    const user = await insertUser(t.ctx.pool);
    const watch = await insertWatch(t.ctx.pool, { userId: user.id });
    const { rows } = await t.ctx.pool.query<{ token: string }>(`SELECT unsubscribe_token AS token FROM user_preferences WHERE id = $1`, [watch.id]);
    const { context, page, csp } = await newPage();
    await page.goto(`${base}/unsubscribe/${rows[0]!.token}`);
    // the skip link is moved off screen by /assets/style.css: proof the stylesheet applied
    const skipLeft = await page.locator('a.skip').evaluate((el) => el.getBoundingClientRect().left);
    expect(skipLeft).toBeLessThan(0);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: 'Unsubscribed' }).waitFor();
    const active = await t.ctx.pool.query<{ is_active: boolean }>(`SELECT is_active FROM user_preferences WHERE id = $1`, [watch.id]);
    expect(active.rows[0]!.is_active).toBe(false);
    expect(csp).toEqual([]);
    await context.close();
  });

  it('the admin signs in and the queue board draws its queues', async () => {
    await createUser(t.ctx.pool, { email: 'admin@policies.test', passwordHash: await cheapHash(PASSWORD), role: 'ADMIN' });
    const { context, page, csp } = await newPage();
    await page.goto(`${base}/admin/login`);
    await page.getByLabel('Email').fill('admin@policies.test');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/admin/queues`);
    // drawn by Bull Board's scripts, from its JSON API
    await page.getByText('deliveries-email').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: screenshotPath('policies-board') });
    // the one refusal: the Google Fonts stylesheet Bull Board links, kept out on purpose
    expect(csp.filter((c) => !c.includes('fonts.googleapis.com'))).toEqual([]);
    await context.close();
  });

  it('Swagger UI draws the operations', async () => {
    const { context, page, csp } = await newPage();
    await page.goto(`${base}/api/docs/`);
    await page.getByText('/api/auth/login').first().waitFor({ timeout: 20_000 });
    await page.screenshot({ path: screenshotPath('policies-docs') });
    expect(csp).toEqual([]);
    await context.close();
  });
});
