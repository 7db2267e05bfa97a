// Browser row of the set benchmark: the page checks a folder of signed wheels against a
// dependency key list served on loopback. Prints wall time from choosing the folder to the
// overall result, and the longest main-thread task (how responsive the page stayed).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [dir, count] = [path.resolve(process.argv[2]), Number(process.argv[3])];
const server = await startServer({ roots: { '/': path.join(repo, 'www'), '/set/': dir } });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/?keys-url=${encodeURIComponent(`${server.url}/set/deps-keys.json`)}`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  await page.evaluate(() => {
    window.longest = 0; window.t0 = performance.now();
    new PerformanceObserver((list) => { for (const e of list.getEntries()) { window.longest = Math.max(window.longest, e.duration); (window.tasks ||= []).push([Math.round(e.startTime - window.t0), Math.round(e.duration)]); } }).observe({ type: 'longtask', buffered: false });
  });
  const started = Date.now();
  await page.locator('wheel-verify input[webkitdirectory]').setInputFiles(path.join(dir, 'wheels'));
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 600_000, polling: 200 });
  const wall = (Date.now() - started) / 1000;
  const r = await page.evaluate(() => ({
    overall: document.querySelector('wheel-verify').shadowRoot.querySelector('.summary .overall').textContent,
    longest: window.longest, tasks: window.tasks,
  }));
  if (process.env.BENCH_DEBUG) console.log(JSON.stringify(r.tasks));
  console.log(`browser <wheel-verify> folder of ${count}: ${wall.toFixed(2)} s wall; longest main-thread task ${r.longest.toFixed(0)} ms; "${r.overall}"`);
} finally {
  await browser.close();
  await server.close();
}
