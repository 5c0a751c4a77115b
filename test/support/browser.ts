/**
 * Debian's chromium driven by playwright-core. The browser is never downloaded: the system package
 * (`apt-get install chromium`, which `.ci/run` does) is the one used.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/**
 * A browser context for signing in to jitgated at `base` through the test IdP. The IdP knows only
 * its registered redirect URI (`http://127.0.0.1/callback`); the context plays the proxy that maps
 * it to the daemon's `/auth/callback`.
 */
export async function signInContext(browser: Browser, base: string): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.route(
    (url) => url.origin === 'http://127.0.0.1' && url.pathname === '/callback',
    (route) => route.fulfill({ status: 302, headers: { location: `${base}/auth/callback${new URL(route.request().url()).search}` } }),
  );
  return context;
}
