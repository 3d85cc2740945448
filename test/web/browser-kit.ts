/**
 * What the learner-page browser tests share: axe-core run inside the page, a watch on
 * content-security-policy refusals, and small waits on the page's own live regions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import { projectRoot } from '../../src/paths.js';

const AXE_SOURCE = readFileSync(join(projectRoot, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/**
 * Runs axe-core in the page and fails on any serious or critical violation. Injected by
 * page.evaluate, not addScriptTag: the pages' CSP (script-src 'self') rightly refuses an
 * inline <script>, and DevTools evaluation is not subject to it.
 */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate<AxeResult>(`axe.run(document, { resultTypes: ['violations'] })`);
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(' ')}`);
  expect(bad).toEqual([]);
}

/** Collects every CSP refusal the context's pages report on their console. */
export function watchCsp(context: BrowserContext): string[] {
  const refusals: string[] = [];
  context.on('console', (msg) => {
    if (/Content Security Policy/i.test(msg.text())) refusals.push(msg.text());
  });
  return refusals;
}

/**
 * expect.poll with room for a slow machine: password hashing (scrypt, N=2^17) on two shared
 * cores can take seconds. A bound on waiting, not an assertion about speed.
 */
export function eventually<T>(fn: () => T | Promise<T>) {
  return expect.poll(fn, { timeout: 20_000, interval: 100 });
}

/** The text of the page's #alert region once it has some. */
export async function alertText(page: Page): Promise<string> {
  await eventually(() => page.locator('#alert').innerText()).not.toBe('');
  return page.locator('#alert').innerText();
}
