// End-to-end: a key site's "Index audit" section and its own <wheel-verify>, with real PyPI
// wheels. pypiserver on loopback serves six, idna and requests as downloaded from PyPI
// (target/real-wheels/, the interop suite's `real_wheels`); a key site made with `wheelsig site
// init/add-key/publish` signs them; `wheelsig index-log init/follow` logs the index. Then the
// index swaps requests' file (same name, one byte of one member changed, RECORD rewritten:
// tests/interop/swap_wheel.py), and a mirror in front of it (a relay in this process) marks
// idna yanked with a reason holding markup. `wheelsig audit --json` against the mirror fails;
// `wheelsig site build --audit` renders it, and Debian's Chromium shows the key page: the
// swapped file a digest mismatch with both digests, six and idna agreeing, the hostile reason
// as text (no element made, no script run). The page's own widget, given the `index-log`
// attribute, says the swapped file's name was logged with another sha256 (not trusted), and
// the real one is logged (trusted with the publisher's signature). Screenshots:
// test-output/screenshots/audit-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropFiles, launchChromium, startPypiserver, watchErrors } from './support.mjs';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const venv = (tool) => path.join(repo, '.venv/bin', tool);
const python = fs.existsSync(venv('python')) ? venv('python') : 'python3';
const shots = path.join(repo, 'test-output/screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-audit-page-'));
const cache = path.join(repo, 'target/real-wheels');
// Pinned as in tests/interop/conftest.py's REAL (checked below), so both suites share the download.
const REAL = { six: 'six==1.17.0', idna: 'idna==3.20', requests: 'requests==2.34.2' };
const ORIGIN = 'example.test/real-pypi-log';
// The mirror's yanked reason (PEP 592 `data-yanked`, HTML-escaped in the attribute as an index
// writes it): markup that would make an element and run script if a page took it as HTML.
const HOSTILE = 'CVE-0 <img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> \u202eevil';
const src = path.join(work, 'src'); // the publisher's site sources
const out = path.join(work, 'site'); // the built site, served at /site/
const logDir = path.join(work, 'log'); // the index log, served at /log/ (same origin: the key page's CSP)
const packages = path.join(work, 'packages');
const env = { ...process.env, XDG_CONFIG_HOME: path.join(work, 'config'), WHEELSIG_STATE_DIR: path.join(work, 'state'), WHEELSIG_TRUST_STORE: path.join(work, 'trust.json') };

let server;
let mirror;
let browser;
let index; // pypiserver's simple root
let mirrorIndex; // the mirror's simple root, the one audited
let report; // the audit report the page renders
const real = {}; // project -> the real wheel (path)
let swapped; // the swapped requests wheel (path), as downloaded from the index
const procs = [];

