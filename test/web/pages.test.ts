/**
 * The learner pages in a real headless Chromium against the app listening on a port: the
 * whole path (sign up, the emailed link read from a real SMTP receiver, add a watch by postcode, see the centres it covers, open an alert's
 * slot link signed out, sign in and come back, hold, countdown, confirm), the taken-slot
 * path, My appointments, My account (download your data, delete the account, change the
 * password, sign out everywhere), failures of the network and 4xx answers shown where they
 * belong, a forgotten password reset by its emailed link, and axe-core on every page.
 * Screenshots go to test-results/screenshots/learner-*.png.
 */
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpReceiver } from '../../dev/smtp-receiver.js';
import { createUser } from '../../src/accounts/users.js';
import { useTestApp } from '../helpers/app.js';
import { browserMissing, launchBrowser, screenshotPath } from '../helpers/browser.js';
import { insertAppointment, insertCenter, insertSlot } from '../helpers/factories.js';
import { linkIn, nextMail } from '../helpers/mailbox.js';
import { alertText, eventually, expectAccessible, watchCsp } from './browser-kit.js';
import { cheapHash, useCheapHashes } from '../helpers/passwords.js';

const smtp = await startSmtpReceiver();
afterAll(() => smtp.close());
const t = useTestApp({ LOGIN_LIMIT_PER_MINUTE: 1000, SMTP_URL: smtp.url, REGISTER_LIMIT_PER_MINUTE_IP: 1000, ACCOUNT_EMAIL_LIMIT_PER_MINUTE_IP: 1000 });
useCheapHashes(t);
const PASSWORD = 'correct horse battery';
let base = '';
let browser: Browser | undefined;
const centres: Record<string, string> = {};
const days = (n: number, hour = 9) => {
  const d = new Date(Date.now() + n * 86_400_000);
  d.setUTCHours(hour, 0, 0, 0);
  return d;
};

