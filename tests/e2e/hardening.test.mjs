// End-to-end: attacks that try to make the widget read "trusted" (or leak, or hang) when the
// answer is no. Debian's Chromium (playwright-core), loopback servers, fixtures made by the
// real CLI and by Python's zipfile. Each test names the verdict or problem code it expects.
// Screenshots of the new card states go to test-output/screenshots/hardening-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropFiles, launchChromium, watchErrors } from './support.mjs';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const python = fs.existsSync(path.join(repo, '.venv/bin/python')) ? path.join(repo, '.venv/bin/python') : 'python3';
const shots = path.join(repo, 'test-output/screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-hardening-'));
const sites = path.join(work, 'sites'); // served at /s/: every key site and key list below
const KEY = (name) => path.join(work, `${name}.jwk`);
const whl = (dir, name, version) => path.join(work, dir, `${name}-${version}-py3-none-any.whl`);
const RLO = '\u202e';
const ESC = '\u001b';

let server; // www/ at /, the key sites at /s/
let big; // a raw server that streams an endless key URL
let browser;
const kids = {};

const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const siteUrl = (name) => `${server.url}/s/${name}/keys.json`;

function make(dir, ...specs) {
  execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, dir), ...specs], { stdio: 'ignore' });
}

/** A key site directory with keys.json = `jwks` of `key` with the given options. */
function keySite(name, key, ...opts) {
  fs.mkdirSync(path.join(sites, name), { recursive: true });
  fs.writeFileSync(path.join(sites, name, 'keys.json'), ws('jwks', KEY(key), ...opts));
}

/** A wheel whose members have hostile names, with a correct RECORD (Python's zipfile). */
function hostileWheel(out, name, members) {
  const script = `
import base64, hashlib, json, sys, zipfile
out, name, members = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
files = {f"{name}/__init__.py": b"x = 1\\n"}
files.update({m: b"y = 2\\n" for m in members})
di = f"{name}-1.0.dist-info"
files[f"{di}/METADATA"] = f"Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n".encode()
files[f"{di}/WHEEL"] = b"Wheel-Version: 1.0\\nGenerator: e2e\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
record = "".join(f"{p},sha256={b64(hashlib.sha256(b).digest())},{len(b)}\\n" for p, b in files.items()) + f"{di}/RECORD,,\\n"
files[f"{di}/RECORD"] = record.encode()
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for p, b in files.items():
        z.writestr(zipfile.ZipInfo(p, date_time=(2026, 1, 1, 0, 0, 0)), b, compress_type=zipfile.ZIP_DEFLATED)
`;
  execFileSync(python, ['-c', script, out, name, JSON.stringify(members)], { stdio: 'ignore' });
}

