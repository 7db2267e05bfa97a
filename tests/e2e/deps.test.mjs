// End-to-end: a dependency key list (made by `wheelsig lock` against two publishers' key sites
// on loopback) checked in Debian's Chromium against a folder of later downloads: pass, another
// key, unsigned, unknown project, a malformed list. Screenshots go to test-output/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const python = fs.existsSync(path.join(repo, '.venv/bin/python')) ? path.join(repo, '.venv/bin/python') : 'python3';
const shots = path.join(repo, 'test-output/screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-deps-'));
const sites = path.join(work, 'sites'); // served at /sites/: the publishers and the app's key list
const KEY = (name) => path.join(work, `${name}.jwk`);
const wheel = (dir, name, version) => path.join(work, dir, `${name}-${version}-py3-none-any.whl`);

let server;
let browser;
let listUrl;
const kids = {};

const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function make(dir, ...specs) {
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, dir), ...specs], { stdio: 'ignore' });
}

/** Sign a wheel; the detached signature goes to `outDir`. */
function sign(key, whl, outDir) {
  ws('sign', '--key', KEY(key), '--out-dir', outDir, whl);
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  server = await startServer({ roots: { '/': path.join(repo, 'www'), '/sites/': sites } });
  for (const [pub, projects] of [['alpha-pub', 'alpha,beta'], ['gamma-pub', 'gamma']]) {
    fs.mkdirSync(path.join(sites, pub), { recursive: true });
    kids[pub] = JSON.parse(ws('keygen', '--out', KEY(pub))).kid;
    fs.writeFileSync(path.join(sites, pub, 'keys.json'), ws('jwks', KEY(pub), '--projects', projects));
  }
  kids.stranger = JSON.parse(ws('keygen', '--out', KEY('stranger'))).kid;
  const rel = (pub, project) => path.join(sites, pub, 'releases', project);
  // What the application tested: signatures published on each publisher's site.
  make('v1', 'alpha==1.0', 'beta==1.0', 'gamma==1.0');
  sign('alpha-pub', wheel('v1', 'alpha', '1.0'), rel('alpha-pub', 'alpha'));
  sign('alpha-pub', wheel('v1', 'beta', '1.0'), rel('alpha-pub', 'beta'));
  sign('gamma-pub', wheel('v1', 'gamma', '1.0'), rel('gamma-pub', 'gamma'));
  fs.mkdirSync(path.join(sites, 'app'), { recursive: true });
  // Asynchronously: the key sites are served from this process's event loop.
  await promisify(execFile)(cli, ['lock', '--key-url', `${server.url}/sites/alpha-pub/keys.json`, '--key-url', `${server.url}/sites/gamma-pub/keys.json`,
    '--out', path.join(sites, 'app', 'deps-keys.json'), ...['alpha', 'beta', 'gamma'].map((p) => wheel('v1', p, '1.0'))]);
  listUrl = `${server.url}/sites/app/deps-keys.json`;
  fs.writeFileSync(path.join(sites, 'app', 'broken.json'), '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "not base64!", "projects": ["alpha"]}]}');

  // Later downloads. good/: new releases signed by the pinned keys (signatures on the sites).
  make('good', 'alpha==2.0', 'gamma==1.1');
  sign('alpha-pub', wheel('good', 'alpha', '2.0'), rel('alpha-pub', 'alpha'));
  sign('gamma-pub', wheel('good', 'gamma', '1.1'), rel('gamma-pub', 'gamma'));
  // mixed/: one good, one signed by another key, one now unsigned, one project the list lacks.
  make('mixed', 'alpha==2.0', 'beta==2.0', 'gamma==2.0', 'delta==1.0');
  fs.copyFileSync(wheel('good', 'alpha', '2.0'), wheel('mixed', 'alpha', '2.0'));
  sign('alpha-pub', wheel('mixed', 'gamma', '2.0'), path.join(work, 'mixed'));
  sign('stranger', wheel('mixed', 'delta', '1.0'), path.join(work, 'mixed'));
  fs.writeFileSync(path.join(work, 'mixed', 'requirements.txt'), 'alpha\nbeta\ngamma\ndelta\n');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/**
 * Open the verifier. The key list made on loopback names http://127.0.0.1 key URLs, which the
 * element uses only with its testing switch `allow-loopback-in-lists` (off by default).
 */
async function open(query, { loopbackInLists = true } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  if (loopbackInLists) await page.evaluate(() => document.querySelector('wheel-verify').setAttribute('allow-loopback-in-lists', ''));
  return { page, context, errors };
}

/** Pick a whole folder with the folder chooser, wait for the batch, read the summary. */
async function pickFolder(page, dir) {
  await page.evaluate(() => document.querySelector('wheel-verify').removeAttribute('verdict'));
  await page.locator('wheel-verify input[webkitdirectory]').setInputFiles(dir);
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const summary = el.shadowRoot.querySelector('.summary');
    return {
      verdict: el.getAttribute('verdict'),
      result: summary?.dataset.result,
      overall: summary?.querySelector('.overall').textContent,
      rows: Object.fromEntries([...(summary?.querySelectorAll('tbody tr') || [])].map((tr) => [tr.dataset.project, tr.dataset.verdict])),
      cards: [...el.shadowRoot.querySelectorAll('.card[data-verdict]')].map((c) => c.textContent),
    };
  });
}

