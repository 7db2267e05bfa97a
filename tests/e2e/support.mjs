// Shared by the end-to-end tests: Debian's Chromium with the flags this machine needs, the
// page errors a test must fail on, and a real DataTransfer drop onto <wheel-verify>.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** Headless Debian Chromium; no background networking (the machine's network is closed). */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Uncaught page errors and Content-Security-Policy violations (only console messages). */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  return errors;
}

/** Drop `files` (paths) on the first <wheel-verify>'s drop zone, after clearing its verdict and cards. */
export async function dropFiles(page, files) {
  const payload = files.map((f) => ({ name: path.basename(f), b64: fs.readFileSync(f).toString('base64') }));
  await page.evaluate((items) => {
    const el = document.querySelector('wheel-verify');
    el.removeAttribute('verdict');
    el.shadowRoot.querySelector('.cards').replaceChildren();
    const dt = new DataTransfer();
    for (const { name, b64 } of items) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    el.shadowRoot.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}
