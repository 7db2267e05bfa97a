// End-to-end: the widget's `index-log` attribute against a real index log. Wheels are served by
// a real index (pypiserver on loopback); `wheelsig index-log init/follow` logs them and two real
// `wheelsig witness serve` processes cosign the log (`index-log cosign`); the log directory is
// served as is. In Debian's Chromium, any wheel dropped on the widget (these are unsigned) is
// looked up by its sha256 through the wasm's index_log_check gather loop: logged and witnessed
// (the card names the witnesses), a swapped file of the same name (a different sha256: not
// trusted), a file not in the log, min-age failing a fresh file, a lying lookup file that can
// hide an entry but not forge one, and a forked log of the same size (a second real tree,
// signed by the log key, that the witnesses refuse): a split view against the checkpoint this
// browser remembered. Screenshots go to test-output/screenshots/index-log-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropFiles, launchChromium, startPypiserver, startWitness, watchErrors } from './support.mjs';
import { startServer } from '../../scripts/serve.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = process.env.WHEELSIG || path.join(repo, 'target/debug/wheelsig');
const venv = (tool) => path.join(repo, '.venv/bin', tool);
const python = fs.existsSync(venv('python')) ? venv('python') : 'python3';
const shots = path.join(repo, 'test-output/screenshots');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'wheelsig-index-log-'));
const ORIGIN = 'example.test/pypi-log';
const logDir = path.join(work, 'log'); // served at /log/
const forkDir = path.join(work, 'fork'); // served at /fork/: a second history of the same log
const lieDir = path.join(work, 'lie'); // served at /lie/: the log with lying lookup files
const logKey = path.join(work, 'keys', 'index-log.key');
const ALPHA = 'alpha-1.0-py3-none-any.whl';
const BETA = 'beta-1.0-py3-none-any.whl';
const GAMMA = 'gamma-1.0-py3-none-any.whl';
const P = (dir, name) => path.join(work, dir, name);

let server;
let browser;
let context; // one profile: its IndexedDB remembers the index log's checkpoint
let vkey;
const procs = [];
const witnesses = [];
const requests = [];