beforeAll(async () => {
  // Birmingham: two centres 7 miles apart, and Leeds far outside any watch here
  centres.garretts = (await insertCenter(t.ctx.pool, { name: 'Birmingham (Garretts Green)', postcode: 'B33 0SS', latitude: 52.4744, longitude: -1.7766 })).id;
  centres.kings = (await insertCenter(t.ctx.pool, { name: 'Birmingham (Kings Heath)', postcode: 'B14 6AG', latitude: 52.4306, longitude: -1.8935 })).id;
  centres.leeds = (await insertCenter(t.ctx.pool, { name: 'Leeds', postcode: 'LS1 1UR', latitude: 53.8008, longitude: -1.5491 })).id;
  await createUser(t.ctx.pool, { email: 'known@pages.test', passwordHash: await cheapHash(PASSWORD), role: 'CLIENT' });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  if (!browserMissing) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page; csp: string[] }> {
  const context = await browser!.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-GB', timezoneId: 'Europe/London' });
  return { context, page: await context.newPage(), csp: watchCsp(context) };
}

async function signIn(page: Page, email: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function signedInPage(email: string): Promise<{ context: BrowserContext; page: Page; csp: string[] }> {
  const p = await newPage();
  await p.page.goto(`${base}/signin`);
  await signIn(p.page, email);
  await p.page.waitForURL(`${base}/watches`);
  return p;
}

/**
 * An emailed link opened on the app under test: the link is built from PUBLIC_BASE_URL,
 * which cannot name the port the app only gets when it listens, so its path and fragment
 * (where the token is) are opened on that port.
 */
function onTestServer(link: string): string {
  const u = new URL(link);
  return `${base}${u.pathname}${u.hash}`;
}

async function newLearner(): Promise<string> {
  const email = `learner-${Math.random().toString(36).slice(2, 10)}@pages.test`;
  await createUser(t.ctx.pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT' });
  return email;
}

describe.skipIf(browserMissing)(`learner pages in Chromium${browserMissing ? ` (skipped: ${browserMissing})` : ''}`, () => {
  it('walks the whole path: sign up, watch by postcode, covered centres, alert link, sign in, hold, countdown, confirm', async () => {
    const soonSlot = await insertSlot(t.ctx.pool, { centerId: centres.garretts!, start: days(3, 8) });
    await insertSlot(t.ctx.pool, { centerId: centres.garretts!, start: days(4, 8) });
    await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(5, 8) });
    const { context, page, csp } = await newPage();
    const email = `new-${Math.random().toString(36).slice(2, 10)}@pages.test`;

    await page.goto(`${base}/`);
    await page.waitForURL(`${base}/signin`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('First name (optional)').fill('Sam');
    await page.screenshot({ path: screenshotPath('learner-signup'), fullPage: true });
    await page.getByRole('button', { name: 'Create account' }).click();
    // the page ends on "check your inbox"; the account may sign in, but alerts wait for the link
    await eventually(() => page.locator('h1').innerText()).toBe('Check your inbox');
    expect(await page.locator('#signup-done').innerText()).toContain(email);
    await page.screenshot({ path: screenshotPath('learner-signup-check-inbox'), fullPage: true });
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await signIn(page, email);
    await page.waitForURL(`${base}/watches`);
    expect(await page.locator('#verify-notice').innerText()).toContain('Confirm your email address to get alerts');
    await eventually(() => page.locator('#watch-list').innerText()).toContain('no watches yet');

    // the verification email, as the SMTP receiver got it: its link opens a page whose button confirms
    const mail = await nextMail(smtp, email, /^Confirm your email address for slotwatch$/);
    await page.goto(onTestServer(linkIn(mail, '/verify')));
    // the token is taken out of the address bar once read
    await eventually(() => page.url()).toBe(`${base}/verify`);
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await page.locator('#verify-done').waitFor({ state: 'visible' });
    expect(await page.locator('#verify-done').innerText()).toContain('Your email address is confirmed');
    await page.screenshot({ path: screenshotPath('learner-verified'), fullPage: true });
    const { rows: verified } = await t.ctx.pool.query(`SELECT email_verified_at IS NOT NULL AS v FROM users WHERE email = $1`, [email]);
    expect(verified).toEqual([{ v: true }]);
    await page.getByRole('link', { name: 'Go to my watches' }).click();
    await page.waitForURL(`${base}/watches`);
    expect(await page.locator('#verify-notice').count()).toBe(0);

    // a watch by postcode, 10 miles: both Birmingham centres, not Leeds
    await page.getByLabel('Name (optional)').fill('Birmingham');
    await page.getByLabel('Postcode', { exact: true }).fill('B33 0SS');
    // "Check postcode" says where it would go, saving nothing: B33 0SS is not imported here
    await page.getByRole('button', { name: 'Check postcode' }).click();
    await eventually(() => page.locator('#postcode-place').innerText()).toMatch(/^Placed at the centre of B33: B33 0SS is not in our list of full postcodes\. \(52\.4809, -1\.7880\)$/);
    await page.getByLabel('Distance (miles)').fill('10');
    await page.getByRole('button', { name: 'Add watch' }).click();
    const watch = page.locator('article.watch', { hasText: 'Birmingham' });
    await eventually(() => watch.count()).toBe(1);
    const text = await watch.innerText();
    expect(text).toContain('Placed at the centre of B33');
    expect(text).toContain('Covers 2 test centres, with 3 free slots now');
    expect(text).toMatch(/Birmingham \(Garretts Green\)[^\n]*2 free slots/);
    expect(text).toMatch(/Birmingham \(Kings Heath\)[^\n]*1 free slot/);
    expect(text).not.toContain('Leeds');
    // the form was cleared only because the server took it
    expect(await page.getByLabel('Postcode', { exact: true }).inputValue()).toBe('');
    await page.screenshot({ path: screenshotPath('learner-watches'), fullPage: true });

    // sign out; the alert's link (PUBLIC_BASE_URL/slots/<id>) opens signed out
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/signin`);
    await page.goto(`${base}/slots/${soonSlot.id}`);
    await eventually(() => page.locator('#slot-state').innerText()).toBe('This slot is free.');
    const facts = await page.locator('.facts').innerText();
    expect(facts).toContain('Birmingham (Garretts Green) (B33 0SS)');
    await page.screenshot({ path: screenshotPath('learner-slot-signed-out'), fullPage: true });
    await page.getByRole('link', { name: 'Sign in to hold it' }).click();
    await signIn(page, email);
    // back on the slot it came from, now with the distance from the learner's watch
    await page.waitForURL(`${base}/slots/${soonSlot.id}`);
    // the watch is at the centre of B33, about 1.06 km (0.66 miles) from Garretts Green
    expect(await page.locator('.facts').innerText()).toMatch(/Distance\s+0\.7 miles from your nearest watch/);

    await page.getByRole('button', { name: 'Hold this slot' }).click();
    await eventually(() => page.locator('#countdown').innerText()).toMatch(/^[45]:\d\d left to confirm$/);
    expect(await page.evaluate('document.activeElement?.id')).toBe('confirm');
    const first = Number(await page.locator('#countdown').getAttribute('data-seconds-left'));
    await eventually(async () => Number(await page.locator('#countdown').getAttribute('data-seconds-left'))).toBeLessThan(first);
    await page.screenshot({ path: screenshotPath('learner-slot-held'), fullPage: true });
    await page.getByRole('button', { name: 'Confirm booking' }).click();
    await eventually(() => page.locator('#slot-state').innerText()).toBe('Booked. Your test is confirmed.');
    await page.screenshot({ path: screenshotPath('learner-slot-booked'), fullPage: true });
    const { rows } = await t.ctx.pool.query(
      `SELECT a.status::text AS status, s.status::text AS slot_status FROM appointments a JOIN users u ON u.id = a.user_id JOIN time_slots s ON s.id = a.slot_id
        WHERE a.slot_id = $1 AND u.email = $2`,
      [soonSlot.id, email],
    );
    expect(rows).toEqual([{ status: 'CONFIRMED', slot_status: 'BOOKED' }]);

    await page.getByRole('link', { name: 'See my appointments' }).click();
    await page.waitForURL(`${base}/appointments`);
    await eventually(() => page.locator('article.appointment').first().innerText()).toContain('Booked');
    await page.screenshot({ path: screenshotPath('learner-appointments'), fullPage: true });
    expect(csp).toEqual([]);
    await context.close();
  });

  it('edits, pauses, resumes and deletes a watch, and adds one from "use my location"', async () => {
    const email = await newLearner();
    const { context, page, csp } = await signedInPage(email);
    await context.grantPermissions(['geolocation'], { origin: base });
    await context.setGeolocation({ latitude: 52.4306, longitude: -1.8935 });
    await page.getByLabel('Use my location').check();
    await eventually(() => page.locator('#location-state').innerText()).toMatch(/^Using your location \(52\.43\d, -1\.89\d\)\.$/);
    await page.getByLabel('Name (optional)').fill('Here');
    await page.getByLabel('Distance (miles)').fill('3');
    await page.getByLabel('Push alert', { exact: true }).check();
    await page.getByRole('button', { name: 'Add watch' }).click();
    const watch = page.locator('article.watch', { hasText: 'Here' });
    await eventually(() => watch.count()).toBe(1);
    // 3 miles round Kings Heath: only Kings Heath itself
    expect(await watch.innerText()).toContain('Covers 1 test centre');
    expect(await watch.innerText()).toContain('by push alert');

    // edit: the form fills with the watch; a wider radius reaches Garretts Green too
    await page.getByRole('button', { name: 'Edit Here' }).click();
    expect(await page.getByLabel('Distance (miles)').inputValue()).toBe('3');
    expect(await page.evaluate('document.activeElement?.id')).toBe('label');
    await page.getByLabel('Distance (miles)').fill('12');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await eventually(() => watch.innerText()).toContain('Covers 2 test centres');
    const saved = async () =>
      (await t.ctx.pool.query(`SELECT p.radius_miles::float8 AS radius, p.is_active, p.notification_method::text AS method, p.postcode FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.email = $1`, [email])).rows;
    expect(await saved()).toEqual([{ radius: 12, is_active: true, method: 'push', postcode: null }]);

    await page.getByRole('button', { name: 'Pause Here' }).click();
    await eventually(() => watch.innerText()).toContain('Paused');
    expect((await saved())[0].is_active).toBe(false);
    await page.screenshot({ path: screenshotPath('learner-watches-paused'), fullPage: true });
    await expectAccessible(page, 'watches with a paused watch');
    await page.getByRole('button', { name: 'Resume Here' }).click();
    await eventually(async () => (await saved())[0].is_active).toBe(true);
    // the list is drawn again after the change: wait for it, or the next click can land on the old one
    await page.getByRole('button', { name: 'Pause Here' }).waitFor();

    // delete asks first; "Keep it" keeps it
    await page.getByRole('button', { name: 'Delete Here' }).click();
    await page.getByRole('button', { name: 'Keep it' }).click();
    expect(await saved()).toHaveLength(1);
    await page.getByRole('button', { name: 'Delete Here' }).click();
    await page.getByRole('button', { name: 'Yes, delete it' }).click();
    await eventually(() => page.locator('#watch-list').innerText()).toContain('no watches yet');
    expect(await saved()).toHaveLength(0);
    expect(csp).toEqual([]);
    await context.close();
  });

  it('says plainly that a taken slot is taken and lists the nearest free ones', async () => {
    const other = await t.signedIn();
    const taken = await insertSlot(t.ctx.pool, { centerId: centres.garretts!, start: days(6, 10), status: 'HOLD' });
    await insertAppointment(t.ctx.pool, { userId: other.id, slotId: taken.id });
    const near = await insertSlot(t.ctx.pool, { centerId: centres.garretts!, start: days(9, 10) });
    await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(7, 10) });
    await insertSlot(t.ctx.pool, { centerId: centres.leeds!, start: days(7, 11) });
    const learner = await newLearner();
    const { context, page, csp } = await signedInPage(learner);

    await page.goto(`${base}/slots/${taken.id}`);
    expect(await page.locator('#slot-state').innerText()).toBe('Sorry, this slot has been taken.');
    expect(await page.getByRole('button', { name: 'Hold this slot' }).count()).toBe(0);
    const alternatives = page.locator('#alt-list li');
    await eventually(() => alternatives.count()).toBeGreaterThan(0);
    const listed = await page.locator('#alt-list').innerText();
    // nearest first: Garretts Green (0 miles) before Kings Heath; Leeds is out of reach
    expect(listed.indexOf('Garretts Green')).toBeLessThan(listed.indexOf('Kings Heath'));
    expect(listed).not.toContain('Leeds');
    expect(await page.locator(`#alt-list a[href="/slots/${near.id}"]`).count()).toBe(1);
    await page.screenshot({ path: screenshotPath('learner-slot-taken'), fullPage: true });
    await expectAccessible(page, 'taken slot');

    // taken between the page loading and the click: the hold's 409 says the same
    const racing = await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(8, 12) });
    await page.goto(`${base}/slots/${racing.id}`);
    const rival = await t.signedIn();
    const res = await t.app.inject({ method: 'POST', url: `/api/slots/${racing.id}/hold`, headers: t.auth(rival.token) });
    expect(res.statusCode).toBe(201);
    await page.getByRole('button', { name: 'Hold this slot' }).click();
    await eventually(() => page.locator('#slot-state').innerText()).toBe('Sorry, this slot has been taken.');
    await eventually(() => page.locator('#alt-list li').count()).toBeGreaterThan(0);

    // a learner with a practical test booked is told which, and where to cancel it
    const { rows: me } = await t.ctx.pool.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [learner]);
    const mine = await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(12, 9), status: 'BOOKED' });
    await insertAppointment(t.ctx.pool, { userId: me[0]!.id, slotId: mine.id, status: 'CONFIRMED' });
    const another = await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(13, 9) });
    await page.goto(`${base}/slots/${another.id}`);
    await page.getByRole('button', { name: 'Hold this slot' }).click();
    expect(await alertText(page)).toMatch(/^You already have a confirmed practical driving test on .+; cancel it first \(one booking per test type at a time\)\. Go to my appointments$/);
    expect(await page.locator('#alert a[href="/appointments"]').count()).toBe(1);
    expect(csp).toEqual([]);
    await context.close();
  });

  it('shows holds on My appointments with a live countdown, and confirms and cancels them', async () => {
    const email = await newLearner();
    const { context, page } = await signedInPage(email);
    const { rows } = await t.ctx.pool.query<{ id: string }>(`SELECT id FROM users WHERE email = $1`, [email]);
    const slot = await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(10, 9), status: 'HOLD' });
    await insertAppointment(t.ctx.pool, { userId: rows[0]!.id, slotId: slot.id, expiresAt: new Date(Date.now() + 150_000) });
    await page.goto(`${base}/appointments`);
    const hold = page.locator('article.appointment[data-status="HOLD"]');
    await eventually(() => hold.locator('.countdown').innerText()).toMatch(/^[12]:\d\d left to confirm$/);
    await page.screenshot({ path: screenshotPath('learner-appointments-hold'), fullPage: true });
    await expectAccessible(page, 'appointments with a hold');
    await hold.getByRole('button', { name: /^Cancel hold/ }).click();
    await eventually(() => page.locator('article.appointment').first().getAttribute('data-status')).toBe('CANCELLED');
    const { rows: after } = await t.ctx.pool.query(`SELECT status::text AS status FROM appointments WHERE slot_id = $1`, [slot.id]);
    expect(after).toEqual([{ status: 'CANCELLED' }]);
    await context.close();
  });

  it('keeps what was typed and says so when the network fails, and puts a 4xx next to its field', async () => {
    const { context, page } = await newPage();
    // a common password: the 400 goes next to the password field
    await page.goto(`${base}/signup`);
    await page.getByLabel('Email').fill('known@pages.test');
    await page.getByLabel('Password').fill('Password123');
    await page.getByRole('button', { name: 'Create account' }).click();
    await eventually(() => page.locator('#password-error').innerText()).toBe('Is too common: it is one of the passwords tried first; choose another.');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate('document.activeElement?.id')).toBe('password');
    await page.screenshot({ path: screenshotPath('learner-signup-error'), fullPage: true });
    await expectAccessible(page, 'sign-up with an error');
    // a name that is not a name: next to its field
    await page.getByLabel('Password').fill('a different password');
    await page.getByLabel('First name (optional)').fill('Sam http://evil.example');
    await page.getByRole('button', { name: 'Create account' }).click();
    await eventually(() => page.locator('#firstName-error').innerText()).toBe('May hold only letters, spaces, apostrophes, hyphens and dots.');
    // an address with an account: the page says exactly what it says for a new one, and the address is told
    await page.getByLabel('First name (optional)').fill('');
    await page.getByRole('button', { name: 'Create account' }).click();
    await eventually(() => page.locator('h1').innerText()).toBe('Check your inbox');
    await nextMail(smtp, 'known@pages.test', /^Someone tried to sign up to slotwatch with your address$/);

    // wrong password: next to the password field
    await page.goto(`${base}/signin`);
    await page.getByLabel('Email').fill('known@pages.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await eventually(() => page.locator('#password-error').innerText()).toBe('Email or password is wrong.');

    // the network drops while signing in: a clear message, nothing lost
    await page.route('**/api/web/session', (route) => route.abort('internetdisconnected'));
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await alertText(page)).toContain('could not reach slotwatch');
    expect(await page.getByLabel('Email').inputValue()).toBe('known@pages.test');
    expect(await page.getByLabel('Password').inputValue()).toBe(PASSWORD);
    await page.unroute('**/api/web/session');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/watches`);

    // adding a watch with the network down keeps the form; the same form then goes through
    await page.route('**/api/me/watches', (route) => route.abort('internetdisconnected'));
    await page.getByLabel('Postcode', { exact: true }).fill('B14 6AG');
    await page.getByLabel('Distance (miles)').fill('15');
    await page.getByLabel('Theory').check();
    await page.getByRole('button', { name: 'Add watch' }).click();
    expect(await alertText(page)).toContain('could not reach slotwatch');
    expect(await page.getByLabel('Postcode', { exact: true }).inputValue()).toBe('B14 6AG');
    expect(await page.getByLabel('Distance (miles)').inputValue()).toBe('15');
    expect(await page.getByLabel('Theory').isChecked()).toBe(true);
    await page.screenshot({ path: screenshotPath('learner-watches-offline'), fullPage: true });
    await page.unroute('**/api/me/watches');

    // a distance the API refuses: its message next to the distance field, nothing saved
    await page.getByLabel('Distance (miles)').fill('500');
    await page.getByRole('button', { name: 'Add watch' }).click();
    // the API's "body/radiusMiles must be <= 100", in plain words, next to the field
    await eventually(() => page.locator('#radiusMiles-error').innerText()).toBe('Must be 100 or less.');
    expect(await page.getByLabel('Distance (miles)').getAttribute('aria-invalid')).toBe('true');
    const { rows } = await t.ctx.pool.query(`SELECT count(*)::int AS n FROM user_preferences p JOIN users u ON u.id = p.user_id WHERE u.email = 'known@pages.test'`);
    expect(rows[0].n).toBe(0);
    await page.screenshot({ path: screenshotPath('learner-watches-4xx'), fullPage: true });

    // holding with the network down: a clear message, and the button still there to retry
    const slot = await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(11, 9) });
    await page.goto(`${base}/slots/${slot.id}`);
    await page.route('**/hold', (route) => route.abort('internetdisconnected'));
    await page.getByRole('button', { name: 'Hold this slot' }).click();
    expect(await alertText(page)).toContain('could not reach slotwatch');
    expect(await page.getByRole('button', { name: 'Hold this slot' }).isEnabled()).toBe(true);
    await page.unroute('**/hold');
    await page.getByRole('button', { name: 'Hold this slot' }).click();
    await eventually(() => page.locator('#countdown').innerText()).toMatch(/left to confirm$/);
    await context.close();
  });

  it('My account: downloads the data, and deletes the account only with the password and the box ticked', async () => {
    const email = `account-${Math.random().toString(36).slice(2, 10)}@pages.test`;
    const user = await createUser(t.ctx.pool, { email, passwordHash: await cheapHash(PASSWORD), role: 'CLIENT', firstName: 'Ada', lastName: 'Lovelace' });
    const slot = await insertSlot(t.ctx.pool, { centerId: centres.kings!, start: days(13, 9), status: 'HOLD' });
    await insertAppointment(t.ctx.pool, { userId: user.id, slotId: slot.id });
    const { context, page, csp } = await signedInPage(email);
    await page.getByRole('link', { name: 'My account' }).click();
    await page.waitForURL(`${base}/account`);
    expect(await page.locator('main').innerText()).toContain(`Signed in as ${email} (Ada Lovelace).`);
    expect(await page.getByRole('link', { name: 'My account' }).getAttribute('aria-current')).toBe('page');
    await page.screenshot({ path: screenshotPath('learner-account'), fullPage: true });

    // the download: a JSON file of what is held, their hold included
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download my data' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^slotwatch-data-\d{4}-\d{2}-\d{2}\.json$/);
    const data = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(data.account).toMatchObject({ email, firstName: 'Ada', lastName: 'Lovelace' });
    expect(data.appointments.map((a: { slotId: string }) => a.slotId)).toEqual([slot.id]);

    // asked twice: the password, then the box; a wrong password goes next to its field
    const remove = page.getByRole('button', { name: 'Delete my account' });
    await remove.click();
    await eventually(() => page.locator('#deletePassword-error').innerText()).toBe('Enter your password to delete your account.');
    expect(await page.evaluate('document.activeElement?.id')).toBe('deletePassword');
    await page.getByLabel('Your password', { exact: true }).fill('not my password');
    await remove.click();
    await eventually(() => page.locator('#deleteConfirm-error').innerText()).toBe('Tick the box to say you want your account deleted.');
    await page.getByLabel('I understand that my account and my data will be deleted for good').check();
    await remove.click();
    await eventually(() => page.locator('#deletePassword-error').innerText()).toBe('That is not your password; nothing was deleted.');
    expect(await page.getByLabel('Your password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect((await t.ctx.pool.query(`SELECT 1 FROM users WHERE id = $1`, [user.id])).rows).toHaveLength(1);
    await page.screenshot({ path: screenshotPath('learner-account-delete-error'), fullPage: true });

    await page.getByLabel('Your password', { exact: true }).fill(PASSWORD);
    await remove.click();
    await page.waitForURL(`${base}/account/deleted`);
    expect(await page.locator('h1').innerText()).toBe('Your account has been deleted');
    await page.screenshot({ path: screenshotPath('learner-account-deleted'), fullPage: true });
    expect((await t.ctx.pool.query(`SELECT 1 FROM users WHERE id = $1`, [user.id])).rows).toHaveLength(0);
    const { rows } = await t.ctx.pool.query(`SELECT status::text AS status FROM time_slots WHERE id = $1`, [slot.id]);
    expect(rows).toEqual([{ status: 'AVAILABLE' }]);
    // signed out: the cookie went with the account
    await page.goto(`${base}/account`);
    await page.waitForURL(`${base}/signin?next=%2Faccount`);
    expect(csp).toEqual([]);
    await context.close();
  });

  it('My account: changes the password, then signs out everywhere', async () => {
    const email = await newLearner();
    const other = await signedInPage(email);
    const { context, page, csp } = await signedInPage(email);
    await page.goto(`${base}/account`);

    await page.getByLabel('Current password', { exact: true }).fill('not my password');
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await eventually(() => page.locator('#currentPassword-error').innerText()).toBe('Is not your current password.');
    expect(await page.getByLabel('Current password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.screenshot({ path: screenshotPath('learner-account-password-error'), fullPage: true });
    await expectAccessible(page, 'account with a refused password change');

    await page.getByLabel('Current password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await eventually(() => page.locator('#status').innerText()).toBe('Your password has been changed. Your other devices have been signed out.');
    expect(await page.getByLabel('Current password', { exact: true }).inputValue()).toBe('');
    // this browser stays signed in; the other one does not
    await page.goto(`${base}/account`);
    expect(page.url()).toBe(`${base}/account`);
    await other.page.goto(`${base}/account`);
    await other.page.waitForURL(/\/signin\?next=/);
    await other.context.close();

    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.waitForURL(`${base}/signin`);
    await page.goto(`${base}/account`);
    await page.waitForURL(/\/signin\?next=/);
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: 'a brand new passphrase' } })).statusCode).toBe(200);
    expect(csp).toEqual([]);
    await context.close();
  });

  it('resets a forgotten password by its emailed link, refusing a common one next to the field', async () => {
    const email = await newLearner();
    const { context, page, csp } = await newPage();
    await page.goto(`${base}/signin`);
    await page.getByRole('link', { name: 'Forgotten your password?' }).click();
    await page.waitForURL(`${base}/forgot-password`);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await eventually(() => page.locator('#status').innerText()).toContain('Check your inbox');
    await expectAccessible(page, 'forgot password, sent');

    const mail = await nextMail(smtp, email, /^Reset your slotwatch password$/);
    await page.goto(onTestServer(linkIn(mail, '/reset-password')));
    await eventually(() => page.url()).toBe(`${base}/reset-password`);
    await page.getByLabel('New password').fill('iloveyou');
    await page.getByRole('button', { name: 'Set my new password' }).click();
    await eventually(() => page.locator('#newPassword-error').innerText()).toBe('Is too common: it is one of the passwords tried first; choose another.');
    await page.screenshot({ path: screenshotPath('learner-reset-error'), fullPage: true });
    await expectAccessible(page, 'reset with an error');
    await page.getByLabel('New password').fill('my brand new passphrase');
    await page.getByRole('button', { name: 'Set my new password' }).click();
    // (a hidden section has its text too: wait for it to be shown)
    await page.locator('#reset-done').waitFor({ state: 'visible' });
    expect(await page.locator('#reset-done').innerText()).toContain('Your password has been changed');
    await expectAccessible(page, 'reset done');
    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('my brand new passphrase');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/watches`);

    // the same link again: refused in words
    await page.goto(onTestServer(linkIn(mail, '/reset-password')));
    await page.getByLabel('New password').fill('yet another passphrase');
    await page.getByRole('button', { name: 'Set my new password' }).click();
    expect(await alertText(page)).toBe('This link has already been used; ask for a new reset link.');
    expect(csp).toEqual([]);
    await context.close();
  });

  it('passes axe-core with no serious or critical violation on every page', async () => {
    const slot = await insertSlot(t.ctx.pool, { centerId: centres.garretts!, start: days(12, 9) });
    const anon = await newPage();
    // (a page and the same page with a fragment apart, so each is loaded afresh)
    const pages = [
      ['verify with a link', `/verify#token=${'A'.repeat(43)}`], ['reset with a link', `/reset-password#token=${'A'.repeat(43)}`],
      ['signin', '/signin'], ['signup', '/signup'], ['slot signed out', `/slots/${slot.id}`], ['slot not found', '/slots/00000000-0000-4000-8000-000000000000'],
      ['verify without a link', '/verify'], ['forgot password', '/forgot-password'], ['reset without a link', '/reset-password'], ['account deleted', '/account/deleted'],
    ];
    for (const [name, path] of pages) {
      await anon.page.goto(`${base}${path}`);
      await expectAccessible(anon.page, name!);
    }
    await anon.page.screenshot({ path: screenshotPath('learner-slot-not-found'), fullPage: true });
    await anon.page.goto(`${base}/signin`);
    await anon.page.screenshot({ path: screenshotPath('learner-signin'), fullPage: true });
    await anon.context.close();

    const { context, page, csp } = await signedInPage(await newLearner());
    await t.ctx.pool.query(
      `INSERT INTO user_preferences (user_id, latitude, longitude, radius_miles, label)
       SELECT id, 52.4744, -1.7766, 10, 'Home' FROM users WHERE email LIKE 'learner-%' ORDER BY created_at DESC LIMIT 1`,
    );
    await page.goto(`${base}/watches`);
    await eventually(() => page.locator('article.watch').count()).toBeGreaterThan(0);
    await expectAccessible(page, 'watches');
    // the postcode check's answers: a place, and a postcode it cannot place
    await page.getByLabel('Postcode', { exact: true }).fill('b33');
    await page.getByRole('button', { name: 'Check postcode' }).click();
    await eventually(() => page.locator('#postcode-place').innerText()).toMatch(/^Placed at the centre of B33\. /);
    await expectAccessible(page, 'watches, postcode checked');
    await page.getByLabel('Postcode', { exact: true }).fill('ZZ9 9ZZ');
    await page.getByRole('button', { name: 'Check postcode' }).click();
    await eventually(() => page.locator('#postcode-error').innerText()).toContain('We cannot place ZZ9 9ZZ');
    expect(await page.locator('#postcode-place').innerText()).toBe('');
    await expectAccessible(page, 'watches, postcode not placed');
    await page.goto(`${base}/appointments`);
    await eventually(() => page.locator('#appointment-list').getAttribute('aria-busy')).toBe('false');
    await expectAccessible(page, 'appointments');
    // an alert for the slot, as matching writes them, so the page has a row and a free slot
    await t.ctx.pool.query(
      `INSERT INTO user_alerts (user_id, slot_id, preference_id, channel, status)
       SELECT p.user_id, $1, p.id, 'email', 'CAPPED' FROM user_preferences p WHERE p.label = 'Home' ORDER BY p.created_at DESC LIMIT 1`,
      [slot.id],
    );
    await page.goto(`${base}/alerts`);
    await expectAccessible(page, 'alerts');
    await page.screenshot({ path: screenshotPath('learner-alerts'), fullPage: true });
    await page.goto(`${base}/account`);
    await expectAccessible(page, 'account');
    // with the errors a refused form shows
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await eventually(() => page.locator('#deletePassword-error').innerText()).not.toBe('');
    await expectAccessible(page, 'account with an error');
    await page.goto(`${base}/slots/${slot.id}`);
    await expectAccessible(page, 'slot signed in');
    await page.getByRole('button', { name: 'Hold this slot' }).click();
    await eventually(() => page.locator('#countdown').innerText()).toMatch(/left to confirm$/);
    await expectAccessible(page, 'slot held');
    expect(csp).toEqual([]);
    await context.close();
  });

  it('works by keyboard alone, with a visible focus ring', async () => {
    const { context, page } = await newPage();
    await page.goto(`${base}/signin`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Skip to content');
    // the ring is drawn: an outline on the focused control
    await page.getByLabel('Email').focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    expect(outline).toBe('solid');
    await page.keyboard.type('known@pages.test');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${base}/watches`);

    // My account's delete form by keyboard: the password, Space on the box, Enter
    await page.goto(`${base}/account`);
    await page.getByLabel('Your password', { exact: true }).focus();
    await page.keyboard.type('not the password');
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.id')).toBe('deleteConfirm');
    expect(await page.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await page.keyboard.press('Space');
    expect(await page.getByLabel('I understand that my account and my data will be deleted for good').isChecked()).toBe(true);
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('Delete my account');
    await page.keyboard.press('Enter');
    await eventually(() => page.locator('#deletePassword-error').innerText()).toBe('That is not your password; nothing was deleted.');
    expect(await page.evaluate('document.activeElement?.id')).toBe('deletePassword');
    await context.close();
  });
});
