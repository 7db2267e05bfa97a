// End-to-end: the verifier page in Debian's Chromium (playwright-core), served on loopback,
// with fixtures made by the real CLI. Screenshots of each state go to test-output/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-e2e-'));
const site = path.join(work, 'site'); // served at /site/: the publisher's key site
const revokedSite = path.join(work, 'revoked'); // served at /revoked/: a key site after revocation
const W = (name) => path.join(work, 'wheels', name);

let server;
let browser;

function ws(...args) {
  return execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeWheels(dir, ...specs) {
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), dir, ...specs], { stdio: 'ignore' });
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  for (const d of [site, revokedSite, path.join(work, 'wheels'), path.join(work, 'other')]) fs.mkdirSync(d, { recursive: true });
  ws('keygen', '--out', path.join(work, 'a.jwk'));
  ws('keygen', '--out', path.join(work, 'b.jwk'));
  ws('keygen', '--out', path.join(work, 'c.jwk'));
  fs.writeFileSync(path.join(site, 'keys.json'), ws('jwks', path.join(work, 'a.jwk'), '--projects', 'sampledemo'));
  fs.writeFileSync(path.join(revokedSite, 'keys.json'), ws('jwks', path.join(work, 'c.jwk'), '--projects', 'sampledemo'));
  makeWheels(path.join(work, 'wheels'), 'sampledemo==1.0', 'otherdemo==0.1', 'changedemo==1.0');
  // Trusted: detached signature published under the key site's releases/.
  ws('sign', '--key', path.join(work, 'a.jwk'), '--out-dir', path.join(site, 'releases/sampledemo'), W('sampledemo-1.0-py3-none-any.whl'));
  // Revoked: the same signature published on a site whose keys.json no longer lists key a.
  fs.cpSync(path.join(site, 'releases'), path.join(revokedSite, 'releases'), { recursive: true });
  // Tampered: core.py changed, RECORD kept.
  makeWheels(path.join(work, 'wheels'), `tamper:${W('sampledemo-1.0-py3-none-any.whl')}=>${path.join(work, 'tampered/sampledemo-1.0-py3-none-any.whl')}`);
  // Key change: changedemo signed by a, and a copy of it signed by b.
  fs.copyFileSync(W('changedemo-1.0-py3-none-any.whl'), path.join(work, 'other/changedemo-1.0-py3-none-any.whl'));
  ws('sign', '--embed', '--key', path.join(work, 'a.jwk'), W('changedemo-1.0-py3-none-any.whl'));
  ws('sign', '--embed', '--key', path.join(work, 'b.jwk'), path.join(work, 'other/changedemo-1.0-py3-none-any.whl'));

  server = await startServer({ roots: { '/': path.join(repo, 'www'), '/site/': site, '/revoked/': revokedSite } });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

async function openPage(query = '') {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  const requests = []; // every request from the start, workers included
  page.on('pageerror', (e) => errors.push(String(e)));
  // A Content-Security-Policy violation is only a console message: count it as an error.
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  context.on('request', (r) => requests.push(r.url()));
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  return { page, context, errors, requests };
}

/** Drop files on the drop zone with a real DataTransfer drop event. */
async function drop(page, files) {
  const payload = files.map((f) => ({ name: path.basename(f), b64: fs.readFileSync(f).toString('base64') }));
  await page.evaluate(async (items) => {
    const el = document.querySelector('wheel-verify');
    el.removeAttribute('verdict');
    const dt = new DataTransfer();
    for (const { name, b64 } of items) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], name));
    }
    el.shadowRoot.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
  return waitVerdict(page);
}

async function waitVerdict(page) {
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const card = el.shadowRoot.querySelector('.card[data-verdict]');
    return {
      verdict: el.getAttribute('verdict'),
      badge: card?.querySelector('.badge')?.textContent,
      text: card?.textContent || '',
      problems: [...(card?.querySelectorAll('.problems li') || [])].map((li) => li.textContent),
    };
  });
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

