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