/** A server for the bounded-body test: /keys.json streams 2 MiB chunked (no Content-Length). */
function startBigServer() {
  const stats = { written: 0, closedEarly: false, finished: false };
  const srv = http.createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cache-Control', 'no-store');
    if (req.url !== '/keys.json') {
      res.statusCode = 404;
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }); // no Content-Length: chunked
    const total = 2 << 20;
    const chunk = Buffer.alloc(64 << 10, 0x20);
    res.write('{"keys": [');
    const timer = setInterval(() => {
      if (stats.written >= total) {
        clearInterval(timer);
        stats.finished = true;
        return res.end(']}');
      }
      res.write(chunk);
      stats.written += chunk.length;
    }, 15);
    res.on('close', () => {
      clearInterval(timer);
      if (!stats.finished) stats.closedEarly = true;
    });
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${srv.address().port}`, stats, close: () => new Promise((r) => srv.close(r)) })));
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  fs.mkdirSync(sites, { recursive: true });
  server = await startServer({ roots: { '/': path.join(repo, 'www'), '/s/': sites } });
  big = await startBigServer();
  for (const k of ['remembered', 'other', 'pubA', 'gamma', 'stranger']) kids[k] = JSON.parse(ws('keygen', '--out', KEY(k))).kid;

  // (a) demo signed (embedded) by the remembered key; three key URLs that cover demo and
  // refuse it: no longer listed, retired before the signature, listed for another project.
  make('mem', 'demo==1.0');
  ws('sign', '--embed', '--key', KEY('remembered'), whl('mem', 'demo', '1.0'));
  keySite('not-listed', 'other', '--projects', 'demo');
  keySite('retired', 'remembered', '--projects', 'demo', '--exp', '2020-01-01');
  keySite('scoped', 'remembered', '--projects', 'elsewhere');

  // (b) publisher A covers demo only; a folder with demo and two other projects.
  keySite('pubA', 'pubA', '--projects', 'demo');
  make('batch', 'demo==2.0', 'alpha==1.0', 'zeta==1.0');
  ws('sign', '--key', KEY('pubA'), '--out-dir', path.join(sites, 'pubA', 'releases', 'demo'), whl('batch', 'demo', '2.0'));
  // A dependency key list whose key for gamma names a plain-http loopback key_url.
  keySite('gamma', 'gamma', '--projects', 'gamma');
  make('deps', 'gamma==1.0');
  ws('sign', '--key', KEY('gamma'), '--out-dir', path.join(sites, 'gamma', 'releases', 'gamma'), whl('deps', 'gamma', '1.0'));
  const list = JSON.parse(ws('jwks', KEY('gamma'), '--projects', 'gamma'));
  list.keys[0].key_url = siteUrl('gamma');
  fs.mkdirSync(path.join(sites, 'app'), { recursive: true });
  fs.writeFileSync(path.join(sites, 'app', 'deps-keys.json'), JSON.stringify(list, null, 2));

  // (c) a stranger signs demo (and another project) with a jku pointing at the stranger's site.
  keySite('stranger', 'stranger');
  make('jku', 'demo==3.0', 'otherproj==1.0', 'sampledemo==9.0');
  ws('sign', '--embed', '--key', KEY('stranger'), '--key-url', siteUrl('stranger'), whl('jku', 'demo', '3.0'), whl('jku', 'otherproj', '1.0'), whl('jku', 'sampledemo', '9.0'));

  // (c') an unsigned download whose METADATA names its publisher's key URL, where its
  // signature is (pyproject's `[project.urls] "Signing keys"`).
  keySite('pubH', 'pubA', '--projects', 'hinted');
  make('hint', `hinted==1.0;signing-keys=${siteUrl('pubH')}`);
  ws('sign', '--key', KEY('pubA'), '--out-dir', path.join(sites, 'pubH', 'releases', 'hinted'), whl('hint', 'hinted', '1.0'));

  // (e) member names with U+202E and ESC.
  fs.mkdirSync(path.join(work, 'hostile'), { recursive: true });
  hostileWheel(whl('hostile', 'bidi', '1.0'), 'bidi', [`bidi/${RLO}gnp.py`]);
  hostileWheel(whl('hostile', 'escname', '1.0'), 'escname', [`escname/${ESC}[2K${ESC}[1Atrusted.py`]);

  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await big?.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** A fresh browser profile; `storage` is put into localStorage before any page script runs. */
async function open(query = '', { storage = null, context = null } = {}) {
  context ??= await browser.newContext({ viewport: { width: 1100, height: 900 } });
  if (storage) {
    await context.addInitScript((entries) => {
      for (const [k, v] of Object.entries(entries)) localStorage.setItem(k, v);
    }, Object.fromEntries(Object.entries(storage).map(([k, v]) => [k, JSON.stringify(v)])));
  }
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  context.on('request', (r) => requests.push(r.url()));
  await page.goto(`${server.url}/${query}`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  return { page, context, errors, requests };
}

/** Drop files on the drop zone (a real DataTransfer drop); resolve with every result card. */
async function drop(page, files) {
  await dropFiles(page, files);
  return waitCards(page);
}

async function waitCards(page) {
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    return [...el.shadowRoot.querySelectorAll('.card[data-verdict]')].map((card) => ({
      file: card.querySelector('.file')?.textContent,
      verdict: card.dataset.verdict,
      text: card.textContent,
      problems: [...card.querySelectorAll('.problems li')].map((li) => li.textContent),
      buttons: [...card.querySelectorAll('button')].map((b) => b.textContent),
      warnings: [...card.querySelectorAll('.warn')].map((p) => p.textContent),
    }));
  });
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, `hardening-${name}.png`), fullPage: true });

const remembered = (extra = {}) => ({
  'wheelsig.first-use.v1': { demo: { kid: kids.remembered, first_seen: '2026-01-01T00:00:00Z', fingerprint: 'SHA256:remembered-on-first-use', ...extra } },
});

// (a) Revocation beats memory.
for (const [site, code, what] of [
  ['not-listed', 'trust-key-not-listed', 'no longer lists the remembered key'],
  ['retired', 'trust-key-retired', 'lists it retired before the signature'],
  ['scoped', 'trust-project-scope', 'lists it for another project only'],
]) {
  test(`revocation beats memory: a remembered first-use key, and a key URL that ${what} -> untrusted, ${code}`, async () => {
    const { page, context, errors } = await open(`?key-url=${encodeURIComponent(siteUrl(site))}`, { storage: remembered() });
    const [card] = await drop(page, [whl('mem', 'demo', '1.0')]);
    assert.equal(card.verdict, 'untrusted', `expected untrusted, ${code}:\n${card.text}`);
    assert.ok(card.problems.some((p) => p.startsWith(code)), `expected problem ${code}:\n${card.problems.join('\n')}`);
    assert.doesNotMatch(card.text, /Trusted via/, 'the remembered key is not shown as trusting anything');
    assert.deepEqual(errors, []);
    await shot(page, `a-memory-${site}`);
    await context.close();
  });
}

test('old first-use entries with extra members are stripped, malformed ones left out, not passed -> trusted via first use', async () => {
  // Entries as older versions (or a hand edit) left them: members the strict boundary rejects,
  // a key id that is not a thumbprint, a name that is not a project, an entry without a key.
  const storage = remembered({ note: 'from an old version', projects: ['demo'], jwk: null });
  Object.assign(storage['wheelsig.first-use.v1'], { 'not a project!': { kid: kids.other }, broken: { kid: 'too-short' }, nokid: { fingerprint: 'SHA256:x' } });
  const { page, context, errors } = await open('', { storage });
  const [card] = await drop(page, [whl('mem', 'demo', '1.0')]);
  assert.equal(card.verdict, 'trusted', `expected trusted via first use:\n${card.text}`);
  assert.match(card.text, /Trusted viafirst use/);
  assert.deepEqual(errors, []);
  await context.close();
});

// (b) Lookups only where they can help.
test('lookups: a key URL covering only demo is asked for releases/demo/ only, never for the other wheels of a batch (demo trusted)', async () => {
  const { page, context, requests } = await open(`?key-url=${encodeURIComponent(siteUrl('pubA'))}`);
  const cards = await drop(page, [whl('batch', 'demo', '2.0'), whl('batch', 'alpha', '1.0'), whl('batch', 'zeta', '1.0')]);
  const verdicts = Object.fromEntries(cards.map((c) => [c.file, c.verdict]));
  assert.deepEqual(verdicts, { 'demo-2.0-py3-none-any.whl': 'trusted', 'alpha-1.0-py3-none-any.whl': 'unsigned', 'zeta-1.0-py3-none-any.whl': 'unsigned' });
  const toA = requests.filter((u) => u.startsWith(`${server.url}/s/pubA/`));
  assert.deepEqual(toA.filter((u) => u.includes('/releases/')), [`${server.url}/s/pubA/releases/demo/demo-2.0-py3-none-any.whl.jws`], toA.join('\n'));
  assert.ok(!requests.some((u) => /releases\/(alpha|zeta)\//.test(u)), `no lookup for projects A does not cover:\n${requests.join('\n')}`);
  await context.close();
});

test('lookups: a key list\'s plain-http loopback key_url is not fetched without allow-loopback-in-lists (untrusted, trust-unsigned-downgrade, a warning); with it -> trusted', async () => {
  const listUrl = `${server.url}/s/app/deps-keys.json`;
  const { page, context, requests, errors } = await open(`?keys-url=${encodeURIComponent(listUrl)}`);
  let [card] = await drop(page, [whl('deps', 'gamma', '1.0')]);
  assert.ok(!requests.some((u) => u.startsWith(`${server.url}/s/gamma/`)), `nothing fetched from the list's key_url:\n${requests.join('\n')}`);
  assert.equal(card.verdict, 'untrusted', card.text);
  assert.ok(card.problems.some((p) => p.startsWith('trust-unsigned-downgrade')), card.problems.join('\n'));
  assert.ok(card.warnings.some((w) => /key_url listed for gamma cannot be used/.test(w) && w.includes(siteUrl('gamma'))), `a clear warning:\n${card.warnings.join('\n')}`);
  await shot(page, 'b-loopback-key-url-refused');
  await page.evaluate(() => document.querySelector('wheel-verify').setAttribute('allow-loopback-in-lists', ''));
  [card] = await drop(page, [whl('deps', 'gamma', '1.0')]);
  assert.equal(card.verdict, 'trusted', card.text);
  assert.ok(requests.includes(`${server.url}/s/gamma/releases/gamma/gamma-1.0-py3-none-any.whl.jws`), requests.join('\n'));
  assert.deepEqual(errors, []);
  await context.close();
});