test('trusted: key URL lists the key, detached signature found under releases/', async () => {
  const { page, context, errors, requests } = await openPage(`?key-url=${server.url}/site/keys.json`);
  // The key URL is fetched as soon as it is set, and its keys are listed before any drop.
  const listed = await page.waitForFunction(() => {
    const s = document.querySelector('wheel-verify').shadowRoot;
    return !s.querySelector('.keys').hidden && s.querySelector('.keys').textContent;
  });
  assert.match(await listed.jsonValue(), /SHA256:.*for sampledemo/);
  const r = await drop(page, [W('sampledemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'trusted');
  assert.equal(r.badge, 'Trusted');
  assert.match(r.text, /Trusted viakey URL: http:\/\/127\.0\.0\.1:\d+\/site\/keys\.json/);
  assert.match(r.text, /Fingerprint\s*SHA256:/);
  assert.deepEqual(r.problems, []);
  await shot(page, '1-trusted');
  // Only same-origin static assets and the key site: the wheel itself is never sent anywhere.
  const offsite = requests.filter((u) => !u.startsWith(server.url));
  assert.deepEqual(offsite, []);
  assert.ok(requests.some((u) => u.endsWith('/site/keys.json')));
  assert.ok(requests.some((u) => u.endsWith('/site/releases/sampledemo/sampledemo-1.0-py3-none-any.whl.jws')));
  assert.ok(!requests.some((u) => u.includes('.whl') && !u.endsWith('.jws')), 'the wheel is never requested or uploaded');
  assert.deepEqual(errors, []);
  await context.close();
});

test('unsigned: intact wheel without a signature', async () => {
  const { page, context } = await openPage();
  const r = await drop(page, [W('otherdemo-0.1-py3-none-any.whl')]);
  assert.equal(r.verdict, 'unsigned');
  assert.equal(r.badge, 'Unsigned');
  assert.match(r.text, /Files checked4 against RECORD/);
  await shot(page, '2-unsigned');
  await context.close();
});

test('invalid: a member changed after signing names the member and the digest mismatch', async () => {
  const { page, context } = await openPage(`?key-url=${server.url}/site/keys.json`);
  const r = await drop(page, [path.join(work, 'tampered/sampledemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'invalid');
  assert.equal(r.badge, 'Invalid');
  assert.ok(r.problems.some((p) => p.startsWith('record-hash-mismatch sampledemo/core.py')), r.problems.join('\n'));
  assert.ok(r.problems.some((p) => p.startsWith('sig-file-digest-mismatch')), 'the published signature is for the genuine file');
  // The members table, built when opened, marks the changed member.
  await page.locator('wheel-verify .card[data-verdict] details[part="members"] summary').click();
  // The table is built on the `toggle` event, which fires after the click returns: wait for it.
  await page.locator('wheel-verify .card[data-verdict] details[part="members"] tbody tr').first().waitFor();
  const rows = await page.locator('wheel-verify .card[data-verdict] details[part="members"] tbody tr').allTextContents();
  assert.ok(rows.some((t) => t.startsWith('sampledemo/core.py') && t.endsWith('mismatch')), rows.join('\n'));
  assert.ok(rows.some((t) => t.startsWith('sampledemo/__init__.py') && t.endsWith('ok')), rows.join('\n'));
  await shot(page, '3-invalid-tampered');
  await context.close();
});

test('untrusted: the key was removed from the key URL (revoked)', async () => {
  const { page, context } = await openPage(`?key-url=${server.url}/revoked/keys.json`);
  const r = await drop(page, [W('sampledemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'untrusted');
  assert.ok(r.problems.some((p) => p.startsWith('trust-key-not-listed')), r.problems.join('\n'));
  await shot(page, '4-untrusted-revoked');
  await context.close();
});

test('key-changed: remember a key on first use, then the same project signed by another key', async () => {
  const { page, context } = await openPage();
  let r = await drop(page, [W('changedemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'signed');
  await page.locator('wheel-verify button[part="remember"]').click();
  await page.waitForFunction(() => document.querySelector('wheel-verify').shadowRoot.textContent.includes('Remembered'));
  r = await drop(page, [path.join(work, 'other/changedemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'key-changed');
  assert.equal(r.badge, 'Key changed');
  assert.match(r.text, /Warning: the signing key of changedemo has changed/);
  const alertVisible = await page.locator('wheel-verify [role="alert"]').isVisible();
  assert.ok(alertVisible);
  await shot(page, '5-key-changed');
  // The original wheel is still trusted by first use.
  r = await drop(page, [W('changedemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'trusted');
  assert.match(r.text, /Trusted viafirst use/);
  await context.close();
});

test('file picker: several wheels at once, worst verdict on the element', async () => {
  const { page, context } = await openPage(`?key-url=${server.url}/site/keys.json`);
  await page.locator('wheel-verify input#files').setInputFiles([W('sampledemo-1.0-py3-none-any.whl'), path.join(work, 'tampered/sampledemo-1.0-py3-none-any.whl'), W('otherdemo-0.1-py3-none-any.whl')]);
  const r = await waitVerdict(page);
  assert.equal(r.verdict, 'invalid', 'the worst of trusted, invalid, unsigned');
  const verdicts = await page.evaluate(() => [...document.querySelector('wheel-verify').shadowRoot.querySelectorAll('.card[data-verdict]')].map((c) => c.dataset.verdict).sort());
  assert.deepEqual(verdicts, ['invalid', 'trusted', 'unsigned']);
  // The batch summary: a row per project (worst verdict), one overall line.
  const summary = await page.evaluate(() => {
    const el = document.querySelector('wheel-verify').shadowRoot.querySelector('.summary');
    return { result: el.dataset.result, overall: el.querySelector('.overall').textContent, rows: [...el.querySelectorAll('tbody tr')].map((tr) => [tr.dataset.project, tr.dataset.verdict]) };
  });
  assert.equal(summary.result, 'fail');
  assert.equal(summary.overall, 'Fail: 2 of 3 wheels are not trusted (1 trusted, 1 unsigned, 1 invalid).');
  assert.deepEqual(summary.rows, [['otherdemo', 'unsigned'], ['sampledemo', 'invalid']]);
  await shot(page, '6-picker-batch');
  await context.close();
});

test('cancel: a long verification stops, and the next one still works', async () => {
  const big = path.join(work, 'big');
  fs.mkdirSync(big, { recursive: true });
  execFileSync(python, [path.join(repo, 'bench/make_big_wheel.py'), big, '0.4'], { stdio: 'ignore' });
  const file = fs.readdirSync(big).find((f) => f.endsWith('.whl'));
  const { page, context } = await openPage();
  await page.locator('wheel-verify input#files').setInputFiles(path.join(big, file));
  const cancel = page.locator('wheel-verify .card button', { hasText: 'Cancel' });
  await cancel.waitFor();
  await page.waitForFunction(() => (document.querySelector('wheel-verify').shadowRoot.querySelector('progress')?.value || 0) > 0);
  await cancel.click();
  await page.waitForFunction(() => document.querySelector('wheel-verify').shadowRoot.querySelector('[data-state="cancelled"]'));
  await shot(page, '7-cancelled');
  const r = await drop(page, [W('otherdemo-0.1-py3-none-any.whl')]);
  assert.equal(r.verdict, 'unsigned');
  await context.close();
});

test('embedded in a docs page: project restriction, wheel-verified event', async () => {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/embed-example.html`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  await page.evaluate((keyUrl) => {
    const el = document.querySelector('wheel-verify');
    el.setAttribute('key-url', keyUrl);
    window.__events = [];
    el.addEventListener('wheel-verified', (e) => window.__events.push([e.detail.file, e.detail.verdict]));
  }, `${server.url}/site/keys.json`);
  const r = await drop(page, [W('sampledemo-1.0-py3-none-any.whl')]);
  assert.equal(r.verdict, 'trusted');
  assert.deepEqual(await page.evaluate(() => window.__events), [['sampledemo-1.0-py3-none-any.whl', 'trusted']]);
  // A wheel of another project is refused with a message, not verified.
  const other = fs.readFileSync(W('otherdemo-0.1-py3-none-any.whl')).toString('base64');
  await page.evaluate((b64) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], 'otherdemo-0.1-py3-none-any.whl'));
    document.querySelector('wheel-verify').shadowRoot.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, other);
  await page.waitForFunction(() => document.querySelector('wheel-verify').shadowRoot.textContent.includes('checks sampledemo wheels only'));
  assert.deepEqual(await page.evaluate(() => window.__events.length), 1, 'no verification ran for the other project');
  await shot(page, '8-embedded');
  await context.close();
});

test('PyPI cross-check: same file, different file, not listed, offline', async () => {
  // PyPI's JSON API is not reachable from these machines (only the package registry is), so
  // its answers are served by Playwright route handlers carrying real digests of our files.
  const { createHash } = await import('node:crypto');
  const wheel = W('otherdemo-0.1-py3-none-any.whl');
  const sha = createHash('sha256').update(fs.readFileSync(wheel)).digest('hex');
  const { page, context } = await openPage();
  await page.evaluate(() => document.querySelector('wheel-verify').setAttribute('pypi-check', ''));
  const pypi = (digest) => ({ urls: [{ filename: 'otherdemo-0.1-py3-none-any.whl', digests: { sha256: digest } }] });
  const check = async (handler) => {
    await page.unroute('https://pypi.org/**');
    await page.route('https://pypi.org/**', handler);
    await drop(page, [wheel]);
    await page.waitForFunction(() => !/Comparing/.test(document.querySelector('wheel-verify').shadowRoot.querySelector('.card [part="pypi"]')?.textContent || 'Comparing'));
    return page.evaluate(() => document.querySelector('wheel-verify').shadowRoot.querySelector('.card [part="pypi"]').textContent);
  };
  assert.match(await check((r) => r.fulfill({ json: pypi(sha) })), /Same file PyPI serves to everyone/);
  await shot(page, '9-pypi-same');
  assert.match(await check((r) => r.fulfill({ json: pypi('0'.repeat(64)) })), /DIFFERENT from the file PyPI serves/);
  await shot(page, '10-pypi-different');
  assert.match(await check((r) => r.fulfill({ status: 404, body: 'not found' })), /PyPI does not list otherdemo 0\.1/);
  assert.match(await check((r) => r.abort('internetdisconnected')), /Could not reach PyPI \(offline\?\)/);
  await context.close();
});

test('keyboard: Tab reaches the drop zone and Enter opens the file chooser; dark mode renders', async () => {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, colorScheme: 'dark' });
  const page = await context.newPage();
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  // Listen before any key is pressed: Playwright turns on file-chooser interception
  // asynchronously when the first listener is added, which races a keypress right after it.
  const chooserShown = page.waitForEvent('filechooser');
  // Tab from the top of the page: key URL field, its button, then the drop zone.
  let focused = '';
  for (let i = 0; i < 6 && focused !== 'drop'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.querySelector('wheel-verify').shadowRoot.activeElement?.className || '');
  }
  assert.equal(focused, 'drop', 'the drop zone is reachable with Tab');
  await page.keyboard.press('Enter');
  const chooser = await chooserShown;
  assert.ok(chooser.isMultiple(), 'several wheels at once');
  await chooser.setFiles([W('otherdemo-0.1-py3-none-any.whl')]);
  const r = await waitVerdict(page);
  assert.equal(r.verdict, 'unsigned');
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(13, 17, 23)', 'dark colour scheme applies');
  await shot(page, '11-dark-keyboard');
  await context.close();
});
