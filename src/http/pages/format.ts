/** How the pages show times and distances: Europe/London, in British English. */

const DATE = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const TIME = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hour12: false });

/** e.g. "Tuesday 3 March 2026" in Europe/London. */
export function londonDate(iso: string | Date): string {
  return DATE.format(new Date(iso));
}

/** e.g. "09:30" (24-hour) in Europe/London. */
export function londonTime(iso: string | Date): string {
  return TIME.format(new Date(iso));
}

/** e.g. "4.2 miles", "1 mile". */
export function miles(n: number): string {
  const rounded = Math.round(n * 10) / 10;
  return `${rounded} mile${rounded === 1 ? '' : 's'}`;
}
