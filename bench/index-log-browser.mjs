// Page row of the index log benchmark: the log `index_log_bench N DIR` wrote is served on
// loopback, and the wasm in headless Chromium checks a few of its files the way the widget's
// `index-log` does: index_log_check in rounds, fetching the files each round names (lookup,
// entry bundle, hash tiles, the archive list). Prints, per file, the median over the runs of the
// whole gather loop (fetches on loopback included, a fresh set of files each run) and of the
// wasm calls alone, the rounds and files it took, and the time of the last call with every
// file at hand (the pure check). A benchmark: it asserts only that each file is logged.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.resolve(process.argv[2] || path.join(repo, 'bench/out/index-log'));
const bench = JSON.parse(fs.readFileSync(path.join(dir, 'bench.json'), 'utf8'));
const checkpoint = fs.readFileSync(path.join(dir, 'checkpoint'), 'utf8');
const runs = Number(process.env.BENCH_ROUNDS || 25);

const server = await startServer({ roots: { '/': path.join(repo, 'www'), '/log/': dir } });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}/pkg/wheelsig.js`);
  const results = await page.evaluate(async ({ bench, checkpoint, runs }) => {
    const wasm = await import('/pkg/wheelsig.js');
    await wasm.default();
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const fetchFile = async (p) => {
      const resp = await fetch(`/log/${p}`, { cache: 'no-store' });
      return resp.ok ? new Uint8Array(await resp.arrayBuffer()) : null;
    };
    const once = async (t) => {
      const report = { file: t.file, verdict: 'unsigned', project: t.project, version: '1', files_checked: 1, sha256: t.sha256, signatures: [], problems: [], members: [] };
      const files = {};
      let wasmMs = 0;
      let rounds = 0;
      let last = 0;
      const start = performance.now();
      for (;;) {
        const a = performance.now();
        const out = wasm.index_log_check({ report, checkpoint, policy: bench.policy, now: Math.floor(Date.now() / 1000), files });
        last = performance.now() - a;
        wasmMs += last;
        rounds += 1;
        if (!out.need) {
          if (out.index_log?.status !== 'logged') throw new Error(`${t.file}: ${JSON.stringify(out.problems)}`);
          break;
        }
        await Promise.all(out.need.map(async ({ path }) => { files[path] = await fetchFile(path); }));
      }
      return { total: performance.now() - start, wasmMs, rounds, files: Object.keys(files).length, last };
    };
    const out = [];
    for (const t of bench.targets) {
      await once(t); // warm up
      const xs = [];
      for (let i = 0; i < runs; i++) xs.push(await once(t));
      out.push({ index: t.index, total: median(xs.map((x) => x.total)), wasm: median(xs.map((x) => x.wasmMs)), last: median(xs.map((x) => x.last)), rounds: xs[0].rounds, files: xs[0].files });
    }
    return out;
  }, { bench, checkpoint, runs });
  const size = checkpoint.split('\n')[1];
  console.log(`  page (wasm in Chromium, ${size} entries, median of ${runs} runs; fetches over loopback HTTP):`);
  for (const r of results) {
    console.log(`    entry ${String(r.index).padStart(8)}: gather loop ${r.total.toFixed(2).padStart(7)} ms (${r.rounds} calls, ${r.files} files), wasm calls ${r.wasm.toFixed(2).padStart(6)} ms, the check with every file at hand ${r.last.toFixed(2).padStart(6)} ms`);
  }
} finally {
  await browser.close();
  await server.close();
}