// (c) The signer's key URL hint.
test('jku on a page with key-url set: a stranger\'s jku is never offered, the verdict stays untrusted (trust-key-not-listed)', async () => {
  const { page, context, requests } = await open(`?key-url=${encodeURIComponent(siteUrl('pubA'))}`);
  const [card] = await drop(page, [whl('jku', 'demo', '3.0')]);
  assert.equal(card.verdict, 'untrusted', card.text);
  assert.ok(card.problems.some((p) => p.startsWith('trust-key-not-listed')), card.problems.join('\n'));
  assert.match(card.text, /Key URL hint.*stranger\/keys\.json \(named by the signature: not trusted by itself\)/);
  assert.deepEqual(card.buttons.filter((b) => /key URL|Trust keys from/i.test(b)), [], `no key URL button: ${card.buttons.join(' | ')}`);
  assert.equal(await page.locator('wheel-verify [part~="use-jku"], wheel-verify [part~="trust-key-url"]').count(), 0);
  assert.ok(!requests.some((u) => u.includes('/s/stranger/')), 'the hint is never fetched');
  await shot(page, 'c-jku-on-key-url-page');
  await context.close();
});

test('jku in a docs embed whose key-url cannot be fetched: still configured, so no key URL offer (signed, a warning)', async () => {
  // embed-example.html sets key-url to demo/keys.json, which this server does not have: a
  // configured key URL that fails must not turn into an offer to trust the signer's.
  const { page, context } = await open('embed-example.html');
  const [card] = await drop(page, [whl('jku', 'sampledemo', '9.0')]);
  assert.equal(card.verdict, 'signed', card.text);
  assert.ok(card.warnings.some((w) => /key URL could not be used/.test(w)), card.warnings.join('\n'));
  assert.deepEqual(card.buttons.filter((b) => /key URL|Trust keys from/i.test(b)), [], `no key URL button: ${card.buttons.join(' | ')}`);
  await context.close();
});

