// Every engine path of the page's verifier gives the same report: every vector in
// tests/vectors through the one-call path, the plan/units/finish split on 1 and 3 workers
// with the wasm hashing everything, and with WebCrypto hashing every member (inline, and
// handed to another worker); each report must equal the one-call report byte for byte and say
// what the vector states. Then: cancelling stops every worker of a wheel spread over the pool,
// a batch of wheels spreads over the pool, and the card says which engine ran.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { launchChromium, watchErrors } from './support.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const python = fs.existsSync(path.join(repo, '.venv/bin/python')) ? path.join(repo, '.venv/bin/python') : 'python3';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-engines-'));

let server;
let browser;

before(async () => {
  execFileSync(python, [path.join(repo, 'bench/make_big_wheel.py'), work, '0.25'], { stdio: 'ignore' });
  server = await startServer({ roots: { '/': path.join(repo, 'www'), '/vectors/': path.join(repo, 'tests/vectors'), '/big/': work } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function openPage() {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  return { page, context, errors };
}

/** The paths: options for VerifierClient.verify (workers: the pool is set to 3). */
const PATHS = {
  'one call': { split: false },
  'split, 1 worker, wasm hashing': { split: true, workers: 1, budget: 0 },
  'split, 3 workers, a unit per member, wasm hashing': { split: true, workers: 3, budget: 0, unitsPerWorker: 1e6 },
  'split, 3 workers, WebCrypto for every member': { split: true, workers: 3, budget: 1 << 30, oneShotMin: 0, offloadMin: 2 ** 52, unitsPerWorker: 2 },
  'split, 3 workers, WebCrypto in other workers': { split: true, workers: 3, budget: 1 << 30, oneShotMin: 0, offloadMin: 0, unitsPerWorker: 1e6 },
};

test('every vector gives the same report on every engine path, and the one its manifest states', async () => {
  const { page, context, errors } = await openPage();
  const result = await page.evaluate(async (paths) => {
    const { VerifierClient, configurePool } = await import('./worker-client.js');
    configurePool({ workers: 3 });
    const client = new VerifierClient();
    const text = async (p) => (await fetch(`/vectors/${p}`)).text();
    const vectors = await (await fetch('/vectors/vectors.json')).json();
    const strip = (r) => {
      const { elapsed_ms: _e, wasm_memory_bytes: _m, engine: _n, ...rest } = r;
      return JSON.stringify(rest);
    };
    const failures = [];
    const engines = {};
    let runs = 0;
    for (const v of vectors) {
      const bytes = await (await fetch(`/vectors/${v.file}`)).arrayBuffer();
      const name = v.file.split('/').pop();
      const file = new File([bytes], name);
      const input = {
        file_name: name,
        detached: v.detached ? [{ name: v.detached, text: await text(v.detached) }] : [],
        key_sets: v.jwks ? [{ source: v.jwks, kind: 'key-file', text: await text(v.jwks) }] : [],
        pins: v.pins ?? {},
        first_use: v.first_use ?? {},
      };
      let first = null;
      for (const [label, options] of Object.entries(paths)) {
        let report;
        try {
          report = await client.verify(file, input, options);
          runs++;
        } catch (err) {
          failures.push(`${v.name} / ${label}: threw ${err.code}: ${err.message}`);
          continue;
        }
        engines[label] ??= new Set();
        engines[label].add(report.engine.replace(/\d+ members?/g, 'N members').replace(/\(\d+ MiB\)/g, '(N MiB)'));
        const got = strip(report);
        if (first === null) first = got;
        else if (got !== first) failures.push(`${v.name} / ${label}: the report differs from the one-call report\n  one call: ${first}\n  ${label}: ${got}`);
        // What the manifest states (crate/tests/common: verdict, code, path).
        const codes = report.problems.filter((p) => p.code === v.code);
        if (report.verdict !== v.expect) failures.push(`${v.name} / ${label}: verdict ${report.verdict}, expected ${v.expect}`);
        else if (!v.code && report.problems.length) failures.push(`${v.name} / ${label}: expected no problems, got ${JSON.stringify(report.problems)}`);
        else if (v.code && !codes.length) failures.push(`${v.name} / ${label}: no ${v.code} problem in ${JSON.stringify(report.problems)}`);
        else if (v.code && v.path && !codes.some((p) => p.path === v.path)) failures.push(`${v.name} / ${label}: no ${v.code} problem names ${v.path}`);
      }
    }
    return { failures, runs, vectors: vectors.length, engines: Object.fromEntries(Object.entries(engines).map(([k, s]) => [k, [...s]])) };
  }, PATHS);
  assert.ok(result.vectors > 100, `only ${result.vectors} vectors`);
  assert.deepEqual(result.failures, [], `${result.failures.length} failures:\n${result.failures.slice(0, 20).join('\n')}`);
  assert.equal(result.runs, result.vectors * Object.keys(PATHS).length);
  // Each path says which engine ran.
  assert.deepEqual(result.engines['one call'], ['wheelsig 0.1.0 (wasm; 1 worker)']);
  assert.deepEqual(result.engines['split, 1 worker, wasm hashing'], ['wheelsig 0.1.0 (wasm; 1 worker)']);
  assert.ok(result.engines['split, 3 workers, WebCrypto for every member'].some((e) => /3 workers; SHA-256 of N members \(N MiB\) by WebCrypto/.test(e)), JSON.stringify(result.engines));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a big wheel spread over the pool: same report as one worker, memory within its bounds', async () => {
  const { page, context, errors } = await openPage();
  const name = fs.readdirSync(work).find((f) => f.endsWith('.whl'));
  const r = await page.evaluate(async (name) => {
    const { VerifierClient, configurePool } = await import('./worker-client.js');
    configurePool({ workers: 3 });
    const client = new VerifierClient();
    const file = new File([await (await fetch(`/big/${name}`)).arrayBuffer()], name);
    const input = { file_name: name, compute_sha256: true };
    const strip = ({ elapsed_ms: _e, wasm_memory_bytes: _m, engine: _n, ...rest }) => JSON.stringify(rest);
    const one = await client.verify(file, input, { split: false });
    const out = { one: strip(one) };
    for (const [label, o] of Object.entries({ wasm: { split: true, budget: 0 }, webcrypto: { split: true, budget: 256 << 20 }, tight: { split: true, budget: 24 << 20 } })) {
      const r = await client.verify(file, input, o);
      out[label] = { same: strip(r) === out.one, engine: r.engine, stats: { ...r.engine_stats, timeline: undefined }, memory: r.wasm_memory_bytes, verdict: r.verdict };
    }
    return out;
  }, name);
  for (const label of ['wasm', 'webcrypto', 'tight']) {
    assert.ok(r[label].same, `${label}: the report differs from one worker's`);
    assert.equal(r[label].verdict, 'unsigned');
    assert.ok(r[label].memory <= 64 << 20, `${label}: wasm memory ${r[label].memory}`);
    assert.ok(r[label].stats.granted_peak_bytes <= r[label].stats.budget_bytes, `${label}: granted ${r[label].stats.granted_peak_bytes} of ${r[label].stats.budget_bytes}`);
    assert.ok(r[label].stats.peak_buffer_bytes <= r[label].stats.budget_bytes, `${label}: buffers ${r[label].stats.peak_buffer_bytes} of ${r[label].stats.budget_bytes}`);
  }
  assert.equal(r.wasm.stats.webcrypto_members, 0);
  assert.ok(r.webcrypto.stats.webcrypto_members > 0, JSON.stringify(r.webcrypto.stats));
  assert.match(r.webcrypto.engine, /3 workers; SHA-256 of \d+ members \(\d+ MiB\) by WebCrypto/);
  assert.ok(r.tight.stats.webcrypto_bytes < r.webcrypto.stats.webcrypto_bytes, 'a tighter budget hashes less outside the wasm');
  assert.deepEqual(errors, []);
  await context.close();
});

test('cancel stops every worker of a wheel spread over the pool; a batch spreads over the pool', async () => {
  const { page, context, errors } = await openPage();
  const name = fs.readdirSync(work).find((f) => f.endsWith('.whl'));
  const r = await page.evaluate(async (name) => {
    const { VerifierClient, configurePool } = await import('./worker-client.js');
    configurePool({ workers: 2, budget: 0 });
    const client = new VerifierClient();
    const file = new File([await (await fetch(`/big/${name}`)).arrayBuffer()], name);
    const abort = new AbortController();
    let progressed = 0;
    const started = performance.now();
    const cancelled = client.verify(file, { file_name: name }, { split: true, signal: abort.signal, onProgress: (d) => { progressed = d; if (d > 0) abort.abort(); } })
      .then(() => 'finished', (e) => e.code);
    const code = await cancelled;
    const stoppedAfter = performance.now() - started;
    // Nothing of it keeps running: a small wheel is verified at once by the pool.
    const small = await (await fetch('/vectors/pass_unsigned/demo-1.0-py3-none-any.whl')).arrayBuffer();
    const t0 = performance.now();
    const after = await client.verify(new File([small], 'demo-1.0-py3-none-any.whl'), { file_name: 'demo-1.0-py3-none-any.whl' });
    const afterMs = performance.now() - t0;
    // A batch: six small wheels at once are verified by both workers.
    const reports = await Promise.all([...Array(6)].map((_, i) => client.verify(new File([small], 'demo-1.0-py3-none-any.whl'), { file_name: 'demo-1.0-py3-none-any.whl' })));
    const slots = new Set(reports.flatMap((x) => x.engine_stats.slots));
    return { code, progressed, stoppedAfter, after: after.verdict, afterMs, slots: slots.size, verdicts: reports.map((x) => x.verdict) };
  }, name);
  assert.equal(r.code, 'aborted');
  assert.ok(r.progressed > 0);
  assert.equal(r.after, 'unsigned');
  assert.ok(r.afterMs < 5000, `the next wheel waited ${r.afterMs} ms`);
  assert.equal(r.slots, 2, 'the batch used both workers');
  assert.deepEqual(r.verdicts, Array(6).fill('unsigned'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('the card says which engine ran', async () => {
  const { page, context, errors } = await openPage();
  const name = fs.readdirSync(work).find((f) => f.endsWith('.whl'));
  await page.locator('wheel-verify input#files').setInputFiles(path.join(work, name));
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  const text = await page.evaluate(() => document.querySelector('wheel-verify').shadowRoot.querySelector('.card[data-verdict]').textContent);
  assert.match(text, /Checked bywheelsig 0\.1\.0 \(wasm; \d workers?/);
  assert.deepEqual(errors, []);
  await context.close();
});