test('pass: new releases signed by the pinned keys, signatures found via each key\'s key URL', async () => {
  const { page, context, errors } = await open(`?keys-url=${encodeURIComponent(listUrl)}`);
  const r = await pickFolder(page, path.join(work, 'good'));
  assert.equal(r.result, 'pass', r.overall);
  assert.equal(r.overall, 'Pass: all 2 wheels are trusted.');
  assert.deepEqual(r.rows, { alpha: 'trusted', gamma: 'trusted' });
  assert.ok(r.cards.every((c) => c.includes(`Trusted viadependency key list: ${listUrl}`)), r.cards.join('\n'));
  assert.deepEqual(errors, []);
  await page.screenshot({ path: path.join(shots, 'deps-1-pass.png'), fullPage: true });
  await context.close();
});

test('another key, unsigned, unknown project: a clear per-project summary and report export', async () => {
  const { page, context } = await open(`?keys-url=${encodeURIComponent(listUrl)}`);
  const r = await pickFolder(page, path.join(work, 'mixed'));
  assert.equal(r.result, 'fail');
  assert.equal(r.overall, 'Fail: 3 of 4 wheels are not trusted (1 trusted, 1 signed, 2 untrusted). 1 other file in the folder ignored.');
  assert.deepEqual(r.rows, { alpha: 'trusted', beta: 'untrusted', delta: 'signed', gamma: 'untrusted' });
  const card = (name) => r.cards.find((c) => c.includes(name)) || '';
  assert.match(card('gamma-2.0'), /trust-project-scope/, 'gamma signed by alpha\'s publisher key');
  assert.match(card('beta-2.0'), /trust-unsigned-downgrade/, 'beta arrived unsigned');
  assert.match(card('delta-1.0'), new RegExp(kids.stranger));
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('wheel-verify .summary button', { hasText: 'Export report (JSON)' }).click()]);
  const report = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(download.suggestedFilename(), 'wheelsig-report.json');
  assert.equal(report.result, 'fail');
  assert.deepEqual(Object.fromEntries(report.wheels.map((w) => [w.project, w.verdict])), r.rows);
  await page.screenshot({ path: path.join(shots, 'deps-2-mixed.png'), fullPage: true });
  await context.close();
});

test('the CLI agrees with the page on the same folder', async () => {
  const wheels = fs.readdirSync(path.join(work, 'mixed')).filter((f) => f.endsWith('.whl')).map((f) => path.join(work, 'mixed', f));
  const list = path.join(sites, 'app', 'deps-keys.json');
  let out = '';
  try {
    // The same testing switch as the page's allow-loopback-in-lists: the list's key_urls are on loopback.
    await promisify(execFile)(cli, ['verify', '--json', '--jwks', list, '--allow-loopback-in-lists', '--require-trusted', ...wheels]);
  } catch (err) {
    assert.equal(err.code, 1, err.stderr);
    out = err.stdout;
  }
  const verdicts = Object.fromEntries(JSON.parse(out).wheels.map((w) => [w.project, w.verdict]));
  // alpha 2.0's signature is on its publisher's site, which the list records as the key's key_url.
  assert.deepEqual(verdicts, { alpha: 'trusted', beta: 'untrusted', delta: 'signed', gamma: 'untrusted' });
});

test('malformed key list: a clear error, the wheels still checked, the key URL still used', async () => {
  const { page, context, errors } = await open(`?keys-url=${encodeURIComponent(`${server.url}/sites/app/broken.json`)}&key-url=${encodeURIComponent(`${server.url}/sites/alpha-pub/keys.json`)}`);
  const status = await page.waitForFunction(() => {
    const s = document.querySelector('wheel-verify').shadowRoot.querySelector('#keys-url-status');
    return s.classList.contains('error') && s.textContent;
  });
  assert.match(await status.jsonValue(), /Could not use the key list: .*broken\.json: keys\[0\]/);
  const r = await pickFolder(page, path.join(work, 'good'));
  // alpha through the key URL; gamma's signature sits on a site only the broken list named.
  assert.deepEqual(r.rows, { alpha: 'trusted', gamma: 'unsigned' });
  assert.ok(r.cards.some((c) => c.includes('The dependency key list could not be used')));
  assert.deepEqual(errors, []);
  await page.screenshot({ path: path.join(shots, 'deps-3-broken-list.png'), fullPage: true });
  await context.close();
});

test('a folder dropped from the desktop (a real drag through the browser, nested folders walked)', async () => {
  const nested = path.join(work, 'nested');
  fs.mkdirSync(path.join(nested, 'more'), { recursive: true });
  fs.copyFileSync(wheel('good', 'alpha', '2.0'), path.join(nested, 'alpha-2.0-py3-none-any.whl'));
  fs.copyFileSync(wheel('good', 'gamma', '1.1'), path.join(nested, 'more', 'gamma-1.1-py3-none-any.whl'));
  fs.writeFileSync(path.join(nested, 'more', 'notes.txt'), 'not a wheel\n');
  const { page, context, errors } = await open(`?keys-url=${encodeURIComponent(listUrl)}`);
  const box = await page.evaluate(() => {
    const r = document.querySelector('wheel-verify').shadowRoot.querySelector('.drop').getBoundingClientRect();
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  });
  // Chromium's own drag and drop (not a synthetic event): the drop carries a directory entry.
  const cdp = await context.newCDPSession(page);
  const data = { items: [], files: [nested], dragOperationsMask: 1 };
  for (const type of ['dragEnter', 'dragOver', 'drop']) await cdp.send('Input.dispatchDragEvent', { type, x: box.x, y: box.y, data });
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  const overall = await page.evaluate(() => document.querySelector('wheel-verify').shadowRoot.querySelector('.summary .overall').textContent);
  assert.equal(overall, 'Pass: all 2 wheels are trusted. 1 other file in the folder ignored.');
  assert.deepEqual(errors, []);
  await context.close();
});