test('jku on the plain verifier: an explicit first-use choice for demo only; trusted via key URL chosen on first use; kept on reload; Forget removes it (signed again)', async () => {
  const { page, context } = await open();
  let [card] = await drop(page, [whl('jku', 'demo', '3.0')]);
  assert.equal(card.verdict, 'signed', card.text);
  const label = `Trust keys from ${siteUrl('stranger')} for demo from now on (remembered in this browser)`;
  assert.ok(card.buttons.includes(label), card.buttons.join(' | '));
  await shot(page, 'c-jku-choice-offered');
  await page.locator('wheel-verify button[part="trust-key-url"]').click();
  await page.waitForFunction(() => document.querySelector('wheel-verify').getAttribute('verdict') === 'trusted', null, { timeout: 60_000 });
  [card] = await waitCards(page);
  const today = new Date().toISOString().slice(0, 10);
  assert.ok(card.text.includes(`Trusted viakey URL chosen on first use (${today}): ${siteUrl('stranger')}`), card.text);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('wheelsig.key-url-choices.v1')));
  assert.deepEqual(Object.keys(stored), ['demo']);
  assert.equal(stored.demo.key_url, siteUrl('stranger'));
  assert.equal(await page.locator('wheel-verify [part="trust-panel"] [part="chosen-key-urls"] li[data-project="demo"]').count(), 1);
  await page.locator('wheel-verify [part="trust-panel"] summary').click();
  const panel = await page.locator('wheel-verify [part="trust-panel"]').textContent();
  assert.match(panel, /Key URLs chosen on first use.*demo → keys from http:\/\/127\.0\.0\.1:\d+\/s\/stranger\/keys\.json \(chosen \d{4}-\d\d-\d\d\) Forget/, panel);
  assert.doesNotMatch(panel, /null/, panel);
  await shot(page, 'c-jku-trusted-via-choice');

  // The choice covers demo only: another project signed by the same stranger stays signed.
  [card] = await drop(page, [whl('jku', 'otherproj', '1.0')]);
  assert.equal(card.verdict, 'signed', card.text);

  // A reload keeps the choice.
  await page.reload();
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  [card] = await drop(page, [whl('jku', 'demo', '3.0')]);
  assert.equal(card.verdict, 'trusted', card.text);
  assert.match(card.text, /Trusted viakey URL chosen on first use/);

  // Forget in the panel removes it.
  await page.locator('wheel-verify [part="trust-panel"] summary').click();
  await page.locator('wheel-verify button[aria-label="Forget the key URL chosen for demo"]').click();
  assert.equal(await page.evaluate(() => localStorage.getItem('wheelsig.key-url-choices.v1')), '{}');
  [card] = await drop(page, [whl('jku', 'demo', '3.0')]);
  assert.equal(card.verdict, 'signed', card.text);
  assert.ok(card.buttons.includes(label), 'offered again');
  await context.close();
});

