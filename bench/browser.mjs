// Browser row of the benchmark: verify the wheel with the wasm verifier in headless Chromium
// (the page's <wheel-verify> element, file given through the picker, read in slices by the
// worker). Prints one JSON row like measure.py: wall time of verify_wheel inside the worker,
// and the wasm linear memory at the end (memory never shrinks, so that is its high-water mark).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const wheel = path.resolve(process.argv[2]);
const runs = Number(process.env.BENCH_RUNS || 3);

const server = await startServer({ roots: { '/': path.join(repo, 'www') } });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const times = [];
let memory = 0;
try {
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => customElements.get('wheel-verify'));
    const done = page.evaluate(() => new Promise((resolve) => {
      document.querySelector('wheel-verify').addEventListener('wheel-verified', (e) => resolve({
        verdict: e.detail.verdict, ms: e.detail.elapsed_ms, mem: e.detail.wasm_memory_bytes, problems: e.detail.problems,
      }), { once: true });
    }));
    await page.locator('wheel-verify input#files').setInputFiles(wheel);
    const r = await done;
    if (r.verdict !== 'unsigned') throw new Error(`unexpected verdict ${r.verdict}: ${JSON.stringify(r.problems)}`);
    times.push(r.ms / 1000);
    memory = Math.max(memory, r.mem || 0);
    await page.close();
  }
} finally {
  await browser.close();
  await server.close();
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({
  tool: 'wheelsig in Chromium (wasm)',
  best: times[0],
  median: times[Math.floor(times.length / 2)],
  rss_mib: memory / 1048576,
  note: 'memory column = wasm linear memory high-water, not process RSS',
}));
