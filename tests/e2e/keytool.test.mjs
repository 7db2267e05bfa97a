// End-to-end: the publisher key tool (www/keytool.html) in Debian's Chromium. Keys made and
// wheels signed in the page are checked with the real CLI; no request leaves the page while it
// works with a key. Screenshots go to test-output/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
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
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-keytool-'));
const W = (name) => path.join(work, 'wheels', name);
const WHEEL = 'toolpkg-1.0-py3-none-any.whl';

let server;
let browser;

/** Run the CLI; returns { status, stdout, stderr } without throwing. */
const run = (...args) => spawnSync(cli, args, { encoding: 'utf8' });

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, 'wheels'), 'toolpkg==1.0'], { stdio: 'ignore' });
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, 'wheels'), `tamper:${W(WHEEL)}=>${path.join(work, 'tampered', WHEEL)}`], { stdio: 'ignore' });
  server = await startServer({ roots: { '/': path.join(repo, 'www') } });
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

async function open() {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${server.url}/keytool.html`);
  await page.waitForFunction(() => document.getElementById('keys-status').textContent.includes('listed'));
  return { page, context, errors };
}

/** Click `selector` and save the download it starts into the work dir. */
async function save(page, selector, name) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(selector).click()]);
  const to = path.join(work, name || download.suggestedFilename());
  await download.saveAs(to);
  return { file: to, suggested: download.suggestedFilename() };
}

test('generate, list and sign in the page; the CLI verifies the result as trusted; no request while the key exists', async () => {
  const { page, context, errors } = await open();
  const requests = [];
  context.on('request', (r) => requests.push(`${r.method()} ${r.url()}`));
  await page.locator('#generate').click();
  await page.waitForFunction(() => document.getElementById('kid').textContent);
  const kid = await page.locator('#kid').textContent();

  // The private key, downloaded, is a key the CLI reads, with the same id.
  const priv = await save(page, '#download-key');
  assert.equal(priv.suggested, `${kid}.private.jwk`);
  const jwks = JSON.parse(run('jwks', priv.file).stdout);
  assert.equal(jwks.keys[0].kid, kid);

  // keys.json as the page writes it is exactly what `wheelsig jwks --projects` prints.
  await page.locator('#projects').fill('ToolPkg');
  await page.locator('#add-key').click();
  await page.waitForFunction(() => document.getElementById('keys-status').textContent.startsWith('Added'));
  const keysJson = await page.locator('#keys-json').inputValue();
  assert.equal(keysJson, run('jwks', priv.file, '--projects', 'toolpkg').stdout);
  fs.writeFileSync(path.join(work, 'keys.json'), keysJson);

  // Sign: detached and an embedded copy.
  await page.locator('#embed').check();
  await page.locator('#wheels').setInputFiles(W(WHEEL));
  await page.waitForFunction(() => document.getElementById('sign-status').textContent.startsWith('Signed'));
  const jws = await save(page, '.signed .get-jws');
  assert.equal(jws.suggested, `${WHEEL}.jws`);
  fs.mkdirSync(path.join(work, 'embedded'));
  const embedded = await save(page, '.signed .get-embedded', path.join('embedded', WHEEL));
  await page.screenshot({ path: path.join(shots, 'keytool-1-signed.png'), fullPage: true });

  // Everything above ran without one network request, and the page itself may not connect.
  assert.deepEqual(requests, []);
  const blocked = await page.evaluate(async (url) => {
    try {
      await fetch(url);
      return 'fetched';
    } catch (err) {
      return `blocked: ${err.message}`;
    }
  }, `${server.url}/index.html`);
  assert.match(blocked, /^blocked/);
  assert.deepEqual(errors, []);
  await context.close();

  const verify = (...args) => {
    const p = run('verify', '--json', '--require-trusted', '--jwks', path.join(work, 'keys.json'), ...args);
    assert.equal(p.status, 0, p.stdout + p.stderr);
    return JSON.parse(p.stdout).wheels[0];
  };
  assert.equal(verify('--sig', jws.file, W(WHEEL)).signatures[0].kid, kid);
  const r = verify(embedded.file);
  assert.ok(r.signatures.every((s) => s.carrier === 'embedded' && s.kid === kid));
  // The embedded copy unsigns back to the original bytes.
  assert.equal(run('unsign', embedded.file).status, 0);
  assert.ok(fs.readFileSync(embedded.file).equals(fs.readFileSync(W(WHEEL))));
});

test('a loaded key file, rotation (retire with a date), revocation (remove), a malformed keys.json', async () => {
  run('keygen', '--out', path.join(work, 'old.jwk'));
  const { page, context } = await open();
  await page.locator('#load-key').setInputFiles(path.join(work, 'old.jwk'));
  await page.waitForFunction(() => document.getElementById('kid').textContent);
  const oldKid = await page.locator('#kid').textContent();
  assert.equal(oldKid, JSON.parse(run('jwks', path.join(work, 'old.jwk')).stdout).keys[0].kid);
  await page.locator('#add-key').click();
  await page.waitForFunction(() => document.getElementById('keys-status').textContent.startsWith('Added'));
  await page.locator('#generate').click();
  await page.waitForFunction((old) => document.getElementById('kid').textContent !== old, oldKid);
  await page.locator('#add-key').click();
  await page.waitForFunction(() => document.querySelectorAll('#keys-table tbody tr').length === 2);

  // Retire the old key from 2027-01-01: exp is that date's Unix seconds (midnight UTC).
  const oldRow = page.locator(`#keys-table tr[data-kid="${oldKid}"]`);
  await oldRow.locator('input[type=date]').fill('2027-01-01');
  await oldRow.locator('button', { hasText: 'Retire' }).click();
  await page.waitForFunction((old) => document.querySelector(`#keys-table tr[data-kid="${old}"] .state`)?.textContent === 'retired 2027-01-01', oldKid);
  let set = JSON.parse(await page.locator('#keys-json').inputValue());
  assert.equal(set.keys.find((k) => k.kid === oldKid).exp, Date.UTC(2027, 0, 1) / 1000);
  assert.equal(set.keys.filter((k) => k.exp === undefined).length, 1, 'the new key stays active');
  await page.screenshot({ path: path.join(shots, 'keytool-2-rotated.png'), fullPage: true });

  // Revoke: remove the old key.
  await page.locator(`#keys-table tr[data-kid="${oldKid}"] button`, { hasText: 'Remove' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#keys-table tbody tr').length === 1);
  set = JSON.parse(await page.locator('#keys-json').inputValue());
  assert.ok(!set.keys.some((k) => k.kid === oldKid));

  // A malformed keys.json (a private key pasted in) is named precisely, and nothing is listed.
  const leaked = fs.readFileSync(path.join(work, 'old.jwk'), 'utf8');
  await page.locator('#keys-json').fill(`{"keys": [${leaked}]}`);
  await page.waitForFunction(() => document.getElementById('keys-status').classList.contains('error'));
  assert.match(await page.locator('#keys-status').textContent(), /keys\.json: keys\[0\]: .*private/);
  assert.ok(await page.locator('#keys-table').isHidden());
  await context.close();
});

test('a tampered wheel is refused with the reason, and offers nothing to download', async () => {
  const { page, context } = await open();
  await page.locator('#generate').click();
  await page.waitForFunction(() => document.getElementById('kid').textContent);
  await page.locator('#wheels').setInputFiles(path.join(work, 'tampered', WHEEL));
  await page.waitForFunction(() => document.getElementById('sign-status').textContent.startsWith('Signed'));
  assert.equal(await page.locator('#sign-status').textContent(), 'Signed 0 of 1.');
  const item = await page.locator('.signed li').textContent();
  assert.match(item, /not signed: refusing to sign an invalid wheel:\s+record-hash-mismatch: toolpkg\/core\.py: sha256 digest differs from RECORD/);
  assert.equal(await page.locator('.signed button').count(), 0);
  await page.screenshot({ path: path.join(shots, 'keytool-3-refused.png'), fullPage: true });
  await context.close();
});