test('a key URL named in the wheel\u2019s METADATA: unsigned alone, offered as a first-use choice; chosen, the signature on that site makes it trusted; never offered where key-url is set', async () => {
  let { page, context, requests } = await open();
  let [card] = await drop(page, [whl('hint', 'hinted', '1.0')]);
  assert.equal(card.verdict, 'unsigned', card.text);
  assert.ok(!requests.some((u) => u.includes('/s/pubH/')), 'the hint is not fetched by itself');
  const label = `Trust keys from ${siteUrl('pubH')} for hinted from now on (remembered in this browser)`;
  assert.ok(card.buttons.includes(label), card.buttons.join(' | '));
  assert.match(card.text, /This wheel\u2019s metadata \(Project-URL \u201cSigning keys\u201d\) names .*pubH\/keys\.json as its publisher\u2019s key URL\. .*Its signatures, if any, are there\./);
  await shot(page, 'c-metadata-hint-offered');
  await page.locator('wheel-verify button[part="trust-key-url"]').click();
  await page.waitForFunction(() => document.querySelector('wheel-verify').getAttribute('verdict') === 'trusted', null, { timeout: 60_000 });
  [card] = await waitCards(page);
  assert.match(card.text, /Trusted viakey URL chosen on first use/);
  assert.ok(requests.includes(`${server.url}/s/pubH/releases/hinted/hinted-1.0-py3-none-any.whl.jws`), requests.join('\n'));
  await context.close();
  // A publisher's page (key-url set): the hint is shown nowhere as a choice.
  ({ page, context } = await open(`?key-url=${encodeURIComponent(siteUrl('pubA'))}`));
  [card] = await drop(page, [whl('hint', 'hinted', '1.0')]);
  assert.deepEqual(card.buttons.filter((b) => /Trust keys from/i.test(b)), [], card.buttons.join(' | '));
  await context.close();
});

