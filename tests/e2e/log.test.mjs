// End-to-end: a key site with a witnessed release log (two real `wheelsig witness serve`
// processes on loopback), used through its own <wheel-verify> widget in Debian's Chromium,
// which the site presets with its witness-policy.txt. The widget checks each wheel's
// .tlog-proof through the wasm and remembers the log's checkpoint in IndexedDB: first
// sighting, consistent on a reload, consistent across a larger size (rebuilt from the entry
// bundles), then a forked history of the same size (re-signed with the log key) is a split
// view, and a tampered proof is untrusted. Screenshots go to test-output/screenshots/log-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropFiles, launchChromium, startWitness, watchErrors } from './support.mjs';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const python = fs.existsSync(path.join(repo, '.venv/bin/python')) ? path.join(repo, '.venv/bin/python') : 'python3';
const shots = path.join(repo, 'test-output/screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-log-'));
const src = path.join(work, 'src');
const out = path.join(work, 'out'); // served at /site/
const logKey = path.join(work, 'keys', 'log.key');
const KEY = path.join(work, 'keys', 'me.jwk');
const W = (name) => path.join(work, 'wheels', name);
const WHEEL1 = 'alpha-1.0-py3-none-any.whl';
const WHEEL2 = 'alpha-2.0-py3-none-any.whl';

let server;
let browser;
let context; // one browser profile for the memory tests: its IndexedDB is the log memory
const witnesses = [];

const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function rebuild() {
  fs.rmSync(out, { recursive: true, force: true });
  ws('site', 'build', src, '--out', out);
}

/** `wheelsig site cosign`, asynchronously (the witnesses answer from other processes, but keep the loop free). */
function cosign() {
  return new Promise((resolve, reject) => {
    const p = spawn(cli, ['site', 'cosign', src], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`site cosign: ${err}`))));
  });
}

// --- C2SP signed notes and RFC 6962 hashes, for forging a second history with the log key ---
const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest();
const leafHash = (entry) => sha256(Buffer.from([0]), entry);
const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

/** Sign a checkpoint body with a PRIVATE+KEY+<name>+<id>+<base64(0x01 || seed)> note key. */
function signNote(body, privateKeyText) {
  const parts = privateKeyText.trim().split('+'); // the base64 may hold '+' too
  const [name, id, b64] = [parts[2], parts[3], parts.slice(4).join('+')];
  const raw = Buffer.from(b64, 'base64');
  assert.equal(raw[0], 1);
  const key = crypto.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw.subarray(1)]), format: 'der', type: 'pkcs8' });
  const sig = crypto.sign(null, Buffer.from(body), key);
  return `${body}\n\u2014 ${name} ${Buffer.concat([Buffer.from(id, 'hex'), sig]).toString('base64')}\n`;
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  fs.mkdirSync(out, { recursive: true });
  server = await startServer({ roots: { '/site/': out } });
  ws('site', 'init', src, '--publisher', 'Logged Publisher', '--site-url', `${server.url}/site/`, '--projects', 'alpha', '--widget', path.join(repo, 'www'), '--log-key', logKey);
  const logVkey = fs.readFileSync(path.join(src, 'log/vkey'), 'utf8').trim();
  ws('keygen', '--out', KEY);
  ws('site', 'add-key', src, '--key', KEY, '--projects', 'alpha');
  for (const w of await Promise.all(['witness-a.test', 'witness-b.test'].map((name) => startWitness({ cli, dir: path.join(work, 'witness', name), name, logVkey, procs: witnesses })))) {
    ws('site', 'add-witness', src, '--vkey', w.vkey, '--url', w.url);
  }
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, 'wheels'), 'alpha==1.0', 'alpha==2.0'], { stdio: 'ignore' });
  ws('site', 'publish', src, '--key', KEY, '--log-key', logKey, W(WHEEL1));
  await cosign();
  rebuild();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
});

after(async () => {
  await browser?.close();
  await server?.close();
  for (const p of witnesses) p.kill();
  fs.rmSync(work, { recursive: true, force: true });
});

async function openSite(ctx = context) {
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/site/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  return { page, errors };
}

