// End-to-end: a key site generated with `wheelsig site`, served on loopback, used through its
// own <wheel-verify> widget in Debian's Chromium. Key lifecycle: active, revoked (removed),
// scoped to another project, retired, rotated. Screenshots go to test-output/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const python = fs.existsSync(path.join(repo, '.venv/bin/python')) ? path.join(repo, '.venv/bin/python') : 'python3';
const shots = path.join(repo, 'test-output/screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-keysite-'));
const src = path.join(work, 'src'); // the publisher's site sources
const out = path.join(work, 'out'); // the deployed site, served at /site/
const W = (name) => path.join(work, 'wheels', name);
const KEY = (name) => path.join(work, `${name}.jwk`);

let server;
let browser;
const kids = {};

// XDG_CONFIG_HOME: `site init` writes the release log's private key there, `site publish` reads it.
const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, XDG_CONFIG_HOME: path.join(work, 'config') } });

function rebuild() {
  fs.rmSync(out, { recursive: true, force: true });
  ws('site', 'build', src, '--out', out);
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  fs.mkdirSync(out, { recursive: true });
  server = await startServer({ roots: { '/site/': out } });
  ws('site', 'init', src, '--publisher', 'Lifecycle Publisher', '--site-url', `${server.url}/site/`, '--projects', 'alpha,beta', '--widget', path.join(repo, 'www'));
  for (const k of ['a', 'b', 'scoped']) kids[k] = JSON.parse(ws('keygen', '--out', KEY(k))).kid;
  ws('site', 'add-key', src, '--key', KEY('a'), '--projects', 'alpha');
  ws('site', 'add-key', src, '--key', KEY('scoped'), '--projects', 'beta');
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, 'wheels'), 'alpha==1.0', 'alpha==2.0', 'alpha==3.0'], { stdio: 'ignore' });
  ws('site', 'publish', src, '--key', KEY('a'), W('alpha-1.0-py3-none-any.whl'));
  // Signed by the key listed only for beta: kept by the user, never publishable on this site.
  ws('sign', '--key', KEY('scoped'), '--out-dir', path.join(work, 'scoped-sigs'), W('alpha-3.0-py3-none-any.whl'));
  rebuild();
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

async function openSite() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  await page.goto(`${server.url}/site/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  return { page, context, errors };
}

/** Drop files (wheel and optional .jws) on the site's widget; resolve with the result card. */
async function drop(page, files) {
  const payload = files.map((f) => ({ name: path.basename(f), b64: fs.readFileSync(f).toString('base64') }));
  await page.evaluate((items) => {
    const el = document.querySelector('wheel-verify');
    el.removeAttribute('verdict');
    const dt = new DataTransfer();
    for (const { name, b64 } of items) dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name));
    el.shadowRoot.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const card = el.shadowRoot.querySelector('.card[data-verdict]');
    return { verdict: el.getAttribute('verdict'), text: card?.textContent || '', problems: [...card.querySelectorAll('.problems li')].map((li) => li.textContent) };
  });
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, `keysite-${name}.png`), fullPage: true });

test('the key page lists keys and releases without JavaScript', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/site/`);
  const keys = await page.locator('#keys tbody tr').allTextContents();
  assert.equal(keys.length, 2);
  assert.ok(keys.some((t) => t.includes(kids.a) && t.includes('alpha') && t.includes('active')));
  const releases = await page.locator('#releases tbody tr').allTextContents();
  assert.equal(releases.length, 1);
  assert.match(releases[0], /alpha.*1\.0.*alpha-1\.0-py3-none-any\.whl/);
  assert.equal(await page.locator('wheel-verify').getAttribute('key-url'), `${server.url}/site/keys.json`);
  await context.close();
});

test('active listed key: trusted through the site\'s own widget', async () => {
  const { page, context, errors } = await openSite();
  const r = await drop(page, [W('alpha-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.match(r.text, new RegExp(`Trusted viakey URL: ${server.url}/site/keys\\.json`));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(errors, []);
  await shot(page, '1-trusted');
  await context.close();
});

test('key listed for another project: untrusted for this one', async () => {
  const { page, context } = await openSite();
  const r = await drop(page, [W('alpha-3.0-py3-none-any.whl'), path.join(work, 'scoped-sigs', 'alpha-3.0-py3-none-any.whl.jws')]);
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.ok(r.problems.some((p) => p.includes(kids.scoped)), r.problems.join('\n'));
  await shot(page, '2-other-project');
  await context.close();
});

test('rotation: old release keeps verifying under the retired key, new release under the new key', async () => {
  ws('site', 'add-key', src, '--key', KEY('b'), '--projects', 'alpha');
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  ws('site', 'retire-key', src, kids.a, '--date', tomorrow);
  ws('site', 'publish', src, '--key', KEY('b'), W('alpha-2.0-py3-none-any.whl'));
  rebuild();
  const { page, context } = await openSite();
  assert.match(await page.locator('#keys').textContent(), new RegExp(`retired ${tomorrow}`));
  const old = await drop(page, [W('alpha-1.0-py3-none-any.whl')]);
  assert.equal(old.verdict, 'trusted', old.text);
  assert.match(old.text, new RegExp(`key retired ${tomorrow}; signature dated before`));
  const fresh = await drop(page, [W('alpha-2.0-py3-none-any.whl')]);
  assert.equal(fresh.verdict, 'trusted', fresh.text);
  assert.ok(fresh.text.includes(kids.b));
  await shot(page, '3-rotated');
  await context.close();
});

test('removed key (revoked): its signature is untrusted, and the CLI agrees', async () => {
  const kept = path.join(work, 'kept.jws'); // the user's copy of the old release signature
  fs.copyFileSync(path.join(src, 'releases/alpha/alpha-1.0-py3-none-any.whl.jws'), kept);
  // The site keeps covering alpha with another key (as after the rotation above).
  if (!fs.readFileSync(path.join(src, 'keys.json'), 'utf8').includes(kids.b)) ws('site', 'add-key', src, '--key', KEY('b'), '--projects', 'alpha');
  ws('site', 'remove-key', src, kids.a);
  fs.rmSync(path.join(src, 'releases/alpha/alpha-1.0-py3-none-any.whl.jws'));
  rebuild();
  const { page, context } = await openSite();
  fs.copyFileSync(kept, path.join(work, 'wheels', 'alpha-1.0-py3-none-any.whl.jws'));
  const r = await drop(page, [W('alpha-1.0-py3-none-any.whl'), W('alpha-1.0-py3-none-any.whl.jws')]);
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.ok(r.problems.some((p) => p.startsWith('trust-key-not-listed')), r.problems.join('\n'));
  await shot(page, '4-revoked');
  await context.close();
  let status = 0;
  let stdout = '';
  let stderr = '';
  try {
    // Asynchronously: the key site is served from this process's event loop.
    await promisify(execFile)(cli, ['verify', '--json', '--key-url', `${server.url}/site/keys.json`, '--sig', kept, W('alpha-1.0-py3-none-any.whl')]);
  } catch (err) {
    ({ code: status, stdout, stderr } = err);
  }
  assert.equal(status, 1, stderr);
  assert.equal(JSON.parse(stdout).wheels[0].verdict, 'untrusted');
});