// (d) Bounded bodies.
test('bounded bodies: a 2 MiB chunked key URL (no Content-Length) is refused as larger than 1.0 MB, and the download is cancelled early', async () => {
  const { page, context } = await open(`?key-url=${encodeURIComponent(`${big.url}/keys.json`)}`);
  const status = await page.waitForFunction(() => {
    const s = document.querySelector('wheel-verify').shadowRoot.querySelector('#key-url-status');
    return s.classList.contains('error') && s.textContent;
  }, null, { timeout: 30_000 });
  assert.match(await status.jsonValue(), /Could not use the key URL: http:\/\/127\.0\.0\.1:\d+\/keys\.json is larger than 1\.0 MB/);
  // The browser closed the connection long before the server had sent everything.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(big.stats.closedEarly, `the server saw the connection closed early (wrote ${big.stats.written} bytes)`);
  assert.ok(big.stats.written < 1.75 * (1 << 20), `read at most a little over the limit, not all 2 MiB (${big.stats.written} bytes written)`);
  await shot(page, 'd-bounded-key-url');
  await context.close();
});

// (e) Escaping.
test('escaping: member names with U+202E and ESC show as \\u{202e} / \\u{1b} (unsigned; invalid with zip-bad-name)', async () => {
  const { page, context, errors } = await open();
  const cards = await drop(page, [whl('hostile', 'bidi', '1.0'), whl('hostile', 'escname', '1.0')]);
  const bidi = cards.find((c) => c.file.startsWith('bidi'));
  const esc = cards.find((c) => c.file.startsWith('escname'));
  assert.equal(bidi.verdict, 'unsigned', bidi.text);
  assert.equal(esc.verdict, 'invalid', esc.text);
  assert.ok(esc.problems.some((p) => p.startsWith('zip-bad-name') && p.includes('escname/\\u{1b}[2K\\u{1b}[1Atrusted.py')), esc.problems.join('\n'));
  // The members table (built when opened) shows the escaped name.
  for (const d of await page.locator('wheel-verify .card[data-verdict] details[part="members"] summary').all()) await d.click();
  const shadowText = await page.evaluate(() => document.querySelector('wheel-verify').shadowRoot.querySelector('.cards').textContent);
  assert.ok(shadowText.includes('bidi/\\u{202e}gnp.py'), 'the U+202E member name, escaped');
  assert.ok(!shadowText.includes(RLO) && !shadowText.includes(ESC), 'no raw U+202E or ESC anywhere in the results');
  // Attributes too (aria-label, title): nothing raw.
  const rawAttrs = await page.evaluate(([rlo, esc]) => [...document.querySelector('wheel-verify').shadowRoot.querySelectorAll('*')]
    .flatMap((el) => [...el.attributes].map((a) => a.value)).filter((v) => v.includes(rlo) || v.includes(esc)), [RLO, ESC]);
  assert.deepEqual(rawAttrs, []);
  assert.deepEqual(errors, []);
  await shot(page, 'e-escaped-names');
  await context.close();
});

test('escaping: a dropped file name with U+202E is shown escaped in the card and the live region', async () => {
  const { page, context } = await open();
  const name = `invoice${RLO}lhw.whl`;
  const file = path.join(work, 'hostile', name);
  fs.copyFileSync(whl('hostile', 'bidi', '1.0'), file);
  const cards = await drop(page, [file]);
  assert.equal(cards[0].file, 'invoice\\u{202e}lhw.whl');
  assert.equal(cards[0].verdict, 'invalid', cards[0].text);
  const live = await page.evaluate(() => document.querySelector('wheel-verify').shadowRoot.querySelector('[aria-live]').textContent);
  assert.ok(live.startsWith('invoice\\u{202e}lhw.whl'), live);
  await context.close();
});
