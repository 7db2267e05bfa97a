// Browser rows of the benchmark: the page's <wheel-verify> verifies a wheel given through the
// file picker, in headless Chromium, once per configuration and repetition, each on a fresh
// page (cold: workers and wasm start with the verification) unless the row says "warm".
// Prints one JSON row per configuration, like measure.py: wall time from choosing the file
// to the `wheel-verified` event (best and median), the report's engine line, the renderer
// processes' peak RSS, the page's peak JS heap, each worker's wasm memory, the transient JS
// buffers granted and held, the CPU time of all Chromium processes, and the longest
// main-thread task.
//   node bench/browser.mjs WHEEL [--workers 1,2,4] [--label name] [--small] [--old]
// --old adds the one-call path on one worker (the engine before multi-worker verification);
// --small measures a small wheel's first verdict on a warm page (drop to card).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const wheel = path.resolve(args[0]);
const label = flag('--label', path.basename(wheel));
const runs = Number(process.env.BENCH_RUNS || 3);
const workerCounts = flag('--workers', '1,2,4').split(',').map(Number);

/** Sum of VmRSS over Chromium's renderer processes, and CPU seconds of every Chromium process. */
function procStats() {
  let rss = 0;
  let cpu = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes('chromium')) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpu += (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime, in clock ticks
      if (cmd.includes('--type=renderer')) {
        const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        if (m) rss += Number(m[1]) * 1024;
      }
    } catch {
      // The process ended meanwhile.
    }
  }
  return { rss, cpu };
}

const server = await startServer({ roots: { '/': process.env.BENCH_WWW || path.join(repo, 'www') } }); // BENCH_WWW: another build of the page
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-precise-memory-info'],
});

async function openPage(settings) {
  const page = await browser.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  await page.evaluate(async (s) => {
    const { configurePool } = await import('./worker-client.js');
    window.poolSettings = configurePool(s);
    window.longest = 0;
    window.heap = 0;
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longest = Math.max(window.longest, e.duration); }).observe({ type: 'longtask' });
    // The main thread's event loop: the longest gap between 5 ms timer ticks.
    let last = performance.now();
    window.lag = 0;
    setInterval(() => {
      const now = performance.now();
      window.lag = Math.max(window.lag, now - last - 5);
      last = now;
    }, 5);
    setInterval(() => { window.heap = Math.max(window.heap, performance.memory?.usedJSHeapSize ?? 0); }, 100);
  }, settings);
  return page;
}

/** Choose `file` in the picker; resolve with what the page saw when the card appeared. */
async function verifyOnce(page, file, expect) {
  const done = page.evaluate(() => new Promise((resolve) => {
    window.longest = 0;
    window.lag = 0;
    const el = document.querySelector('wheel-verify');
    // From the picker's change event (capture, before the widget's own listener) to the event
    // the widget sends once the card is on the page.
    el.shadowRoot.addEventListener('change', () => { window.changeAt = performance.now(); }, { capture: true, once: true });
    el.addEventListener('wheel-verified', (e) => resolve({
      verdict: e.detail.verdict, at: performance.now(), engine: e.detail.engine, problems: e.detail.problems.slice(0, 3),
      stats: { ...(e.detail.engine_stats || {}), timeline: undefined, units_detail: undefined }, wasm: e.detail.wasm_memory_bytes,
    }), { once: true });
  }));
  const base = procStats();
  let peakRss = base.rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, procStats().rss); }, 20);
  await page.locator('wheel-verify input#files').setInputFiles(file);
  const r = await done;
  const started = await page.evaluate(() => window.changeAt);
  clearInterval(sampler);
  const end = procStats();
  if (r.verdict !== expect) throw new Error(`unexpected verdict ${r.verdict}: ${JSON.stringify(r.problems)}`);
  const page2 = await page.evaluate(() => ({ longest: window.longest, lag: window.lag, heap: window.heap }));
  return { wall: (r.at - started) / 1000, engine: r.engine, stats: r.stats, wasm: r.wasm, rss: Math.max(peakRss, end.rss), baseRss: base.rss, cpu: end.cpu - base.cpu, ...page2 };
}

function summarize(tool, results, note) {
  const walls = results.map((r) => r.wall).sort((a, b) => a - b);
  const max = (k) => Math.max(...results.map((r) => r[k] ?? 0));
  const s = results[0].stats;
  return {
    tool,
    best: walls[0],
    median: walls[Math.floor(walls.length / 2)],
    rss_mib: max('rss') / 1048576,
    base_rss_mib: Math.min(...results.map((r) => r.baseRss)) / 1048576,
    js_heap_mib: max('heap') / 1048576,
    wasm_mib: max('wasm') / 1048576,
    buffers_mib: Math.max(...results.map((r) => r.stats.granted_peak_bytes ?? 0)) / 1048576,
    held_mib: Math.max(...results.map((r) => r.stats.peak_buffer_bytes ?? 0)) / 1048576,
    budget_mib: (s.budget_bytes ?? 0) / 1048576,
    cpu_s: Math.min(...results.map((r) => r.cpu)),
    longest_task_ms: max('longest'),
    lag_ms: max('lag'),
    engine: results[0].engine,
    note,
  };
}

const expect = process.env.BENCH_EXPECT || 'unsigned';
const configs = [];
if (args.includes('--old')) configs.push([`${label} page, one call (before)`, { workers: 1, split: false }]);
for (const n of workerCounts) configs.push([`${label} page, ${n} worker${n === 1 ? '' : 's'}`, { workers: n, split: n > 1 ? undefined : true }]);
if (args.includes('--wasm-only')) configs.push([`${label} page, 2 workers, wasm SHA only`, { workers: 2, budget: 0 }]);
try {
  for (const [tool, settings] of configs) {
    const results = [];
    for (let i = 0; i < runs; i++) {
      const page = await openPage(settings);
      results.push(await verifyOnce(page, wheel, expect));
      await page.close();
    }
    console.log(JSON.stringify(summarize(tool, results)));
  }
  // Warm: the second verification on the same page (workers and wasm already up).
  {
    const page = await openPage({});
    await verifyOnce(page, wheel, expect);
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await verifyOnce(page, wheel, expect));
    await page.close();
    console.log(JSON.stringify(summarize(`${label} page, default, warm`, results)));
  }
  const small = flag('--small', null);
  if (small) {
    // A small wheel's first verdict on a warm page (a verification already ran there).
    const page = await openPage({});
    await verifyOnce(page, small, 'unsigned');
    const results = [];
    for (let i = 0; i < Math.max(10, runs); i++) results.push(await verifyOnce(page, small, 'unsigned'));
    await page.close();
    console.log(JSON.stringify(summarize(`${path.basename(small)} (${Math.round(fs.statSync(small).size / 1024)} KB) drop to card, warm`, results)));
  }
} finally {
  await browser.close();
  await server.close();
}
