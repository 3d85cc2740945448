/** What an alert says, by email and by push. Times are shown in Europe/London. */
import { greetingName } from '../accounts/names.js';
import { escapeHtml } from '../html.js';
import type { TestType } from '../slots/test-types.js';
import type { AlertContext } from './store.js';

const DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

/** "Tuesday 15 July 2031": British order without the comma some ICU versions put after the weekday. */
function formatDate(d: Date): string {
  const parts = DATE.formatToParts(d);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('weekday')} ${part('day')} ${part('month')} ${part('year')}`;
}
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hour12: false });

const TEST_TYPE: Record<TestType, string> = { practical: 'practical driving test', theory: 'theory test' };

export interface AlertFacts {
  center: string;
  testType: string;
  /** e.g. "Tuesday 14 January 2031" */
  date: string;
  /** e.g. "09:30", 24-hour, Europe/London */
  time: string;
  /** e.g. "3.2 miles away", or null when the distance is unknown */
  distance: string | null;
  holdUrl: string;
}

/** The facts a message states, formatted for people in Britain. */
export function alertFacts(c: AlertContext, publicBaseUrl: string): AlertFacts {
  return {
    center: c.centerName,
    testType: TEST_TYPE[c.testType],
    date: formatDate(c.startTime),
    time: TIME.format(c.startTime),
    distance: c.distanceM === null ? null : `${(c.distanceM / 1609.344).toFixed(1)} miles away`,
    holdUrl: `${publicBaseUrl}/slots/${c.slotId}`,
  };
}

/** The one-click unsubscribe address of a watch (RFC 8058). */
export function unsubscribeUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}/unsubscribe/${token}`;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** Subject, plain-text and HTML bodies of an alert email. */
export function renderAlertEmail(f: AlertFacts, firstName: string | null, unsubscribe: string): EmailContent {
  // a name of one word only: "Hello Sam," and never a sentence of the user's in our voice
  const name = greetingName(firstName);
  const subject = `Test slot free: ${f.center}, ${f.date} at ${f.time}`;
  const where = f.distance ? `${f.center} (${f.distance})` : f.center;
  const text = [
    `Hello${name ? ' ' + name : ''},`,
    '',
    `A ${f.testType} slot has just become free:`,
    '',
    `  Centre: ${where}`,
    `  Date:   ${f.date}`,
    `  Time:   ${f.time} (UK time)`,
    '',
    `Hold it for five minutes before someone else does:`,
    f.holdUrl,
    '',
    'Slots like this go quickly; if it is gone when you open the link, we will tell you about the next one.',
    '',
    `Stop alerts for this search: ${unsubscribe}`,
  ].join('\n');
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en-GB"><body style="font-family: sans-serif; line-height: 1.4">
<p>Hello${name ? ' ' + e(name) : ''},</p>
<p>A ${e(f.testType)} slot has just become free:</p>
<table role="presentation">
<tr><th align="left">Centre</th><td>${e(where)}</td></tr>
<tr><th align="left">Date</th><td>${e(f.date)}</td></tr>
<tr><th align="left">Time</th><td>${e(f.time)} (UK time)</td></tr>
</table>
<p><a href="${e(f.holdUrl)}">Hold this slot for five minutes</a></p>
<p>Slots like this go quickly; if it is gone when you open the link, we will tell you about the next one.</p>
<p style="font-size: small"><a href="${e(unsubscribe)}">Stop alerts for this search</a></p>
</body></html>
`;
  return { subject, text, html };
}

export interface PushPayload {
  title: string;
  body: string;
  url: string;
  slotId: string;
}

/** The JSON a browser's service worker receives. */
export function renderPushPayload(f: AlertFacts, slotId: string): PushPayload {
  return {
    title: `Test slot free: ${f.center}`,
    body: `${f.date} at ${f.time}${f.distance ? `, ${f.distance}` : ''}. Tap to hold it.`,
    url: f.holdUrl,
    slotId,
  };
}
