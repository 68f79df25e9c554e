// Debian's Chromium, headless, driven by playwright-core (no browser download).
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `args` adds Chromium switches (e.g. a fake camera). The profile folder goes when the
 * browser is closed. */
export async function launchBrowser({ args = [] } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'certus-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic', ...args],
  });
  // The folder goes once the browser has exited (closing a persistent context waits for
  // it); a leftover is never worth failing a test over.
  const close = context.close.bind(context);
  context.close = async (...args) => {
    await close(...args);
    try {
      rmSync(userDataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // Left for the system's temporary-folder cleanup.
    }
  };
  return context;
}

/** Fills the portal's issue form (generated from the type's schema) with `subject`. */
export async function fillSubject(page, subject) {
  for (const [name, value] of Object.entries(subject)) {
    const field = page.getByTestId(`field-${name}`);
    if (await field.evaluate(el => el.tagName === 'SELECT')) await field.selectOption(value);
    else await field.fill(value);
  }
}

/** Asserts the page does not scroll sideways; names the widest elements past the right
 * edge when it does. */
export async function assertNoSidewaysScroll(page, what) {
  const { by, culprits } = await page.evaluate(() => {
    const by = document.documentElement.scrollWidth - window.innerWidth;
    const past = e => e.getBoundingClientRect().right > window.innerWidth + 0.5 || e.scrollWidth > e.clientWidth + 0.5 && getComputedStyle(e).overflowX === 'visible';
    const culprits = [...document.querySelectorAll('body *')]
      .filter(past)
      .filter(e => ![...e.children].some(past))
      .slice(0, 5)
      .map(e => `${e.tagName.toLowerCase()}${e.className ? '.' + String(e.className).replaceAll(' ', '.') : ''}` +
        `${e.dataset.testid ? `[${e.dataset.testid}]` : ''} (${Math.round(e.getBoundingClientRect().right)}px)`);
    return { by, culprits };
  });
  if (by > 0) throw new Error(`${what} scrolls sideways by ${by}px: ${culprits.join(', ')}`);
}

/** Collects the console errors and uncaught exceptions of `page` from now on. A failed
 * request is an error in the console too ("Failed to load resource … (url)"). */
export function watchConsole(page) {
  let errors = [];
  page.on('console', message => {
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', error => errors.push(`uncaught: ${error.message}`));
  return {
    /** Forgets the errors seen so far that match `pattern`: ones the test caused on purpose. */
    allow(pattern) {
      errors = errors.filter(e => !pattern.test(e));
    },
    /** Fails with every error seen since the last check, then starts afresh. */
    assertNone(what) {
      const seen = errors;
      errors = [];
      if (seen.length) throw new Error(`${what}: console errors:\n${seen.join('\n')}`);
    },
  };
}