/** Drop files on the site's widget; resolve with what its result card says. */
async function drop(page, files) {
  await dropFiles(page, files);
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const card = el.shadowRoot.querySelector('.card[data-verdict]');
    const q = (sel) => card.querySelector(sel);
    return {
      verdict: el.getAttribute('verdict'),
      cardVerdict: card.dataset.verdict,
      part: card.getAttribute('part'),
      text: card.textContent,
      logLine: q('[part="log-line"]')?.textContent ?? null,
      quorum: q('[part="log-quorum"]')?.dataset.quorum ?? null,
      consistency: q('[part="log"]')?.dataset.consistency ?? null,
      splitView: q('[part="split-view"]')?.textContent ?? null,
      splitRole: q('[part="split-view"]')?.getAttribute('role') ?? null,
      problems: [...card.querySelectorAll('.problems li')].map((li) => li.textContent),
      policyStatus: el.shadowRoot.querySelector('[part="witness-policy-status"]').textContent,
    };
  });
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, `log-${name}.png`), fullPage: true });
const origin = () => `${new URL(server.url).host}/site/log`;

test('the key site publishes its witness policy and presets its widget with it', () => {
  const page = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.match(page, /<wheel-verify key-url="[^"]+" witness-policy="witness-policy\.txt"><\/wheel-verify>/);
  const policy = fs.readFileSync(path.join(out, 'witness-policy.txt'), 'utf8');
  assert.match(policy, /^log \S+$/m);
  assert.match(policy, /^witness witness-a\.test \S+ http:\/\/127\.0\.0\.1:\d+\/$/m);
  assert.match(policy, /^group witnesses all witness-a\.test witness-b\.test$/m);
  assert.match(policy, /^quorum witnesses$/m);
});

test('logged release: trusted, release #0 seen by both witnesses, first sighting; consistent after a reload', async () => {
  const { page, errors } = await openSite();
  const r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.match(r.policyStatus, /Witness policy .*witness-policy\.txt: release log proofs are checked/);
  assert.ok(r.logLine?.startsWith(`Logged: release #0 of ${origin()}, seen by witnesses witness-a.test and witness-b.test at 20`), r.logLine);
  assert.equal(r.quorum, 'met');
  assert.equal(r.consistency, 'first-sighting');
  assert.deepEqual(r.problems, []);
  assert.deepEqual(errors, []);
  await shot(page, '1-logged');
  await page.reload();
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  const again = await drop(page, [W(WHEEL1)]);
  assert.equal(again.verdict, 'trusted', again.text);
  assert.equal(again.consistency, 'consistent');
  await page.close();
});

test('a larger checkpoint: consistent, checked against the entry bundles; the older proof then reads as a stale copy', async () => {
  ws('site', 'publish', src, '--key', KEY, '--log-key', logKey, W(WHEEL2));
  await cosign();
  rebuild();
  const { page } = await openSite();
  const r = await drop(page, [W(WHEEL2)]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.ok(r.logLine?.startsWith(`Logged: release #1 of ${origin()}`), r.logLine);
  assert.equal(r.consistency, 'consistent');
  // alpha-1.0's proof is dated by the size-1 checkpoint: older than the remembered size 2.
  const old = await drop(page, [W(WHEEL1)]);
  assert.equal(old.verdict, 'trusted', old.text);
  assert.equal(old.consistency, 'older-consistent');
  assert.match(old.text, /an older, consistent copy of the log \(a stale cache\)/);
  await page.close();
});

test('a forked history of the same size, signed by the log key: split view, untrusted, evidence exported', async () => {
  // The log's key signs a second tree of size 2: alpha-1.0 at index 0, another entry at 1.
  const proofPath = path.join(out, 'releases/alpha', `${WHEEL1}.tlog-proof`);
  const bundle = fs.readFileSync(path.join(out, 'log/tile/entries/000.p/2'));
  const first = bundle.subarray(2, 2 + bundle.readUInt16BE(0));
  const forged = Buffer.from('wheelsig-release/v1\nproject alpha\nversion 2.0\nfile alpha-2.0-py3-none-any.whl\nsha256 ' + '0'.repeat(64) + '\njws-sha256 ' + '1'.repeat(64) + '\nkid forged\n');
  const other = leafHash(forged);
  const root = nodeHash(leafHash(first), other);
  const note = signNote(`${origin()}\n2\n${root.toString('base64')}\n`, fs.readFileSync(logKey, 'utf8'));
  fs.writeFileSync(proofPath, `c2sp.org/tlog-proof@v1\nindex 0\n${other.toString('base64')}\n\n${note}`);
  const { page } = await openSite();
  const r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.equal(r.cardVerdict, 'untrusted');
  assert.match(r.part, /card-untrusted/);
  assert.equal(r.consistency, 'split-view');
  assert.equal(r.quorum, 'not-met'); // the witnesses never saw this tree
  assert.equal(r.splitRole, 'alert');
  assert.ok(r.splitView?.startsWith(`SPLIT VIEW: the log ${origin()} showed this browser a different history before`), r.splitView);
  assert.ok(r.problems.some((p) => p.startsWith('split-view')), r.problems.join('\n'));
  await shot(page, '2-split-view');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('wheel-verify').locator('[part="export-evidence"]').click()]);
  const evidence = fs.readFileSync(await download.path(), 'utf8');
  assert.ok(evidence.includes(note), 'the forged checkpoint is in the evidence');
  assert.ok(evidence.includes(fs.readFileSync(path.join(out, 'log/checkpoint'), 'utf8').split('\n\n')[0]), 'the remembered checkpoint is in the evidence');
  // The JSON export of a batch carries the split-view problem too.
  const batch = await page.evaluate(async ([b64a, b64b]) => {
    const el = document.querySelector('wheel-verify');
    el.removeAttribute('verdict');
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64a), (c) => c.charCodeAt(0))], 'alpha-1.0-py3-none-any.whl'));
    dt.items.add(new File([Uint8Array.from(atob(b64b), (c) => c.charCodeAt(0))], 'alpha-2.0-py3-none-any.whl'));
    el.shadowRoot.querySelector('.drop').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    await new Promise((resolve) => { const t = setInterval(() => { if (el.hasAttribute('verdict')) { clearInterval(t); resolve(); } }, 50); });
    return el.getAttribute('verdict');
  }, [fs.readFileSync(W(WHEEL1)).toString('base64'), fs.readFileSync(W(WHEEL2)).toString('base64')]);
  assert.equal(batch, 'untrusted');
  const [json] = await Promise.all([page.waitForEvent('download'), page.locator('wheel-verify').locator('[part="export"]').click()]);
  const exported = JSON.parse(fs.readFileSync(await json.path(), 'utf8'));
  const w1 = exported.wheels.find((w) => w.file === WHEEL1);
  assert.equal(w1.verdict, 'untrusted');
  assert.equal(w1.log.consistency, 'split-view');
  assert.ok(w1.problems.some((p) => p.code === 'split-view'));
  await page.close();
});