const ws = (...args) => execFileSync(cli, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const sha256 = (file) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Run the CLI without blocking the event loop (the witnesses and pypiserver are other processes). */
function run(args) {
  return new Promise((resolve) => {
    const p = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

const wheels = (dir, ...specs) => execFileSync(python, [path.join(repo, 'scripts/make_sample_wheels.py'), path.join(work, dir), ...specs], { stdio: 'ignore' });

before(async () => {
  fs.mkdirSync(shots, { recursive: true });
  // The index serves alpha and beta; a mirror serves another alpha-1.0 (same name, other
  // bytes: its METADATA names a key URL); gamma is on no index.
  wheels('packages', 'alpha==1.0', 'beta==1.0');
  wheels('swapped', 'alpha==1.0;signing-keys=https://attacker.example/keys.json');
  wheels('elsewhere', 'gamma==1.0');
  wheels('packages-fork', 'beta==1.0');
  fs.copyFileSync(P('swapped', ALPHA), P('packages-fork', ALPHA));
  assert.notEqual(sha256(P('packages', ALPHA)), sha256(P('swapped', ALPHA)));
  const [index, forkIndex] = await Promise.all([startPypiserver(venv('pypi-server'), P('packages', ''), procs), startPypiserver(venv('pypi-server'), P('packages-fork', ''), procs)]);
  vkey = ws('index-log', 'init', logDir, '--origin', ORIGIN, '--log-key', logKey).trim();
  // The fork starts from the same empty log, and is filled from the other index with the same
  // key: a second real tree of the same size (alpha-1.0 with the swapped digest in it).
  fs.cpSync(logDir, forkDir, { recursive: true });
  const projects = path.join(work, 'projects.txt');
  fs.writeFileSync(projects, '# followed\nalpha\nbeta\n');
  let r = await run(['index-log', 'follow', logDir, '--index', index, '--projects', projects, '--log-key', logKey]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /2 new entries/);
  r = await run(['index-log', 'follow', forkDir, '--index', forkIndex, '--projects', projects, '--log-key', logKey]);
  assert.equal(r.code, 0, r.err);
  const ws2 = await Promise.all(['witness-a.test', 'witness-b.test'].map((name) => startWitness({ cli, dir: path.join(work, 'witness', name), name, logVkey: vkey, procs })));
  witnesses.push(...ws2);
  const witnessArgs = ws2.flatMap((w) => ['--witness', `${w.vkey}=${w.url}`]);
  r = await run(['index-log', 'cosign', logDir, ...witnessArgs]);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.readFileSync(path.join(logDir, 'checkpoints/index'), 'utf8'), '2\n');
  // The witnesses saw the real size-2 tree: they refuse the fork's, and nothing is written.
  r = await run(['index-log', 'cosign', forkDir, ...witnessArgs]);
  assert.equal(r.code, 1, r.err);
  assert.ok(!fs.existsSync(path.join(forkDir, 'checkpoints')));
  const cpLine = (dir) => fs.readFileSync(path.join(dir, 'checkpoint'), 'utf8').split('\n');
  assert.equal(cpLine(forkDir)[1], cpLine(logDir)[1], 'the same size');
  assert.notEqual(cpLine(forkDir)[2], cpLine(logDir)[2], 'another root');
  // The lying copy: beta's lookup line points at alpha's entry (a forgery), alpha's is gone (hiding).
  fs.cpSync(logDir, lieDir, { recursive: true });
  const alphaLine = fs.readFileSync(path.join(logDir, 'lookup/alpha'), 'utf8').trim();
  const alphaIndex = alphaLine.split(' ')[0];
  fs.writeFileSync(path.join(lieDir, 'lookup/beta'), `${alphaIndex} ${BETA} ${sha256(P('packages', BETA))}\n`);
  fs.writeFileSync(path.join(lieDir, 'lookup/alpha'), '');
  // The page: the widget, and the witness policy (the log's key, both witnesses, both needed).
  const page = path.join(work, 'page');
  fs.mkdirSync(page);
  fs.writeFileSync(path.join(page, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>index log</title><script type="module" src="/wheel-verify.js"></script></head><body><wheel-verify></wheel-verify></body></html>');
  fs.writeFileSync(path.join(page, 'policy.txt'), `log ${vkey}\n${ws2.map((w) => `witness ${w.name} ${w.vkey} ${w.url}`).join('\n')}\ngroup both all ${ws2.map((w) => w.name).join(' ')}\nquorum both\n`);
  server = await startServer({ roots: { '/': path.join(repo, 'www'), '/t/': page, '/log/': logDir, '/fork/': forkDir, '/lie/': lieDir } });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.close();
  for (const p of procs) p.kill();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The test page with these widget attributes (in `ctx`). */
async function openPage(attrs, ctx = context) {
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(`${server.url}/t/`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  await page.evaluate((a) => {
    const el = document.querySelector('wheel-verify');
    for (const [k, v] of Object.entries(a)) el.setAttribute(k, v);
  }, attrs);
  return { page, errors };
}

/** Drop one wheel; what its card says, and the report the element sent. */
async function drop(page, file) {
  await page.evaluate(() => {
    window.reports = [];
    document.querySelector('wheel-verify').addEventListener('wheel-verified', (e) => window.reports.push(e.detail));
  });
  await dropFiles(page, [file]);
  await page.waitForFunction(() => document.querySelector('wheel-verify').hasAttribute('verdict') || document.querySelector('wheel-verify').shadowRoot.querySelector('.card[data-state="error"]'), null, { timeout: 60_000 });
  return page.evaluate(() => {
    const el = document.querySelector('wheel-verify');
    const card = el.shadowRoot.querySelector('.card');
    const q = (sel) => card.querySelector(sel);
    return {
      verdict: el.getAttribute('verdict'),
      text: card.textContent,
      state: card.dataset.state ?? null,
      status: q('[part="index-log"]')?.dataset.status ?? null,
      consistency: q('[part="index-log"]')?.dataset.consistency ?? null,
      line: q('[part="index-log-line"]')?.textContent ?? null,
      logMeta: q('[part="index-log"] dd')?.textContent ?? null,
      warnings: [...card.querySelectorAll('[part="index-log-warning"]')].map((p) => p.textContent),
      split: q('[part="index-log-split-view"]')?.textContent ?? null,
      problems: [...card.querySelectorAll('.problems li')].map((li) => li.textContent),
      codes: (window.reports[0]?.problems ?? []).map((p) => p.code),
      report: window.reports[0] ?? null,
      statusLine: el.shadowRoot.querySelector('[part="index-log-status"]').textContent,
    };
  });
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, `index-log-${name}.png`), fullPage: true });
const WITH_POLICY = { 'index-log': '/log/', 'witness-policy': '/t/policy.txt' };

test('logged and witnessed: this exact file, since the witnesses\u2019 time, cosigned by both; first sighting remembered', async () => {
  const { page, errors } = await openPage(WITH_POLICY);
  const r = await drop(page, P('packages', ALPHA));
  assert.equal(r.verdict, 'unsigned', r.text); // intact and unsigned: the index log does not sign it
  assert.equal(r.status, 'logged', r.text);
  const sha = sha256(P('packages', ALPHA));
  assert.match(r.line, new RegExp(`^This exact file \\(sha256 ${sha.slice(0, 16)}\u2026\\) has been in the index log ${ORIGIN} since 20\\d\\d-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, cosigned by witness-(a|b)\\.test and witness-(a|b)\\.test\\.$`));
  assert.equal(r.consistency, 'first-sighting');
  assert.match(r.logMeta, /^http:\/\/127\.0\.0\.1:\d+\/log\/ \(2 entries; witness quorum met\)$/);
  assert.deepEqual(r.problems, []);
  assert.match(r.statusLine, /^Index log \/log\/: every wheel is looked up in it by its sha256\.$/);
  // The report carries the CLI's `index_log` object.
  const il = r.report.index_log;
  assert.equal(il.origin, ORIGIN);
  assert.equal(il.status, 'logged');
  assert.equal(il.tree_size, 2);
  assert.equal(il.quorum, true);
  assert.ok(Math.abs(il.witnessed - Date.now() / 1000) < 600, il.witnessed);
  assert.deepEqual(il.cosignatures.map((c) => c.name).sort(), ['witness-a.test', 'witness-b.test']);
  assert.deepEqual(il.entries.map((e) => e.sha256), [sha]);
  assert.equal(r.report.sha256, sha);
  // The checkpoint is remembered, like a release log's.
  const remembered = await page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open('wheelsig', 2);
    req.onsuccess = () => { const g = req.result.transaction('logs').objectStore('logs').get('example.test/pypi-log'); g.onsuccess = () => resolve(g.result); };
  }));
  assert.equal(remembered.size, 2);
  assert.equal(remembered.note, fs.readFileSync(path.join(logDir, 'checkpoint'), 'utf8'));
  // Every request to the log was for a log file, under its URL.
  const logRequests = requests.filter((u) => u.includes('/log/')).map((u) => new URL(u).pathname.slice('/log/'.length));
  assert.ok(logRequests.includes('checkpoint') && logRequests.includes('lookup/alpha') && logRequests.includes('checkpoints/index'), logRequests.join(' '));
  for (const p of logRequests) assert.match(p, /^(checkpoint|lookup\/[a-z0-9-]+|tile\/(\d+|entries)\/[0-9x/]+(\.p\/\d+)?|checkpoints\/(index|\d+))$/, p);
  assert.ok(!logRequests.includes('vkey'), 'the policy lists the log key: no first-use lookup');
  assert.deepEqual(errors, []);
  await shot(page, '1-logged');
  // Again, in a batch with beta: consistent with the remembered checkpoint.
  const again = await drop(page, P('packages', BETA));
  assert.equal(again.status, 'logged');
  assert.equal(again.consistency, 'consistent');
  await page.close();
});

test('a swapped file (same name, other bytes): a different sha256, not trusted', async () => {
  const { page, errors } = await openPage(WITH_POLICY);
  const r = await drop(page, P('swapped', ALPHA));
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.equal(r.status, 'different');
  assert.match(r.line, new RegExp(`^This file name was logged in ${ORIGIN} with a different sha256 \\(${sha256(P('packages', ALPHA)).slice(0, 16)}\u2026\\), not this file\u2019s ${sha256(P('swapped', ALPHA)).slice(0, 16)}\u2026: you were not served what everyone else was\\.$`));
  assert.deepEqual(r.codes, ['index-log-mismatch']);
  assert.match(r.text, /The index log has this file name with a different sha256/);
  assert.deepEqual(errors, []);
  await shot(page, '2-different');
  await page.close();
});

test('the verifier page takes ?index-log= and ?witness-policy= from its URL', async () => {
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/?index-log=${encodeURIComponent('/log/')}&witness-policy=${encodeURIComponent('/t/policy.txt')}&min-age=1s`);
  await page.waitForFunction(() => customElements.get('wheel-verify'));
  assert.equal(await page.evaluate(() => document.querySelector('wheel-verify').getAttribute('index-log')), '/log/');
  const r = await drop(page, P('swapped', ALPHA));
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.equal(r.status, 'different');
  assert.deepEqual(r.codes, ['index-log-mismatch']);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file not in the log: "not in the index log", its verdict unchanged without min-age', async () => {
  const { page } = await openPage(WITH_POLICY);
  const r = await drop(page, P('elsewhere', GAMMA));
  assert.equal(r.verdict, 'unsigned', r.text);
  assert.equal(r.status, 'absent');
  assert.equal(r.line, `Not in the index log ${ORIGIN} (2 entries): nothing vouches that anyone else got this same file.`);
  assert.deepEqual(r.codes, []);
  await page.close();
});

test('min-age: a file witnessed seconds ago is too new, an absent one has no age; both not trusted', async () => {
  const { page } = await openPage({ ...WITH_POLICY, 'min-age': '7d' });
  const r = await drop(page, P('packages', ALPHA));
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.equal(r.status, 'logged');
  assert.deepEqual(r.codes, ['index-log-too-new']);
  assert.ok(r.warnings.some((w) => w.startsWith('Too new: it must have been witnessed in the log at least 7d ago')), r.warnings.join('\n'));
  assert.match(r.statusLine, /a file first witnessed there less than 7d ago is not trusted/);
  assert.match(r.text, /The index log has not had this file for the required 7d \(below\): it is too new to trust yet\./);
  await shot(page, '3-too-new');
  const absent = await drop(page, P('elsewhere', GAMMA));
  assert.equal(absent.verdict, 'untrusted');
  assert.deepEqual(absent.codes, ['index-log-absent']);
  // The CLI's grammar: a duration that does not parse is refused, not ignored.
  await page.evaluate(() => document.querySelector('wheel-verify').setAttribute('min-age', '7 days'));
  const bad = await drop(page, P('packages', ALPHA));
  assert.equal(bad.state, 'error');
  assert.match(bad.text, /min-age "7 days": the unit is d, h, m or s/);
  // 1s: old enough once a second has passed since the witnesses' time.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await page.evaluate(() => document.querySelector('wheel-verify').setAttribute('min-age', '1s'));
  const ok = await drop(page, P('packages', ALPHA));
  assert.equal(ok.verdict, 'unsigned', ok.text);
  assert.deepEqual(ok.codes, []);
  await page.close();
});

test('a lying lookup file can hide an entry but not forge one', async () => {
  const { page } = await openPage({ ...WITH_POLICY, 'index-log': '/lie/' });
  // beta's lookup names alpha's entry: the entry is read and proven, and it is not beta's.
  const forged = await drop(page, P('packages', BETA));
  assert.notEqual(forged.status, 'logged', forged.text);
  assert.equal(forged.status, 'error');
  assert.equal(forged.verdict, 'untrusted');
  assert.ok(forged.codes.includes('log-malformed'), forged.codes.join(' '));
  assert.ok(forged.problems.some((p) => /entry \d+ is not for beta-1\.0-py3-none-any\.whl/.test(p)), forged.problems.join('\n'));
  assert.match(forged.line, /could not be checked for this file/);
  assert.match(forged.text, /The index log’s files do not check out for this file \(below\): it cannot vouch for it\./);
  await shot(page, '4-forged-lookup');
  // alpha's entry is left out of its lookup: hidden, so "not in the log" (a monitor compares lookups with the bundles).
  const hidden = await drop(page, P('packages', ALPHA));
  assert.equal(hidden.status, 'absent');
  await page.close();
});

test('a forked log of the same size, signed by the log key: split view against the remembered checkpoint', async () => {
  const { page, errors } = await openPage({ ...WITH_POLICY, 'index-log': '/fork/' });
  // In the fork, the swapped alpha is "the" file: consistent by itself, but not with what this browser saw.
  const r = await drop(page, P('swapped', ALPHA));
  assert.equal(r.verdict, 'untrusted', r.text);
  assert.equal(r.status, 'logged');
  assert.equal(r.consistency, 'split-view');
  assert.ok(r.split?.startsWith(`SPLIT VIEW: the index log ${ORIGIN} showed this browser a different history before`), r.split);
  assert.ok(r.codes.includes('split-view'), r.codes.join(' '));
  assert.equal(r.report.index_log.quorum, false); // the witnesses refused this tree
  assert.match(r.logMeta, /\/fork\/ \(2 entries; witness quorum not met\)$/);
  assert.match(r.text, /The index log showed this browser a different history before/);
  await shot(page, '5-split-view');
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('wheel-verify').locator('[part="index-log-split-view"] [part="export-evidence"]').click()]);
  const evidence = fs.readFileSync(await download.path(), 'utf8');
  assert.ok(evidence.includes(fs.readFileSync(path.join(forkDir, 'checkpoint'), 'utf8')), 'the fork\u2019s checkpoint');
  assert.ok(evidence.includes(fs.readFileSync(path.join(logDir, 'checkpoint'), 'utf8')), 'the remembered checkpoint');
  // The memory keeps the genuine checkpoint.
  const again = await drop(page, P('packages', BETA));
  assert.equal(again.consistency, 'split-view');
  assert.deepEqual(errors, []);
  await page.close();
});

test('no witness policy: the log key by first use (log/vkey), remembered in IndexedDB; the wasm refuses paths outside the log', async () => {
  const fresh = await browser.newContext();
  const { page } = await openPage({ 'index-log': `${server.url}/log` }, fresh);
  const r = await drop(page, P('packages', ALPHA));
  assert.equal(r.status, 'logged', r.text);
  assert.match(r.line, /with no witness policy, no witness dates it\.$/);
  assert.match(r.logMeta, / \(2 entries; no witness policy\)$/);
  assert.equal(r.verdict, 'unsigned');
  const key = await page.evaluate(() => new Promise((resolve) => {
    const req = indexedDB.open('wheelsig', 2);
    req.onsuccess = () => { const g = req.result.transaction('log_keys').objectStore('log_keys').get('example.test/pypi-log'); g.onsuccess = () => resolve(g.result); };
  }));
  assert.equal(key?.vkey, vkey);
  const refused = await page.evaluate(async (checkpoint) => {
    const wasm = await import('/pkg/wheelsig.js');
    await wasm.default();
    const report = { file: 'alpha-1.0-py3-none-any.whl', verdict: 'unsigned', project: 'alpha', version: '1.0', files_checked: 1, sha256: '00'.repeat(32), signatures: [], problems: [], members: [] };
    const codes = [];
    for (const p of ['../checkpoint', 'https://evil.example/x', 'lookup/a/b', 'tile/0/000?x']) {
      try {
        wasm.index_log_check({ report, checkpoint, now: 0, files: { [p]: null } });
        codes.push('accepted');
      } catch (e) {
        codes.push(e.code);
      }
    }
    try {
      wasm.index_log_check({ report, checkpoint, now: 0, files: { 'tile/0/000': new Uint8Array(8193) } });
      codes.push('accepted');
    } catch (e) {
      codes.push(e.code);
    }
    return codes;
  }, fs.readFileSync(path.join(logDir, 'checkpoint'), 'utf8'));
  assert.deepEqual(refused, ['input', 'input', 'input', 'input', 'input']);
  await fresh.close();
});
