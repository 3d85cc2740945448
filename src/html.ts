/**
 * Escapes text for HTML content and attribute values: the one escaper for every page and
 * email slotwatch writes. Numeric references, so the output needs no named entities.
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