test('a tampered .tlog-proof: untrusted (log-not-included), in a fresh profile', async () => {
  rebuild(); // the genuine proofs again
  const proofPath = path.join(out, 'releases/alpha', `${WHEEL1}.tlog-proof`);
  const text = fs.readFileSync(proofPath, 'utf8');
  // A different inclusion path hash: still well-formed, no longer includes the release.
  const lines = text.split('\n');
  const tampered = lines[1] === 'index 0' && /^[A-Za-z0-9+/]{43}=$/.test(lines[2])
    ? [lines[0], 'index 0', crypto.randomBytes(32).toString('base64'), ...lines.slice(3)].join('\n')
    : text.replace('index 0', 'index 5');
  fs.writeFileSync(proofPath, tampered);
  const fresh = await browser.newContext();
  const { page } = await openSite(fresh);
  const r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.ok(r.problems.some((p) => /^(log-not-included|log-malformed)/.test(p)), r.problems.join('\n'));
  assert.match(r.text, /Not logged: the log proof was not accepted/);
  await shot(page, '3-tampered-proof');
  await fresh.close();
});

test('a history planted in IndexedDB by a script on the origin (not signed by the log key) is ignored: no false split view', async () => {
  rebuild(); // the genuine site again
  const fresh = await browser.newContext();
  const { page } = await openSite(fresh);
  const cp = fs.readFileSync(path.join(out, 'log/checkpoint'), 'utf8');
  const [body] = cp.split('\n\n');
  const lines = body.split('\n');
  // Same origin and size, another root, and a signature line that is not the log key's.
  const forged = `${lines[0]}\n${lines[1]}\n${crypto.randomBytes(32).toString('base64')}\n\n\u2014 ${lines[0]} ${crypto.randomBytes(68).toString('base64')}\n`;
  await page.evaluate(({ o, note, size }) => new Promise((resolve, reject) => {
    const req = indexedDB.open('wheelsig'); // the version the widget created (it opened it already)
    req.onupgradeneeded = () => req.result.createObjectStore('logs');
    req.onsuccess = () => {
      const tx = req.result.transaction('logs', 'readwrite');
      tx.objectStore('logs').put({ note, size }, o);
      tx.oncomplete = () => { req.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
    req.onerror = () => reject(req.error);
  }), { o: origin(), note: forged, size: Number(lines[1]) });
  await page.reload();
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  const r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.equal(r.splitView, null);
  assert.notEqual(r.consistency, 'split-view');
  await fresh.close();
});

/** An Ed25519 signed-note verifier key named `name` (C2SP signed-note: key id = SHA-256(name, \n, 0x01, key)[:4]). */
function noteVkey(name) {
  const { publicKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const keyBytes = Buffer.concat([Buffer.from([1]), raw]);
  const id = sha256(Buffer.from(`${name}\n`), keyBytes).subarray(0, 4).toString('hex');
  return `${name}+${id}+${keyBytes.toString('base64')}`;
}

test('a policy that does not list the log: the site\u2019s log key on first use, remembered and listed; another key later is log-key-changed; Forget starts over', async () => {
  rebuild();
  const vkeyPath = path.join(out, 'log/vkey');
  const realVkey = fs.readFileSync(vkeyPath, 'utf8').trim();
  const witnessOnly = fs.readFileSync(path.join(out, 'witness-policy.txt'), 'utf8').split('\n').filter((l) => !l.startsWith('log ')).join('\n');
  assert.doesNotMatch(witnessOnly, /^log /m);
  fs.writeFileSync(path.join(out, 'witness-only.txt'), witnessOnly);
  fs.writeFileSync(path.join(out, 'tofu.html'), '<!doctype html><meta charset="utf-8"><title>tofu</title><script type="module" src="wheelsig/wheel-verify.js"></script><wheel-verify key-url="keys.json" witness-policy="witness-only.txt"></wheel-verify>\n');
  const fresh = await browser.newContext({ viewport: { width: 1100, height: 1000 } });
  const open = async () => {
    const page = await fresh.newPage();
    const errors = watchErrors(page);
    await page.goto(`${server.url}/site/tofu.html`);
    await page.waitForFunction(() => customElements.get('wheel-verify'));
    return { page, errors };
  };
  const panel = (page) => page.evaluate(() => {
    const p = document.querySelector('wheel-verify').shadowRoot.querySelector('[part="log-memory"]');
    return { hidden: p.hidden, text: p.textContent, origins: [...p.querySelectorAll('li[data-origin]')].map((li) => li.dataset.origin) };
  });

  let { page, errors } = await open();
  let r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.ok(r.logLine?.startsWith(`Logged: release #0 of ${origin()}`), r.logLine);
  assert.equal(r.consistency, 'first-sighting');
  assert.match(r.text, /Log keythe key site’s log\/vkey, remembered in this browser on first use/);
  await page.waitForFunction(() => !document.querySelector('wheel-verify').shadowRoot.querySelector('[part="log-memory"]').hidden);
  let p = await panel(page);
  assert.deepEqual(p.origins, [origin()]);
  assert.ok(p.text.includes(`log key remembered on first use`) && p.text.includes(realVkey), p.text);
  await page.locator('wheel-verify').locator('[part="log-memory"] summary').click();
  await shot(page, '4-remembered-logs');
  assert.deepEqual(errors, []);
  await page.close();

  // Again: the remembered key checks the remembered checkpoint, so the comparison really ran.
  ({ page } = await open());
  r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.equal(r.consistency, 'consistent');
  await page.close();

  // The site now serves another log key under the same name: the remembered one is kept, and
  // the change is reported; the wheel is untrusted.
  fs.writeFileSync(vkeyPath, `${noteVkey(origin())}\n`);
  ({ page } = await open());
  r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.ok(r.problems.some((x) => x.startsWith('log-key-changed') && x.includes('LOG KEY CHANGED')), r.problems.join('\n'));
  // Forget: the panel no longer lists the log.
  await page.locator('wheel-verify').locator('[part="log-memory"] summary').click();
  await page.locator('wheel-verify').locator(`[part="log-memory"] li[data-origin="${origin()}"] button`).click();
  await page.waitForFunction(() => document.querySelector('wheel-verify').shadowRoot.querySelector('[part="log-memory"]').hidden);
  assert.deepEqual((await panel(page)).origins, []);
  await page.close();

  // The genuine key again, nothing remembered: first use once more.
  fs.writeFileSync(vkeyPath, `${realVkey}\n`);
  ({ page } = await open());
  r = await drop(page, [W(WHEEL1)]);
  assert.equal(r.verdict, 'trusted', r.text);
  assert.equal(r.consistency, 'first-sighting');
  await page.close();
  await fresh.close();
});
