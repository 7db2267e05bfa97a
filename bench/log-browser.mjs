// Page row of the release log benchmark: the wasm in headless Chromium checks one release's
// tlog-proof (parse, log signature, inclusion; the files `log_bench N DIR` wrote) many times,
// and prints the mean time per proof. A benchmark: it prints figures and asserts only that the
// proof is accepted.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = path.resolve(process.argv[2]);
const read = (f) => fs.readFileSync(path.join(dir, f), 'utf8');
const files = { proof: read('proof.txt'), leaf: read('leaf.txt'), policy: read('policy.txt') };
const rounds = Number(process.env.BENCH_ROUNDS || 2000);

const server = await startServer({ roots: { '/': path.join(repo, 'www') } });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  // The module's own URL: same origin as the package, and no page CSP in the way.
  await page.goto(`${server.url}/pkg/wheelsig.js`);
  const r = await page.evaluate(async ({ files, rounds }) => {
    const wasm = await import('/pkg/wheelsig.js');
    await wasm.default();
    const first = wasm.check_release_proof(files.proof, files.leaf, files.policy);
    const t = performance.now();
    for (let i = 0; i < rounds; i++) wasm.check_release_proof(files.proof, files.leaf, files.policy);
    return { us: ((performance.now() - t) * 1000) / rounds, index: first.index, size: first.tree_size };
  }, { files, rounds });
  console.log(`  page (wasm in Chromium): parse + signature + include ${r.us.toFixed(1).padStart(9)} µs per .tlog-proof (release #${r.index} of ${r.size}, ${rounds} rounds)`);
} finally {
  await browser.close();
  await server.close();
}