const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const esc = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The CLI, without blocking the event loop (the key site, the log and the mirror are served from it). */
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A mirror relaying pypiserver byte for byte, except idna's page, whose link gets the hostile `data-yanked`. */
function startMirror(upstream) {
  const s = http.createServer(async (req, res) => {
    try {
      const r = await fetch(new URL(req.url, upstream), { headers: { accept: req.headers.accept ?? '*/*' }, redirect: 'manual' });
      let body = Buffer.from(await r.arrayBuffer());
      if (new URL(req.url, 'http://x').pathname === '/simple/idna/') {
        const page = body.toString('utf8');
        const marked = page.replace('<a href=', `<a data-yanked="${esc(HOSTILE)}" href=`);
        if (marked === page) throw new Error(`no link on idna's page: ${page}`);
        body = Buffer.from(marked);
      }
      const headers = { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream', 'content-length': body.length };
      if (r.headers.get('location')) headers.location = r.headers.get('location');
      res.writeHead(r.status, headers);
      res.end(body);
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

/** The project's file as `simple` serves it now (its one link), saved under `dir`. */
async function download(simple, project, dir) {
  const pageUrl = `${simple}${project}/`;
  const page = await (await fetch(pageUrl)).text();
  const hrefs = [...page.matchAll(/href="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(hrefs.length, 1, page);
  const url = new URL(hrefs[0], pageUrl);
  const data = Buffer.from(await (await fetch(url)).arrayBuffer());
  assert.equal(url.hash, `#sha256=${crypto.createHash('sha256').update(data).digest('hex')}`);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, decodeURIComponent(url.pathname.split('/').pop()));
  fs.writeFileSync(file, data);
  return file;
}

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  // The real wheels: the interop suite's download, made here if this suite runs first.
  const conftest = fs.readFileSync(path.join(repo, 'tests/interop/conftest.py'), 'utf8');
  for (const [project, spec] of Object.entries(REAL)) {
    assert.ok(conftest.includes(`"${spec}"`), `${spec} is not pinned in conftest.py's REAL`);
    const [name, version] = spec.split('==');
    const find = () => fs.existsSync(cache) && fs.readdirSync(cache).find((f) => f.startsWith(`${name}-${version}-`) && f.endsWith('.whl'));
    if (!find()) execFileSync(python, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--dest', cache, spec], { stdio: 'inherit', timeout: 300_000 });
    real[project] = path.join(cache, find());
  }
  fs.mkdirSync(packages);
  for (const whl of Object.values(real)) fs.copyFileSync(whl, path.join(packages, path.basename(whl)));
  index = await startPypiserver(venv('pypi-server'), packages, procs);
  server = await startServer({ roots: { '/': path.join(repo, 'www'), '/site/': out, '/log/': logDir } });
  // The key site: all three real wheels signed by the publisher's key.
  const siteUrl = `${server.url}/site/`;
  ws('site', 'init', src, '--publisher', 'Real Publisher', '--site-url', siteUrl, '--projects', 'six,idna,requests', '--widget', path.join(repo, 'www'));
  ws('keygen', '--out', path.join(work, 'publisher.jwk'));
  ws('site', 'add-key', src, '--key', path.join(work, 'publisher.jwk'));
  ws('site', 'publish', src, '--key', path.join(work, 'publisher.jwk'), ...Object.values(real));
  fs.mkdirSync(out);
  let r = await run(['site', 'build', src, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  // The index log of what pypiserver served: the real files.
  ws('index-log', 'init', logDir, '--origin', ORIGIN);
  const projects = path.join(work, 'projects.txt');
  fs.writeFileSync(projects, 'six\nidna\nrequests\n');
  r = await run(['index-log', 'follow', logDir, '--index', index, '--projects', projects]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /3 new entries/);
  // The index swaps requests' file.
  const name = path.basename(real.requests);
  const made = path.join(work, 'made', name);
  fs.mkdirSync(path.dirname(made));
  assert.equal(execFileSync(python, [path.join(repo, 'tests/interop/swap_wheel.py'), real.requests, made], { encoding: 'utf8' }).trim(), 'requests/__init__.py');
  fs.copyFileSync(made, path.join(packages, name));
  mirror = await startMirror(index);
  mirrorIndex = `http://127.0.0.1:${mirror.address().port}/simple/`;
  swapped = await download(mirrorIndex, 'requests', path.join(work, 'downloaded'));
  assert.equal(sha256(swapped), sha256(made));
  assert.notEqual(sha256(swapped), sha256(real.requests));
  // The audit, against the mirror, and the site rebuilt with it.
  r = await run(['audit', '--index', mirrorIndex, '--key-url', `${siteUrl}keys.json`, '--json']);
  assert.equal(r.code, 1, r.stderr);
  report = JSON.parse(r.stdout);
  assert.deepEqual(report.findings.map((f) => [f.code, f.filename]), [['digest-mismatch', name], ['yanked', path.basename(real.idna)]]);
  assert.equal(report.findings[1].yanked_reason, HOSTILE, 'the reason reached the report as the index wrote it');
  fs.writeFileSync(path.join(work, 'audit.json'), r.stdout);
  r = await run(['site', 'build', src, '--out', out, '--audit', path.join(work, 'audit.json')]);
  assert.equal(r.code, 0, r.stderr);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  mirror?.close();
  for (const p of procs) p.kill();
  fs.rmSync(work, { recursive: true, force: true });
});

async function openKeyPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  page.on('dialog', (d) => { errors.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.goto(`${server.url}/site/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  return { page, context, errors };
}

const shot = (page, name, opts = {}) => page.screenshot({ path: path.join(shots, `audit-${name}.png`), ...opts });

test('the key page\u2019s audit: the swapped real wheel a digest mismatch, the others agreeing, the index\u2019s markup as text', async () => {
  const { page, context, errors } = await openKeyPage();
  const audit = page.locator('#audit');
  assert.equal(await audit.locator('h2').textContent(), 'Index audit');
  assert.match(await audit.locator('p').first().textContent(), new RegExp(`^On \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, the package index ${mirrorIndex.replace(/[.]/g, '\\.')} was compared with the releases signed here`));
  assert.equal(await audit.locator('.audit-verdict').getAttribute('class'), 'audit-verdict fail');
  assert.equal(await audit.locator('.audit-verdict').textContent(), 'FAIL The index and this site differ: 1 finding below.');
  // A row per project (sorted by name): requests differs, six and idna agree (idna's yank is a note, not a difference).
  const rows = await audit.locator('table:not(.findings) tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    cells: [...tr.cells].map((c) => c.textContent),
    verdict: tr.cells[5].className,
    link: tr.querySelector('a')?.getAttribute('href') ?? null,
  })));
  assert.deepEqual(rows, [
    { cells: ['idna', '1', '1', '1', '0', '0'], verdict: 'pass', link: `${mirrorIndex}idna/` },
    { cells: ['requests', '1', '1', '0', '0', '1'], verdict: 'fail', link: `${mirrorIndex}requests/` },
    { cells: ['six', '1', '1', '1', '0', '0'], verdict: 'pass', link: `${mirrorIndex}six/` },
  ]);
  const findings = await audit.locator('table.findings tbody tr').evaluateAll((trs) => trs.map((tr) => ({ cls: tr.className, cells: [...tr.cells].map((c) => c.textContent) })));
  const name = path.basename(real.requests);
  assert.deepEqual(findings[0], {
    cls: 'fail',
    cells: ['digest-mismatch', 'requests', name, `the index serves ${name} with sha256 ${sha256(swapped)}, but the release signed here (release log entry ${report.findings[0].log_index}) has sha256 ${sha256(real.requests)}: not the file you signed`],
  });
  // The genuine file's digest is the one the Releases table lists for it.
  const releases = await page.locator('#releases tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  for (const whl of Object.values(real)) assert.ok(releases.some((c) => c[2] === path.basename(whl) && c[3] === sha256(whl)), path.basename(whl));
  // The hostile reason is text: escaped for HTML, its bidi override made visible, no element made.
  const idna = path.basename(real.idna);
  assert.equal(findings[1].cls, 'info');
  assert.deepEqual(findings[1].cells.slice(0, 3), ['yanked', 'idna', idna]);
  assert.equal(findings[1].cells[3], `${idna} is served with the sha256 signed here (release log entry ${report.findings[1].log_index}), and yanked: CVE-0 <img src=x onerror="window.__pwned=1"> <script>window.__pwned=2</script> \\u{202e}evil`);
  assert.equal(await page.evaluate(() => document.querySelectorAll('img, main script, table.findings td:last-child *').length), 0, 'no element from the index');
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
  assert.ok(!html.includes('<img') && !html.includes('\u202e') && html.includes('&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;'), 'escaped in the file itself');
  assert.deepEqual(JSON.parse(await (await fetch(`${server.url}/site/audit.json`)).text()), report, 'published as audit.json');
  assert.deepEqual(errors, []);
  await shot(page, '1-key-page', { fullPage: true });
  await audit.screenshot({ path: path.join(shots, 'audit-2-section.png') });
  await context.close();
});

test('without JavaScript the audit section is the same text', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.url}/site/`);
  const text = await page.locator('#audit').textContent();
  assert.ok(text.includes(`digest-mismatch`) && text.includes(sha256(swapped)) && text.includes('<img src=x onerror='), text);
  assert.equal(await page.locator('#audit img').count(), 0);
  await context.close();
});

/** Drop files on the key page's widget; what its card says, and the report it sent. */
async function drop(page, files) {
  await page.evaluate(() => {
    window.reports = [];
    document.querySelector('wheel-verify').addEventListener('wheel-verified', (e) => window.reports.push(e.detail));
  });
  await dropFiles(page, files);
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict') || document.querySelector('wheel-verify').shadowRoot.querySelector('.card[data-state="error"]'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const card = el.shadowRoot.querySelector('.card');
    return {
      verdict: el.getAttribute('verdict'),
      text: card.textContent,
      status: card.querySelector('[part="index-log"]')?.dataset.status ?? null,
      line: card.querySelector('[part="index-log-line"]')?.textContent ?? null,
      logMeta: card.querySelector('[part="index-log"] dd')?.textContent ?? null,
      problems: [...card.querySelectorAll('.problems li')].map((li) => li.textContent),
      codes: (window.reports[0]?.problems ?? []).map((p) => p.code),
      report: window.reports[0] ?? null,
    };
  });
}

test('the key page\u2019s own widget with index-log: the swapped real wheel\u2019s name was logged with another sha256, not trusted; the real one is logged and trusted', async () => {
  const { page, context, errors } = await openKeyPage();
  const siteUrl = `${server.url}/site/`;
  assert.equal(await page.locator('wheel-verify').getAttribute('key-url'), `${siteUrl}keys.json`);
  await page.evaluate(() => document.querySelector('wheel-verify').setAttribute('index-log', '/log/'));
  const name = path.basename(real.requests);
  // The widget fetches the release's detached signature from the site itself: it covers the
  // real RECORD, not this one, and the index log has the name with the real file's sha256.
  const r = await drop(page, [swapped]);
  assert.equal(r.verdict, 'invalid', r.text);
  assert.equal(r.status, 'different', r.text);
  assert.equal(r.line, `This file name was logged in ${ORIGIN} with a different sha256 (${sha256(real.requests).slice(0, 16)}\u2026), not this file\u2019s ${sha256(swapped).slice(0, 16)}\u2026: you were not served what everyone else was.`);
  assert.deepEqual(r.codes, ['sig-payload-mismatch', 'index-log-mismatch']);
  assert.equal(r.logMeta, `${server.url}/log/ (3 entries; no witness policy)`, 'no policy: no quorum to claim');
  assert.ok(r.text.startsWith(`Invalid${name}The index log has this file name with a different sha256 (below): do not install this wheel.`), r.text);
  assert.ok(r.text.includes(`detached ${siteUrl}releases/requests/${name}.jws`), r.text);
  assert.deepEqual(r.report.index_log.entries.map((e) => e.sha256), [sha256(real.requests)]);
  assert.equal(r.report.sha256, sha256(swapped));
  await page.locator('#verify').screenshot({ path: path.join(shots, 'audit-3-swapped-drop.png') });
  // The real file: trusted by the site's key, and the very file the index log has.
  const genuine = await drop(page, [real.requests]);
  assert.equal(genuine.verdict, 'trusted', genuine.text);
  assert.equal(genuine.status, 'logged');
  assert.deepEqual(genuine.codes, []);
  assert.match(genuine.line, new RegExp(`^This exact file \\(sha256 ${sha256(real.requests).slice(0, 16)}\u2026\\) is in the index log ${ORIGIN.replace(/[.]/g, '\\.')} \\(entry #\\d+, first seen 20`));
  await page.locator('#verify').screenshot({ path: path.join(shots, 'audit-4-genuine-drop.png') });
  assert.deepEqual(errors, []);
  await context.close();
});
