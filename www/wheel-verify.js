// <wheel-verify>: drop Python wheels, get a verdict. The wasm verifier runs in a Web Worker
// (worker.js) and reads each file in slices; the wheel never leaves the machine. The only
// network requests are the key URL, the dependency key list, key URLs the user chose on first
// use, the signature URLs the wasm names for each wheel (only sites of trust sources that
// cover its project), and (when asked) PyPI's JSON API. Attributes: key-url, keys-url (a
// dependency key list: a JWK Set whose keys carry `projects` and optionally `key_url`),
// project, pypi-check, allow-loopback-in-lists (testing only), witness-policy (a C2SP
// tlog-policy URL: release log proofs are checked against it, and this browser remembers each
// log's largest checkpoint in IndexedDB to catch a split view), require-logged, index-log (an
// index log's URL, `wheelsig index-log`: every wheel, signed or not, is looked up in it: this
// exact file, or its name with another sha256, or absent; checked by inclusion proofs in the
// wasm, its checkpoint remembered like a release log's), min-age (with index-log: a file first
// witnessed less than this long ago, e.g. 7d, is not trusted). Events: `wheel-verified`
// (detail: the report). Sets a `verdict` attribute (the worst of the last batch) when done.
// Every check (key URLs included), and every name or key set parsed, goes through the wasm:
// this file only fetches, displays and remembers. Every string it shows passes through
// escapeControls (in h() and text()), so nothing a signer or an archive controls reaches the
// page raw.
import { VerifierClient } from './worker-client.js';
import { loadFirstUse, firstUseInput, remember, forget, exportJson, loadKeyUrlChoices, chooseKeyUrl, forgetKeyUrlChoice } from './first-use.js';
import { escapeControls } from './escape.js';
import { seenCheckpoint, rememberCheckpoint, rememberedLogKey, rememberLogKey, listLogs, forgetLog } from './log-memory.js';

const VERDICTS = {
  trusted: ['Trusted', 'Intact, and signed by a key that a trust source lists for this project.'],
  signed: ['Signed', 'Intact and validly signed, but nothing you trust says which key this project uses.'],
  unsigned: ['Unsigned', 'The archive is intact and every file matches RECORD, but there is no signature.'],
  untrusted: ['Untrusted', 'A trust source covers this project and does not accept this signature.'],
  'key-changed': ['Key changed', 'This project was signed by a different key when you first saw it.'],
  invalid: ['Invalid', 'Do not install: the archive is broken, ambiguous or tampered with, or a signature is bad.'],
};
const SEVERITY = { trusted: 0, signed: 1, unsigned: 2, 'key-changed': 3, untrusted: 4, invalid: 5 };
const TRUST_KIND = { 'key-url': 'key URL', 'key-file': 'key file', pin: 'pin', 'first-use': 'first use', 'chosen-key-url': 'key URL chosen on first use' };
const FORMAT = { general: 'RFC 7515', flattened: 'RFC 7515 flattened', legacy: 'wheel 0.31 legacy' };
const MAX_KEY_SET = 1 << 20; // SPEC.md: a JWK Set is at most 1 MiB
const MAX_SIGNATURE = 1 << 20;
const MAX_POLICY = 64 << 10; // SPEC.md: a tlog-policy is at most 64 KiB
const MAX_PROOF = 64 << 10; // and a tlog-proof
const MAX_BUNDLE = 1 << 20; // one entry bundle, as the CLI fetches it
const MAX_BUNDLES = 400; // entry bundles fetched to compare two sizes of one log (100,000 releases)
const MAX_BUNDLE_TOTAL = 64 << 20;
const MAX_NOTE = 64 << 10; // a checkpoint note (crate/src/log/note.rs MAX_NOTE_BYTES)
// The index log check reads a few files per round (lookup, bundle, tiles, archived
// checkpoints; each bounded by the size the wasm names): at most this many rounds, files and
// bytes for one wheel. Past a bound, the files still asked for are given as missing, so the
// check ends with precise problems (a missing file can only hide an entry, never forge one).
const MAX_INDEX_LOG_ROUNDS = 8;
const MAX_INDEX_LOG_FILES = 128;
const MAX_INDEX_LOG_BYTES = 32 << 20;
const CONSISTENCY = {
  'first-sighting': 'First sighting: this browser had not seen this log before; its checkpoint is remembered.',
  consistent: 'Consistent with what this browser saw of this log before.',
  'older-consistent': 'An older, consistent copy of the log (a stale cache).',
  'split-view': 'SPLIT VIEW: contradicts what this log showed this browser before.',
  'not-checked': 'Not checked against what this browser saw before (the log\u2019s files could not be read).',
};
const MAX_PYPI_JSON = 8 << 20; // one release's JSON; the largest real ones are a few hundred KB
const MAX_FOLDER_FILES = 10_000; // files read from one dropped folder tree
const MAX_FOLDER_DEPTH = 16;
const MAX_BATCH = 5_000; // wheels checked from one drop or folder
// The two JWK Sets the element can fetch: a publisher's key URL and a dependency key list.
const SOURCES = {
  'key-url': { label: 'Publisher key URL (a JWK Set)', placeholder: 'https://publisher.github.io/keys/keys.json', button: 'Use key URL', noun: 'key URL' },
  'keys-url': { label: 'Dependency key list URL (optional)', placeholder: 'https://example.org/deps-keys.json', button: 'Use key list', noun: 'key list' },
};

/** Every file under the dropped entries (folders walked), bounded in count and depth. */
async function filesFromEntries(entries) {
  const out = [];
  const walk = async (entry, depth) => {
    if (out.length >= MAX_FOLDER_FILES) return;
    if (entry.isFile) {
      out.push(await new Promise((resolve, reject) => entry.file(resolve, reject)));
    } else if (entry.isDirectory && depth < MAX_FOLDER_DEPTH) {
      const reader = entry.createReader();
      for (;;) {
        const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
        if (!batch.length) break;
        for (const e of batch) await walk(e, depth + 1);
      }
    }
  };
  for (const e of entries) await walk(e, 0);
  return out;
}

/**
 * Build an element. Strings become text nodes (never HTML), and every string child and
 * attribute value (aria-label, title, …) is escaped with escapeControls: report data must not
 * reach the page raw.
 */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : escapeControls(String(v)));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : escapeControls(String(c)));
  return el;
}

/** Set an element's text, escaped like h()'s children. */
function setText(el, value) {
  el.textContent = escapeControls(String(value));
}

/** An error from the worker (a plain {code, message}) as an Error, code kept. */
function asError(err) {
  if (err instanceof Error) return err;
  const e = new Error(err?.message || String(err));
  if (err?.code) e.code = err.code;
  return e;
}

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const u = ['KB', 'MB', 'GB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

const day = (unix) => new Date(unix * 1000).toISOString().slice(0, 10);

/**
 * A response body as UTF-8 text, at most `limit` bytes. The body is read as a stream and the
 * bytes counted as they arrive: the request is cancelled as soon as the count passes the limit
 * (a declared Content-Length over it is refused before reading), so a huge or endless body
 * (chunked, no length) is never read whole.
 */
async function boundedText(resp, limit, what) {
  const bytes = await boundedBytes(resp, limit, what);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`${what} is not valid UTF-8`);
  }
}

/** A response body as bytes, at most `limit` (streamed and counted, like boundedText). */
async function boundedBytes(resp, limit, what) {
  const tooBig = () => new Error(`${what} is larger than ${fmtBytes(limit)}`);
  const declared = Number(resp.headers.get('content-length'));
  if (declared > limit) {
    resp.body?.cancel().catch(() => {});
    throw tooBig();
  }
  if (!resp.body) return new Uint8Array(0); // no body at all (e.g. 204): empty
  const reader = resp.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      reader.cancel().catch(() => {});
      throw tooBig();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

/** "A", "A and B", "A, B and C". */
const andList = (names) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);
const isoTime = (unix) => new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

const FETCH = { cache: 'no-store', credentials: 'omit', redirect: 'follow', referrerPolicy: 'no-referrer' };

const STYLE = `
:host { --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --panel: #f6f8fa; --focus: #0969da; --badge-fg: #ffffff;
  --trusted: #1a7f37; --signed: #0969da; --unsigned: #59636e; --untrusted: #bc4c00; --key-changed: #bc4c00; --invalid: #cf222e;
  display: block; color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
@media (prefers-color-scheme: dark) { :host { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --panel: #151b23; --focus: #4493f8; --badge-fg: #0d1117;
  --trusted: #3fb950; --signed: #4493f8; --unsigned: #9198a1; --untrusted: #f0883e; --key-changed: #f0883e; --invalid: #f85149; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.controls { display: grid; gap: .4rem; margin-bottom: 1rem; }
label.field { font-weight: 600; font-size: .9rem; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
input[type=url] { flex: 1 1 20rem; padding: .45rem .6rem; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
button { font: inherit; font-size: .9rem; padding: .35rem .8rem; border-radius: 6px; border: 1px solid var(--border); background: var(--panel); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--muted); }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
.status { font-size: .85rem; color: var(--muted); min-height: 1.2em; margin: 0; }
.status.error, .warn { color: var(--invalid); }
.keys { font-size: .85rem; }
.keys ul { margin: .25rem 0; padding-left: 1.2rem; }
.drop { display: grid; place-items: center; gap: .25rem; text-align: center; padding: 2rem 1rem; border: 2px dashed var(--border); border-radius: 10px;
  background: var(--panel); cursor: pointer; transition: border-color .15s, background .15s; }
.drop:hover, .drop.over { border-color: var(--focus); }
.drop.over { background: color-mix(in srgb, var(--focus) 8%, var(--panel)); }
.drop strong { font-size: 1.1rem; }
.drop small { color: var(--muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.note { font-size: .85rem; color: var(--muted); margin: .5rem 0 1rem; }
.cards { display: grid; gap: .75rem; }
.card { border: 1px solid var(--border); border-left: 6px solid var(--c, var(--border)); border-radius: 8px; padding: .75rem 1rem; background: var(--bg); }
.verdict-trusted { --c: var(--trusted); } .verdict-signed { --c: var(--signed); } .verdict-unsigned { --c: var(--unsigned); }
.verdict-untrusted { --c: var(--untrusted); } .verdict-key-changed { --c: var(--key-changed); } .verdict-invalid { --c: var(--invalid); }
.card header { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.badge { font-weight: 700; color: var(--badge-fg); background: var(--c, var(--muted)); padding: .1rem .55rem; border-radius: 999px; font-size: .85rem; letter-spacing: .02em; }
.file { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; word-break: break-all; flex: 1; }
.explain { margin: .35rem 0; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: .4rem 0; font-size: .88rem; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; }
.problems { margin: .4rem 0; padding-left: 1.2rem; font-size: .88rem; }
.problems li { margin: .15rem 0; overflow-wrap: anywhere; }
.problems .code { color: var(--c); font-weight: 600; }
.alert { border: 2px solid var(--key-changed); border-radius: 8px; padding: .5rem .75rem; margin: .5rem 0; }
.alert strong { display: block; color: var(--key-changed); font-size: 1.05rem; }
.alert dl { margin: .3rem 0; }
.alert.split { border-color: var(--invalid); }
.alert.split strong { color: var(--invalid); }
.log { font-size: .88rem; margin: .4rem 0; }
.log p { margin: 0 0 .2rem; }
.index-log { border-top: 1px solid var(--border); padding-top: .4rem; }
.index-log > p:first-child { font-weight: 600; }
.index-log.st-logged > p:first-child { color: var(--trusted); }
.index-log.st-different > p:first-child, .index-log.st-error > p:first-child, .index-log .warn { color: var(--invalid); }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .4rem; }
.progress { display: grid; gap: .2rem; font-size: .8rem; color: var(--muted); margin-top: .4rem; }
progress { width: 100%; height: .6rem; accent-color: var(--focus); }
details { margin-top: .4rem; font-size: .85rem; }
summary { cursor: pointer; }
table { border-collapse: collapse; width: 100%; margin-top: .3rem; }
th, td { text-align: left; padding: .15rem .5rem; border-bottom: 1px solid var(--border); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.st-ok { color: var(--trusted); } .st-mismatch, .st-unlisted, .st-missing { color: var(--invalid); font-weight: 600; }
.pypi { font-size: .88rem; margin: .4rem 0 0; }
.pypi.bad { color: var(--invalid); font-weight: 700; border: 2px solid var(--invalid); border-radius: 8px; padding: .4rem .6rem; }
.pypi.good { color: var(--trusted); }
.batch { display: grid; gap: .75rem; }
.summary { border: 1px solid var(--border); border-left: 6px solid var(--c, var(--border)); border-radius: 8px; padding: .75rem 1rem; margin-bottom: .75rem; }
.summary .overall { font-weight: 700; margin: 0 0 .3rem; }
.summary table { font-size: .88rem; }
.summary td.v { font-weight: 700; color: var(--c); }
.folder { margin-top: .5rem; }
.trust-panel { margin-top: 1.25rem; font-size: .88rem; }
.trust-panel ul { padding-left: 1.2rem; }
.trust-panel li { margin: .2rem 0; overflow-wrap: anywhere; }
.trust-panel h3 { font-size: .9rem; margin: .6rem 0 .2rem; }
.choice { border: 1px solid var(--border); border-radius: 8px; padding: .5rem .75rem; margin: .5rem 0 0; font-size: .88rem; }
.choice p { margin: 0 0 .4rem; }
`;

/** The summary of a batch: overall progress, a row per project, a one-line result, JSON export. */
class BatchSummary {
  #total;
  #ignored;
  #reports = [];
  #failed = 0;

  constructor(total, ignored) {
    this.#total = total;
    this.#ignored = ignored;
    this.overall = h('p', { class: 'overall', role: 'status' });
    this.progress = h('progress', { max: String(total), value: '0', 'aria-label': 'Wheels checked' });
    this.body = h('tbody');
    this.exportButton = h('button', { type: 'button', part: 'export', disabled: true, onclick: () => this.#export() }, 'Export report (JSON)');
    this.el = h('section', { class: 'summary', part: 'summary', 'aria-label': 'Summary of the wheels checked' },
      this.overall, this.progress,
      h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Project'), h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col' }, 'Verdict'), h('th', { scope: 'col' }, 'Key'))), this.body),
      h('div', { class: 'actions' }, this.exportButton));
    this.#update();
  }

  #pending = null;

  /** One wheel finished: its report, or null when it could not be checked. */
  add(file, report) {
    if (report) this.#reports.push(report);
    else this.#failed += 1;
    const done = this.#reports.length + this.#failed;
    this.progress.value = done;
    this.overall.textContent = `Checking ${this.#total} wheels: ${done} done\u2026`;
    // Rebuilding the table is O(projects): at most a few times a second, and once at the end.
    if (done === this.#total) {
      clearTimeout(this.#pending);
      this.#update();
    } else {
      this.#pending ??= setTimeout(() => { this.#pending = null; this.#update(); }, 250);
    }
  }

  #update() {
    const done = this.#reports.length + this.#failed;
    if (done === 0) this.overall.textContent = `Checking ${this.#total} wheels\u2026`;
    // Worst verdict per project; versions and keys as found.
    const rows = new Map();
    for (const r of this.#reports) {
      const name = r.project || r.file;
      const row = rows.get(name) || { verdict: r.verdict, versions: new Set(), kids: new Set() };
      if (SEVERITY[r.verdict] > SEVERITY[row.verdict]) row.verdict = r.verdict;
      if (r.version) row.versions.add(r.version);
      for (const s of r.signatures) if (s.valid && s.kid) row.kids.add(s.kid);
      rows.set(name, row);
    }
    this.body.replaceChildren(...[...rows.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, row]) =>
      h('tr', { class: `verdict-${row.verdict}`, 'data-project': name, 'data-verdict': row.verdict },
        h('td', {}, name), h('td', {}, [...row.versions].join(', ')),
        h('td', { class: 'v' }, VERDICTS[row.verdict][0]),
        h('td', {}, row.kids.size ? h('code', {}, [...row.kids].map((k) => `${k.slice(0, 12)}\u2026`).join(', ')) : '\u2013'))));
  }

  /** The one-line result (also returned for the live region). */
  finish() {
    const counts = {};
    for (const r of this.#reports) counts[r.verdict] = (counts[r.verdict] || 0) + 1;
    const trusted = counts.trusted || 0;
    const parts = Object.keys(VERDICTS).filter((v) => counts[v]).map((v) => `${counts[v]} ${VERDICTS[v][0].toLowerCase()}`);
    if (this.#failed) parts.push(`${this.#failed} not checked`);
    const pass = trusted === this.#total;
    const worst = this.#reports.reduce((a, r) => (SEVERITY[r.verdict] > SEVERITY[a] ? r.verdict : a), 'trusted');
    this.el.className = `summary verdict-${this.#failed ? 'invalid' : worst}`;
    this.el.dataset.result = pass ? 'pass' : 'fail';
    const ignored = this.#ignored ? ` ${this.#ignored} other file${this.#ignored === 1 ? '' : 's'} in the folder ignored.` : '';
    this.overall.textContent = pass
      ? `Pass: all ${this.#total} wheels are trusted.${ignored}`
      : `Fail: ${this.#total - trusted} of ${this.#total} wheels are not trusted (${parts.join(', ')}).${ignored}`;
    this.exportButton.disabled = false;
    this.progress.hidden = true;
    return this.overall.textContent;
  }

  #export() {
    const body = JSON.stringify({ result: this.el.dataset.result, wheels: this.#reports }, null, 2);
    const a = h('a', { href: URL.createObjectURL(new Blob([body], { type: 'application/json' })), download: 'wheelsig-report.json' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }
}

export class WheelVerify extends HTMLElement {
  static observedAttributes = ['key-url', 'keys-url', 'project', 'pypi-check', 'witness-policy', 'index-log', 'min-age'];
  /** This widget's version: crate/Cargo.toml's (a test keeps them and the npm package equal). */
  static version = '0.1.0';
  #client = new VerifierClient();
  // Verifications run on up to this many workers (one wasm instance each); small calls and a
  // single wheel use the first.
  #workers = [this.#client];
  #nextWorker = 0;
  #sets = new Map(); // attribute -> { text: attribute value, promise } for the current URL
  #chosenSets = new Map(); // key URL chosen on first use -> promise of its key set (one batch)
  #ui = {}; // attribute -> { input, status, list }
  #batchId = 0;
  #policy = null; // { text: attribute value, promise } for the current witness policy URL
  #droppedProofs = new WeakMap(); // wheel File -> its dropped .tlog-proof File
  #servedLogKeys = new Map();
  #logPanelRender = 0;
  #indexLog = null; // { value, files: Map(path -> promise of bytes | null), ready } for this batch

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    // A constructed stylesheet, not a <style> element: host pages with a strict CSP
    // (no style-src 'unsafe-inline') still style the widget.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
    const controls = h('div', { class: 'controls', part: 'controls' });
    for (const [attr, s] of Object.entries(SOURCES)) {
      const ui = {
        input: h('input', { type: 'url', id: attr, placeholder: s.placeholder, spellcheck: 'false', autocomplete: 'url', part: attr, 'aria-describedby': `${attr}-status` }),
        status: h('p', { class: 'status', id: `${attr}-status`, role: 'status' }),
        list: h('details', { class: 'keys', part: `keys ${attr}-keys`, hidden: true }),
      };
      ui.input.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.#applyUrl(attr); });
      controls.append(h('label', { class: 'field', for: attr }, s.label),
        h('div', { class: 'row' }, ui.input, h('button', { type: 'button', onclick: () => this.#applyUrl(attr) }, s.button)),
        ui.status, ui.list);
      this.#ui[attr] = ui;
    }
    this.policyStatus = h('p', { class: 'status', id: 'witness-policy-status', role: 'status', part: 'witness-policy-status', hidden: true });
    this.indexLogStatus = h('p', { class: 'status', id: 'index-log-status', role: 'status', part: 'index-log-status', hidden: true });
    controls.append(this.policyStatus, this.indexLogStatus);
    this.folderInput = h('input', { type: 'file', webkitdirectory: true, class: 'sr-only', tabindex: '-1', 'aria-hidden': 'true', onchange: () => this.#takeFiles([...this.folderInput.files], { fromFolder: true }) });
    this.fileInput = h('input', { type: 'file', multiple: true, accept: '.whl,.jws,.tlog-proof', class: 'sr-only', id: 'files', tabindex: '-1', 'aria-hidden': 'true', onchange: () => this.#takeFiles([...this.fileInput.files]) });
    this.drop = h('div', { class: 'drop', part: 'drop-zone', tabindex: '0', role: 'button', 'aria-label': 'Choose wheel files to verify (or drop .whl and .jws files here)', 'aria-describedby': 'privacy', onclick: () => this.fileInput.click() },
      h('strong', {}, 'Drop .whl files here'),
      h('span', {}, 'or click / press Enter to choose files'),
      h('small', {}, 'Optional: drop detached .jws signatures with them, or a whole folder'));
    this.cards = h('div', { class: 'cards', part: 'results' });
    this.live = h('div', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
    this.trustPanel = h('details', { class: 'trust-panel', part: 'trust-panel' });
    this.logPanel = h('details', { class: 'trust-panel', part: 'log-memory', hidden: true });
    root.append(controls, this.fileInput, this.folderInput, this.drop,
      h('div', { class: 'row folder' }, h('button', { type: 'button', part: 'folder-button', onclick: () => this.folderInput.click() }, 'Choose a folder of wheels')),
      h('p', { class: 'note', id: 'privacy', part: 'note' },
        'Verification runs on your machine in WebAssembly; nothing about the wheel is uploaded. ',
        'The only network requests are the key URL and key list, key URLs you chose, signature files (and, with a witness policy, release log proofs and log files) on the sites of those that cover each wheel\u2019s project, the index log\u2019s files if this page names one, and, if you ask, PyPI\u2019s public metadata.'),
      this.live, this.cards, this.trustPanel, this.logPanel);
    this.drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.fileInput.click(); } });
    for (const ev of ['dragenter', 'dragover']) this.drop.addEventListener(ev, (e) => { e.preventDefault(); this.drop.classList.add('over'); });
    for (const ev of ['dragleave', 'dragend']) this.drop.addEventListener(ev, () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this.drop.classList.remove('over');
      // Folder entries must be taken while the event is being dispatched.
      const entries = [...(e.dataTransfer?.items || [])].map((i) => i.webkitGetAsEntry?.()).filter(Boolean);
      if (entries.some((en) => en.isDirectory)) filesFromEntries(entries).then((files) => this.#takeFiles(files, { fromFolder: true }));
      else this.#takeFiles([...(e.dataTransfer?.files || [])]);
    });
  }

  connectedCallback() {
    for (const attr of Object.keys(SOURCES)) {
      this.#ui[attr].input.value = this.getAttribute(attr) || '';
      if (this.hasAttribute(attr)) this.#keySetOrError(attr);
    }
    if (this.hasAttribute('witness-policy')) this.#policyOrError();
    this.#renderIndexLogStatus();
    this.#renderTrustPanel();
    this.#renderLogPanel();
  }

  attributeChangedCallback(name, old, value) {
    if ((name === 'index-log' || name === 'min-age') && old !== value) {
      if (name === 'index-log') this.#indexLog = null;
      this.#renderIndexLogStatus();
      return;
    }
    if (name === 'witness-policy' && old !== value) {
      this.#policy = null;
      this.policyStatus.hidden = !value;
      if (value && this.isConnected) this.#policyOrError();
      return;
    }
    if (!(name in SOURCES) || old === value) return;
    const ui = this.#ui[name];
    ui.input.value = value || '';
    this.#sets.delete(name);
    ui.status.className = 'status';
    ui.status.textContent = '';
    ui.list.hidden = true;
    // Fetch right away so the user sees which keys the URL lists before dropping anything.
    if (value && this.isConnected) this.#keySetOrError(name);
  }

  #applyUrl(attr) {
    const v = this.#ui[attr].input.value.trim();
    if (v) this.setAttribute(attr, v);
    else this.removeAttribute(attr);
  }

  /** The JWK Set named by `attr`, fetched and parsed once: { url, text, keys }, or null. */
  #loadKeySet(attr) {
    const text = this.getAttribute(attr);
    if (!text) return Promise.resolve(null);
    if (this.#sets.get(attr)?.text !== text) this.#sets.set(attr, { text, promise: this.#fetchKeySet(attr, text) });
    return this.#sets.get(attr).promise;
  }

  /** Like #loadKeySet, but a URL that cannot be used becomes { error } (shown in its status). */
  #keySetOrError(attr) {
    return this.#loadKeySet(attr).catch((err) => ({ error: err.message }));
  }

  /** Both trust sources: { keyUrl, keyList }, each a key set, null, or { error }. */
  async #trust() {
    const [keyUrl, keyList] = await Promise.all([this.#keySetOrError('key-url'), this.#keySetOrError('keys-url')]);
    return { keyUrl, keyList };
  }

  /** A key URL checked by the wasm (the CLI's rule): the normalized href, or an Error. */
  async #checkKeyUrl(url, base) {
    try {
      return await this.#client.call('check_key_url', url, base);
    } catch (err) {
      throw asError(err);
    }
  }

  /** Fetch and parse the JWK Set at `url` (checked first, and again after a redirect). */
  async #fetchJwks(url, base) {
    const href = await this.#checkKeyUrl(url, base);
    const resp = await fetch(href, FETCH);
    if (resp.redirected) await this.#checkKeyUrl(resp.url);
    if (!resp.ok) throw new Error(`${href}: HTTP ${resp.status}`);
    const body = await boundedText(resp, MAX_KEY_SET, href);
    let parsed;
    try {
      parsed = await this.#client.call('parse_key_set', body, href);
    } catch (err) {
      throw asError(err);
    }
    return { url: href, text: body, keys: parsed.keys };
  }

  async #fetchKeySet(attr, value) {
    const current = () => this.getAttribute(attr) === value;
    const ui = this.#ui[attr];
    const noun = SOURCES[attr].noun;
    ui.status.className = 'status';
    setText(ui.status, `Fetching ${value} \u2026`);
    try {
      const set = await this.#fetchJwks(value, location.href);
      if (current()) this.#renderKeys(attr, set.url, set.keys);
      return set;
    } catch (err) {
      if (current()) {
        ui.status.className = 'status error';
        setText(ui.status, `Could not use the ${noun}: ${err.message}. Wheels are still checked, but not against it.`);
        ui.list.hidden = true;
      }
      throw err;
    }
  }

  /** The witness policy (C2SP tlog-policy) at the `witness-policy` URL: { url, text }, null, or { error }. */
  #policyOrError() {
    const value = this.getAttribute('witness-policy');
    if (!value) return Promise.resolve(null);
    if (this.#policy?.text !== value) this.#policy = { text: value, promise: this.#fetchPolicy(value).catch((err) => ({ error: err.message })) };
    return this.#policy.promise;
  }

  async #fetchPolicy(value) {
    const current = () => this.getAttribute('witness-policy') === value;
    const status = this.policyStatus;
    status.hidden = false;
    status.className = 'status';
    setText(status, `Fetching the witness policy ${value} \u2026`);
    try {
      // Checked like a key URL (https, or http on loopback), again after a redirect.
      const href = await this.#checkKeyUrl(value, location.href);
      const resp = await fetch(href, FETCH);
      if (resp.redirected) await this.#checkKeyUrl(resp.url);
      if (!resp.ok) throw new Error(`${href}: HTTP ${resp.status}`);
      const text = await boundedText(resp, MAX_POLICY, href);
      if (current()) {
        const required = this.hasAttribute('require-logged') ? ' Every wheel must be logged and witnessed.' : '';
        setText(status, `Witness policy ${href}: release log proofs are checked against it.${required}`);
      }
      return { url: href, text };
    } catch (err) {
      if (current()) {
        status.className = 'status error';
        setText(status, `Could not use the witness policy: ${err.message}. Release logs are not checked.`);
      }
      throw err;
    }
  }

  /** The key set of a key URL chosen on first use, fetched once per batch: a set or { error }. */
  #chosenKeySet(url) {
    if (!this.#chosenSets.has(url)) this.#chosenSets.set(url, this.#fetchJwks(url).catch((err) => ({ error: err.message })));
    return this.#chosenSets.get(url);
  }

  /** Whether the page or embedder configured a key URL (attribute, ?key-url=, or the field). */
  #keyUrlConfigured() {
    return Boolean(this.getAttribute('key-url')?.trim() || this.#ui['key-url'].input.value.trim());
  }

  #renderKeys(attr, url, keys) {
    const ui = this.#ui[attr];
    ui.status.className = 'status';
    setText(ui.status, `${SOURCES[attr].noun[0].toUpperCase()}${SOURCES[attr].noun.slice(1)} ${url} lists ${keys.length} key${keys.length === 1 ? '' : 's'}.`);
    ui.list.replaceChildren(h('summary', {}, 'Keys listed there'),
      h('ul', {}, keys.map((k) => h('li', {}, h('code', {}, k.fingerprint), ' (kid ', h('code', {}, k.kid), ')',
        k.projects ? ` for ${k.projects.join(', ')}` : ' for all of the publisher\u2019s projects',
        k.exp ? `; retired ${day(k.exp)}` : ''))));
    ui.list.hidden = false;
  }

  async #takeFiles(files, { fromFolder = false } = {}) {
    this.fileInput.value = '';
    this.folderInput.value = '';
    if (!files.length) return;
    const batch = ++this.#batchId;
    this.removeAttribute('verdict');
    this.#chosenSets.clear(); // chosen key URLs are fetched afresh for each batch
    this.#indexLog = null; // and the index log's checkpoint and files (the CLI: once per run)
    const found = files.filter((f) => f.name.endsWith('.whl'));
    const wheels = found.slice(0, MAX_BATCH);
    if (found.length > MAX_BATCH) this.cards.prepend(this.#noteCard(`${found.length} wheels`, `Only the first ${MAX_BATCH} are checked; split the folder to check the rest.`));
    const sigs = new Map(files.filter((f) => f.name.endsWith('.jws')).map((f) => [f.name, f]));
    const proofs = new Map(files.filter((f) => f.name.endsWith('.tlog-proof')).map((f) => [f.name, f]));
    for (const w of wheels) if (proofs.has(`${w.name}.tlog-proof`)) this.#droppedProofs.set(w, proofs.get(`${w.name}.tlog-proof`));
    const others = files.filter((f) => !f.name.endsWith('.whl') && !f.name.endsWith('.jws') && !f.name.endsWith('.tlog-proof'));
    // A folder holds all sorts of files: count them instead of a card each.
    if (!fromFolder) for (const f of others) this.cards.prepend(this.#noteCard(f.name, 'Not a wheel (.whl), signature (.jws) or log proof (.tlog-proof): ignored.'));
    for (const name of sigs.keys()) {
      if (!wheels.some((w) => `${w.name}.jws` === name)) this.cards.prepend(this.#noteCard(name, `A signature for ${name.slice(0, -4)}: drop it together with that wheel.`));
    }
    if (!wheels.length) {
      if (fromFolder) this.cards.prepend(this.#noteCard('Folder', `No .whl files in it (${others.length} other file${others.length === 1 ? '' : 's'}).`));
      return;
    }
    const trust = this.#trust();
    const only = this.getAttribute('project');
    const onlyProject = only ? this.#client.call('normalize_project', only) : null;
    // Several wheels: the summary on top, then their cards in file order.
    const summary = wheels.length > 1 ? new BatchSummary(wheels.length, fromFolder ? others.length : 0) : null;
    const into = summary ? h('div', { class: 'cards', part: 'batch' }) : null;
    if (summary) this.cards.prepend(h('section', { class: 'batch' }, summary.el, into));
    const jobs = [];
    for (const [i, w] of wheels.entries()) {
      // Yield to the event loop every few cards so a folder of hundreds stays responsive.
      if (i && i % 16 === 0) await new Promise((resolve) => setTimeout(resolve));
      jobs.push(this.#verifyOne(w, sigs.get(`${w.name}.jws`), trust, { onlyProject, into }).then((r) => { summary?.add(w.name, r); return r; }));
    }
    const reports = await Promise.all(jobs);
    if (batch !== this.#batchId) return; // a newer drop owns the verdict attribute now
    const done = reports.filter(Boolean);
    if (summary) this.live.textContent = summary.finish();
    const worst = done.reduce((a, r) => (a === null || SEVERITY[r.verdict] > SEVERITY[a] ? r.verdict : a), null);
    if (worst) this.setAttribute('verdict', worst);
  }

  /** The next worker, round robin; more are started (up to the cores, at most 4) as needed. */
  #worker() {
    const max = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
    if (this.#workers.length < max && this.#nextWorker >= this.#workers.length) this.#workers.push(new VerifierClient());
    const w = this.#workers[this.#nextWorker % this.#workers.length];
    this.#nextWorker = (this.#nextWorker + 1) % max;
    return w;
  }

  #noteCard(name, text) {
    return h('article', { class: 'card', part: 'card' }, h('header', {}, h('span', { class: 'file' }, name)), h('p', { class: 'explain' }, text));
  }

  /** Verify one wheel into a card (replacing `card` when re-verifying). Resolves with the report, or null. */
  async #verifyOne(file, droppedSig, trustPromise, { computeSha256 = this.hasAttribute('pypi-check'), card = null, onlyProject = null, into = null } = {}) {
    const abort = new AbortController();
    const progress = h('progress', { max: '1', value: '0', 'aria-label': `Reading ${file.name}` });
    const progressText = h('span', {}, `Waiting (${fmtBytes(file.size)})`);
    const fresh = h('article', { class: 'card', part: 'card', 'aria-busy': 'true', 'data-state': 'checking' },
      h('header', {}, h('span', { class: 'badge' }, 'Checking'), h('span', { class: 'file' }, file.name),
        h('button', { type: 'button', part: 'cancel', 'aria-label': `Cancel checking ${file.name}`, onclick: () => abort.abort() }, 'Cancel')),
      h('div', { class: 'progress' }, progress, progressText));
    if (card) card.replaceWith(fresh);
    else if (into) into.append(fresh);
    else this.cards.prepend(fresh);
    card = fresh;
    const fail = (message, state) => {
      const note = this.#noteCard(file.name, message);
      note.dataset.state = state;
      card.replaceWith(note);
      setText(this.live, `${file.name}: ${message}`);
      return null;
    };

    try {
      // One worker for this wheel's calls and its verification.
      const worker = this.#worker();
      // Names come from the wasm (PEP 427 / PEP 503), like everything the report says.
      const name = await worker.call('parse_wheel_filename', file.name).catch(() => null);
      const project = name?.project ?? null;
      const only = await onlyProject;
      if (only && project && project !== only) {
        return fail(`This verifier checks ${only} wheels only; this file is for ${project}. Nothing was checked.`, 'other-project');
      }
      const { keyUrl: keySet, keyList } = await trustPromise;
      const detached = [];
      const warnings = [];
      if (droppedSig) {
        if (droppedSig.size > MAX_SIGNATURE) warnings.push(`${droppedSig.name} is larger than ${fmtBytes(MAX_SIGNATURE)}: ignored.`);
        else detached.push({ name: droppedSig.name, text: await droppedSig.text() });
      }
      if (keySet?.error) warnings.push('The key URL could not be used, so trust was not checked against it.');
      if (keyList?.error) warnings.push('The dependency key list could not be used, so trust was not checked against it.');
      const keySets = [];
      if (keySet?.url) keySets.push({ source: keySet.url, kind: 'key-url', text: keySet.text });
      if (keyList?.url) keySets.push({ source: keyList.url, kind: 'key-file', text: keyList.text });
      // A key URL the user chose on first use for this project: a trust source for it alone.
      const choice = project ? loadKeyUrlChoices()[project] ?? null : null;
      let chosen = null;
      if (choice) {
        chosen = await this.#chosenKeySet(choice.key_url);
        if (chosen.error) {
          warnings.push(`The key URL you chose for ${project} (${choice.key_url}) could not be used, so trust was not checked against it: ${chosen.error}.`);
          chosen = null;
        } else {
          keySets.push({ source: chosen.url, kind: 'chosen-key-url', text: chosen.text, project });
        }
      }
      const input = {
        file_name: file.name,
        now: Math.floor(Date.now() / 1000),
        detached: [],
        key_sets: keySets,
        pins: {},
        first_use: firstUseInput(),
        // The index log is looked up by the file's sha256.
        compute_sha256: computeSha256 || this.hasAttribute('index-log'),
        allow_loopback_in_lists: this.hasAttribute('allow-loopback-in-lists'),
      };
      // Signature lookups: exactly the URLs the wasm names, only on sites of trust sources
      // that cover this project (so a key site never learns the rest of a dependency list).
      const lookup = await worker.call('signature_urls', input).catch((err) => {
        throw asError(err);
      });
      const urls = Array.isArray(lookup) ? lookup : lookup?.urls || [];
      for (const w of lookup?.warnings || []) warnings.push(`Signature lookup skipped: ${w}.`);
      for (const sigUrl of urls) {
        try {
          const resp = await fetch(sigUrl, { ...FETCH, signal: abort.signal });
          if (resp.ok) {
            const sigText = await boundedText(resp, MAX_SIGNATURE, sigUrl);
            if (!detached.some((d) => d.text === sigText)) detached.push({ name: sigUrl, text: sigText });
          } else if (resp.status !== 404) warnings.push(`Signature lookup ${sigUrl}: HTTP ${resp.status}.`);
        } catch (err) {
          if (abort.signal.aborted) throw { code: 'aborted' };
          warnings.push(`Signature lookup ${sigUrl} failed: ${err.message}.`);
        }
      }
      input.detached = detached;
      // The release log: the dropped <wheel>.tlog-proof, else the first found next to a
      // signature URL (the CLI's order); its key site's log/ is where the entries are.
      const policy = await this.#policyOrError();
      let proof = null;
      let siteLog = null;
      if (policy?.error && this.hasAttribute('require-logged')) {
        // Fail closed: the embedder asked for logged releases and the policy is unavailable.
        throw new Error('the witness policy could not be loaded, and every wheel must be logged (require-logged); nothing was trusted');
      }
      if (policy?.error) warnings.push('The witness policy could not be used, so the release log was not checked.');
      else if (policy) {
        const droppedProof = this.#droppedProofs.get(file);
        if (droppedProof) {
          if (droppedProof.size > MAX_PROOF) warnings.push(`${droppedProof.name} is larger than ${fmtBytes(MAX_PROOF)}: ignored.`);
          else proof = { name: droppedProof.name, text: await droppedProof.text() };
        }
        for (const sigUrl of urls) {
          if (proof) break;
          if (!sigUrl.endsWith('.jws')) continue;
          const proofUrl = `${sigUrl.slice(0, -4)}.tlog-proof`;
          try {
            const resp = await fetch(proofUrl, { ...FETCH, signal: abort.signal });
            if (resp.ok) {
              proof = { name: proofUrl, text: await boundedText(resp, MAX_PROOF, proofUrl) };
              siteLog = new URL('../../log/', proofUrl).href;
            } else if (resp.status !== 404) warnings.push(`Log proof lookup ${proofUrl}: HTTP ${resp.status}.`);
          } catch (err) {
            if (abort.signal.aborted) throw { code: 'aborted' };
            warnings.push(`Log proof lookup ${proofUrl} failed: ${err.message}.`);
          }
        }
        input.log = { policy: policy.text, proof, require: this.hasAttribute('require-logged') };
        // For a log the policy does not list, its key by first use: the one remembered here
        // and the one its key site serves (the wasm decides, as the CLI's core does).
        if (proof && siteLog) await this.#logKeyInput(worker, proof, siteLog, input.log, warnings);
      }
      // The signer's key URL hints that could be offered as a first-use choice (checked by the
      // wasm, like any key URL); only when no key URL is configured: see #renderReport.
      // A validly signed wheel nothing covers offers its signature's jku; an unsigned or signed
      // one offers its METADATA's "Signing keys" URL (where its signatures would be).
      const offerable = async (report) => {
        if (!['signed', 'unsigned'].includes(report.verdict) || !report.project || choice || this.#keyUrlConfigured()) return [];
        const hints = [];
        if (report.verdict === 'signed') for (const s of report.signatures) if (s.valid && s.jku) hints.push({ url: s.jku, from: 'signature' });
        if (report.key_url_hint) hints.push({ url: report.key_url_hint, from: 'metadata' });
        const out = [];
        for (const hint of hints) {
          const url = await worker.call('check_key_url', hint.url).catch(() => null);
          if (url && !out.some((o) => o.url === url)) out.push({ url, from: hint.from });
        }
        return out;
      };
      progressText.textContent = `Reading ${fmtBytes(file.size)} \u2026`;
      const report = await worker.verify(file, input, {
        signal: abort.signal,
        onProgress: (done, total) => {
          progress.value = total ? done / total : 0;
          progressText.textContent = `${fmtBytes(done)} of ${fmtBytes(total)}`;
        },
      });
      if (report.new_log_key) {
        const { origin, vkey } = report.new_log_key;
        delete report.new_log_key;
        await rememberLogKey(origin, vkey).catch((err) => warnings.push(`The log key of ${origin} could not be remembered: ${asError(err).message}.`));
      }
      const logKey = input.log?.remembered_log_key ?? input.log?.served_log_key ?? null;
      const logState = report.log && proof ? await this.#checkLog(worker, report, proof, siteLog, warnings, policy.text, logKey) : null;
      // The index log (the CLI's --index-log, after the release log as there): any wheel.
      const indexLog = this.hasAttribute('index-log') ? await this.#checkIndexLog(worker, report, warnings) : null;
      if (logState || input.log?.served_log_key || indexLog) this.#renderLogPanel();
      const offers = await offerable(report);
      const rendered = this.#renderReport(file, report, warnings, droppedSig, { keySet, keyList, choice, chosen, offers, logged: input.log ? { proof, logState } : null, indexLog });
      card.replaceWith(rendered);
      setText(this.live, `${file.name}: ${VERDICTS[report.verdict][0]}. ${report.problems.length ? `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}.` : ''}`);
      this.dispatchEvent(new CustomEvent('wheel-verified', { detail: report, bubbles: true, composed: true }));
      if (computeSha256 && report.project && report.version && report.sha256) this.#pypiCheck(rendered, report);
      return report;
    } catch (err) {
      if (err?.code === 'aborted') return fail('Cancelled: nothing was checked.', 'cancelled');
      return fail(`Could not verify: ${err?.message || err}`, 'error');
    }
  }

  /**
   * This browser's memory of the log (log-memory.js), compared by the wasm (log_compare): the
   * remembered checkpoint and this one, and, when their sizes differ, the log's entry bundles
   * from the key site to rebuild the smaller tree. Sets `report.log.consistency`; a split view
   * becomes a `split-view` problem and the verdict `untrusted`, as in the CLI. Returns
   * { consistency, seen, current } (the two notes, for evidence). The remembered note counts
   * only if a log key of the policy signed it (the wasm checks): a script on this origin
   * cannot plant a false history.
   */
  async #checkLog(worker, report, proof, siteLog, warnings, policyText, logKey) {
    const log = report.log;
    try {
      const current = await worker.call('proof_checkpoint', proof.text);
      const seen = await seenCheckpoint(log.origin);
      const bundles = {};
      const larger = Math.max(seen?.size ?? 0, log.tree_size);
      if (seen && seen.size !== log.tree_size && siteLog) await this.#fetchBundles(siteLog, larger, bundles).catch((err) => warnings.push(`The release log\u2019s entries could not be read: ${err.message}.`));
      const consistency = await worker.call('log_compare', { seen: seen?.note ?? null, current, bundles, policy: policyText, ...(logKey ? { log_key: logKey } : {}) });
      log.consistency = consistency;
      if ((consistency === 'first-sighting' || consistency === 'consistent') && (!seen || log.tree_size > seen.size)) {
        await rememberCheckpoint(log.origin, current, log.tree_size);
      }
      if (consistency === 'split-view') {
        if (report.verdict !== 'invalid') report.verdict = 'untrusted';
        report.problems.push({ code: 'split-view', path: null, message: `SPLIT VIEW: the log ${log.origin} showed this browser a different history before` });
      }
      return { consistency, seen: seen?.note ?? null, current };
    } catch (err) {
      warnings.push(`The release log was not compared with what this browser saw before: ${asError(err).message}.`);
      return null;
    }
  }

  /**
   * Fill `logInput.remembered_log_key` and `served_log_key` for the proof's log: the key this
   * browser remembered for its origin, and `<siteLog>vkey` (fetched once per page, 4 KiB at
   * most). The wasm uses them only when the witness policy does not list the log.
   */
  async #logKeyInput(worker, proof, siteLog, logInput, warnings) {
    try {
      const note = await worker.call('proof_checkpoint', proof.text);
      const origin = note.slice(0, note.indexOf('\n'));
      const remembered = await rememberedLogKey(origin);
      if (remembered) logInput.remembered_log_key = remembered;
      const url = new URL('vkey', siteLog).href;
      this.#servedLogKeys.has(url) || this.#servedLogKeys.set(url, fetch(url, FETCH).then(async (resp) => (resp.ok ? (await boundedText(resp, 4096, url)).trim() : null)).catch(() => null));
      const served = await this.#servedLogKeys.get(url);
      if (served) logInput.served_log_key = served;
    } catch (err) {
      warnings.push(`The release log\u2019s key could not be looked up: ${asError(err).message}.`);
    }
  }

  /** The `index-log` status line: which log every wheel is looked up in, and the min-age. */
  #renderIndexLogStatus() {
    const value = this.getAttribute('index-log');
    this.indexLogStatus.hidden = !value;
    if (!value) return;
    const age = this.getAttribute('min-age');
    setText(this.indexLogStatus, `Index log ${value}: every wheel is looked up in it by its sha256${age ? `; a file first witnessed there less than ${age} ago is not trusted` : ''}.`);
  }

  /** This batch's index log: its checkpoint (fetched once per batch, as the CLI does per run) and the files fetched from it. */
  #indexLogBatch() {
    const value = this.getAttribute('index-log');
    if (this.#indexLog?.value !== value) this.#indexLog = { value, files: new Map(), ready: this.#openIndexLog(value) };
    return this.#indexLog;
  }

  /** Check the index log's URL (https, or http on loopback: the key URL rule) and fetch its checkpoint: { base, checkpoint, origin }. */
  async #openIndexLog(value) {
    const checked = new URL(await this.#checkKeyUrl(value, location.href));
    if (!checked.pathname.endsWith('/')) checked.pathname += '/';
    checked.search = '';
    checked.hash = '';
    const base = checked.href;
    const url = new URL('checkpoint', base).href;
    const resp = await fetch(url, FETCH);
    if (resp.redirected) await this.#checkKeyUrl(resp.url);
    if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status} (is this an index log?)`);
    const checkpoint = await boundedText(resp, MAX_NOTE, url);
    return { base, checkpoint, origin: checkpoint.slice(0, Math.max(0, checkpoint.indexOf('\n'))) };
  }

  /**
   * One file of the index log, fetched once per batch: its bytes, or null when it cannot be
   * had (404, another error, over `maxBytes`, a redirect off the key URL rule), as the CLI
   * reads them. Only paths under the log's URL: the wasm names only log paths, and this
   * checks again that the resolved URL stays under `base`.
   */
  #indexLogFile(batch, base, path, maxBytes) {
    if (!batch.files.has(path)) {
      batch.files.set(path, (async () => {
        const url = new URL(path, base).href;
        if (!url.startsWith(base) || /[?#]/.test(path)) return null;
        try {
          const resp = await fetch(url, FETCH);
          if (resp.redirected) await this.#checkKeyUrl(resp.url);
          if (!resp.ok) return null;
          return await boundedBytes(resp, maxBytes, url);
        } catch {
          return null;
        }
      })());
    }
    return batch.files.get(path);
  }

  /**
   * What the index log says about this wheel (the CLI's `verify --index-log`): the wasm's
   * index_log_check, called in rounds; each round it names the files it read but was not
   * given, which are fetched (bounded) and passed in. Sets `report.index_log`, and the
   * verdict and problems as the core's fail_log leaves them (a mismatch, too new, a split
   * view: not trusted). Remembers the log's checkpoint and first-use key in IndexedDB.
   * Returns { origin, base, consistency, seen, current, limited, skipped }. Throws when the
   * log cannot be read at all (the CLI's exit 2).
   */
  async #checkIndexLog(worker, report, warnings) {
    const batch = this.#indexLogBatch();
    const log = await batch.ready.catch((err) => { throw new Error(`the index log ${batch.value} could not be read: ${asError(err).message}`); });
    const policy = await this.#policyOrError();
    if (policy?.error) throw new Error(`the witness policy could not be loaded, so the index log ${log.base} cannot be checked against it`);
    const [seen, remembered] = await Promise.all([seenCheckpoint(log.origin).catch(() => null), rememberedLogKey(log.origin).catch(() => null)]);
    const files = {};
    const input = {
      // What the check reads and changes (not the members: posted once per round).
      report: { file: report.file, verdict: report.verdict, project: report.project, sha256: report.sha256, problems: report.problems },
      checkpoint: log.checkpoint,
      policy: policy?.text ?? null,
      remembered_log_key: remembered,
      seen: seen?.note ?? null,
      now: Math.floor(Date.now() / 1000),
      min_age: this.getAttribute('min-age') || null,
      files,
    };
    let fetched = 0;
    let bytes = 0;
    let limited = false;
    for (let call = 0; ; call++) {
      let out;
      try {
        out = await worker.call('index_log_check', input);
      } catch (err) {
        throw asError(err);
      }
      if (!out.need) {
        if (!out.index_log && out.skipped) return { origin: log.origin, base: log.base, skipped: out.skipped };
        report.index_log = out.index_log;
        report.verdict = out.verdict;
        report.problems = out.problems;
        if (out.new_log_key) await rememberLogKey(out.new_log_key.origin, out.new_log_key.vkey).catch((err) => warnings.push(`The index log\u2019s key could not be remembered: ${asError(err).message}.`));
        if (out.remember) await rememberCheckpoint(log.origin, out.remember, out.index_log.tree_size).catch((err) => warnings.push(`The index log\u2019s checkpoint could not be remembered: ${asError(err).message}.`));
        if (limited) warnings.push(`The index log asked for more files than this page reads for one wheel (${MAX_INDEX_LOG_ROUNDS} rounds, ${MAX_INDEX_LOG_FILES} files, ${fmtBytes(MAX_INDEX_LOG_BYTES)}); the rest were treated as missing.`);
        return { origin: log.origin, base: log.base, consistency: out.consistency, seen: seen?.note ?? null, current: log.checkpoint, limited, policy: Boolean(policy?.text) };
      }
      if (call > MAX_INDEX_LOG_ROUNDS + 4) throw new Error(`the index log check did not finish in ${call} rounds`);
      const over = call >= MAX_INDEX_LOG_ROUNDS - 1;
      await Promise.all(out.need.map(async ({ path, max_bytes: maxBytes }) => {
        if (over || fetched >= MAX_INDEX_LOG_FILES || bytes > MAX_INDEX_LOG_BYTES) {
          limited = true;
          files[path] = null;
          return;
        }
        fetched += 1;
        const body = await this.#indexLogFile(batch, log.base, path, maxBytes);
        bytes += body?.byteLength ?? 0;
        files[path] = body;
      }));
    }
  }

  /** The index log part of a card, in plain words: this exact file logged since when and by whom, another sha256, or absent. */
  #indexLogSection(file, r, state) {
    const il = r.index_log;
    const out = [];
    const short = (sha) => `${String(sha).slice(0, 16)}\u2026`;
    if (!il) {
      out.push(h('div', { class: 'log', part: 'index-log', 'data-status': 'skipped' },
        h('p', { part: 'index-log-line' }, `Index log ${state.origin}: not looked up (${state.skipped || 'not checked'}).`)));
      return out;
    }
    if (state.consistency === 'split-view') {
      const evidence = () => {
        const text = `# wheelsig: split view of the index log ${il.origin} (${state.base})\n# the checkpoint remembered in this browser\n${state.seen ?? ''}\n# the checkpoint seen now, with ${r.file}\n${state.current ?? ''}`;
        const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: 'wheelsig-index-log-split-view-evidence.txt' });
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      };
      out.push(h('div', { class: 'alert split', role: 'alert', part: 'index-log-split-view' },
        h('strong', {}, `SPLIT VIEW: the index log ${il.origin} showed this browser a different history before`),
        h('p', {}, 'The index log signed two histories that cannot both be true: someone may be showing you files others do not see. Do not install this; keep the evidence and report it to the log\u2019s operator and its witnesses.'),
        h('button', { type: 'button', part: 'export-evidence', onclick: evidence }, 'Export evidence')));
    }
    const codes = new Set(r.problems.map((p) => p.code));
    const names = il.cosignatures.map((c) => c.name);
    const cosigned = names.length ? `, cosigned by ${andList(names)}` : '';
    const ours = il.entries.find((e) => e.sha256 === r.sha256);
    const broken = [...codes].some((c) => c.startsWith('log-'));
    let status = il.status;
    let line;
    if (broken && il.status !== 'logged') {
      status = 'error';
      line = `The index log ${il.origin} could not be checked for this file: its files do not prove what its lookup claims (see the problems), so nothing it says about this file can be used.`;
    } else if (il.status === 'logged' && il.witnessed) {
      line = `This exact file (sha256 ${short(r.sha256)}) has been in the index log ${il.origin} since ${isoTime(il.witnessed)}${cosigned}.`;
    } else if (il.status === 'logged' && !state.policy) {
      line = `This exact file (sha256 ${short(r.sha256)}) is in the index log ${il.origin} (entry #${ours?.index}, first seen ${ours?.first_seen ?? '?'} by the log\u2019s own clock); with no witness policy, no witness dates it.`;
    } else if (il.status === 'logged') {
      line = `This exact file (sha256 ${short(r.sha256)}) is in the index log ${il.origin} (entry #${ours?.index}, first seen ${ours?.first_seen ?? '?'} by the log\u2019s own clock), but no cosigned checkpoint that meets the witness policy dates it yet${cosigned ? ` (the latest checkpoint is${cosigned.slice(1)})` : ''}.`;
    } else if (il.status === 'different') {
      line = `This file name was logged in ${il.origin} with a different sha256 (${il.entries.map((e) => short(e.sha256)).join(', ')}), not this file\u2019s ${short(r.sha256)}: you were not served what everyone else was.`;
    } else {
      line = `Not in the index log ${il.origin} (${il.tree_size} entries): nothing vouches that anyone else got this same file.`;
    }
    const extra = [];
    if (il.status === 'logged' && codes.has('index-log-mismatch')) extra.push(h('p', { class: 'warn', part: 'index-log-warning' }, 'But this file name was first logged with a different sha256: the index changed the file after others got it.'));
    if (codes.has('index-log-too-new')) extra.push(h('p', { class: 'warn', part: 'index-log-warning' }, `Too new: it must have been witnessed in the log at least ${this.getAttribute('min-age')} ago (min-age), and it was not.`));
    if (codes.has('index-log-absent')) extra.push(h('p', { class: 'warn', part: 'index-log-warning' }, `With min-age ${this.getAttribute('min-age')}, a file the index log does not have is not trusted: its age is unknown.`));
    out.push(h('div', { class: `log index-log st-${status}`, part: 'index-log', 'data-status': status, 'data-consistency': state.consistency ?? '' },
      h('p', { part: 'index-log-line' }, line),
      ...extra,
      h('dl', { class: 'meta' },
        h('dt', {}, 'Index log'), h('dd', {}, h('code', {}, state.base), ` (${il.tree_size} entries; ${!state.policy ? 'no witness policy' : il.quorum ? 'witness quorum met' : 'witness quorum not met'})`),
        h('dt', {}, 'Log history'), h('dd', { part: 'index-log-consistency' }, CONSISTENCY[state.consistency] || state.consistency || 'not compared'))));
    return out;
  }

  /** The "Remembered logs" panel (release logs and index logs): what this browser keeps of each log (log-memory.js). */
  async #renderLogPanel() {
    const render = ++this.#logPanelRender;
    let logs;
    try {
      logs = await listLogs();
    } catch {
      return; // no IndexedDB (private mode): nothing is remembered, nothing to show
    }
    if (render !== this.#logPanelRender) return; // a later render is under way
    this.logPanel.hidden = logs.length === 0;
    const exportBtn = h('button', { type: 'button', part: 'export-logs', onclick: () => {
      const a = h('a', { href: URL.createObjectURL(new Blob([JSON.stringify({ logs }, null, 2)], { type: 'application/json' })), download: 'wheelsig-logs.json' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } }, 'Export JSON (with the signed checkpoints)');
    const list = h('ul', { part: 'remembered-logs' }, logs.map((l) => h('li', { 'data-origin': l.origin },
      h('strong', {}, l.origin),
      l.size !== null ? ` \u2014 ${l.size} entr${l.size === 1 ? 'y' : 'ies'} seen${l.stored_at ? ` (${l.stored_at.slice(0, 10)})` : ''}` : '',
      l.vkey ? h('span', {}, ' \u2014 log key remembered on first use', l.key_first_seen ? ` (${l.key_first_seen.slice(0, 10)})` : '', ': ', h('code', {}, l.vkey)) : '',
      ' ',
      h('button', { type: 'button', 'aria-label': `Forget what this browser saw of ${l.origin}`, onclick: async () => { await forgetLog(l.origin); this.#renderLogPanel(); } }, 'Forget'))));
    this.logPanel.replaceChildren(h('summary', {}, `Remembered logs (${logs.length})`),
      h('p', {}, 'The largest checkpoint of each release log and index log this browser verified: a later one must extend it, or you see a split-view warning. Forgetting a log drops that protection for it.'),
      list, exportBtn);
  }

  /** The entry bundles of a log of `size` entries under `siteLog` (C2SP tlog-tiles paths), bounded. */
  async #fetchBundles(siteLog, size, into) {
    const count = Math.ceil(size / 256);
    if (count > MAX_BUNDLES) throw new Error(`${count} entry bundles is more than ${MAX_BUNDLES}`);
    let total = 0;
    for (let n = 0; n < count; n++) {
      const width = Math.min(256, size - n * 256);
      const path = `tile/entries/${String(n).padStart(3, '0')}${width < 256 ? `.p/${width}` : ''}`;
      const url = new URL(path, siteLog).href;
      const resp = await fetch(url, FETCH);
      if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status}`);
      const bytes = await boundedBytes(resp, MAX_BUNDLE, url);
      total += bytes.byteLength;
      if (total > MAX_BUNDLE_TOTAL) throw new Error(`the entry bundles are larger than ${fmtBytes(MAX_BUNDLE_TOTAL)}`);
      into[path] = bytes;
    }
  }

  /** The release log part of a card: what is logged, the quorum, the consistency, a split-view banner. */
  #logSection(file, r, { proof, logState }) {
    const out = [];
    const log = r.log;
    if (!log) {
      // The core checks the log only for an intact wheel: say so rather than blame the proof.
      const logProblem = r.problems.some((p) => p.code.startsWith('log-') || p.code === 'split-view');
      const why = !proof ? 'no release log proof was found'
        : r.verdict === 'invalid' && !logProblem ? 'the log was not checked, because the wheel itself is invalid'
        : 'the log proof was not accepted (see the problems)';
      out.push(h('div', { class: 'log', part: 'log', 'data-logged': 'no' }, h('p', {}, `Not logged: ${why}.`)));
      return out;
    }
    if (log.consistency === 'split-view') {
      const evidence = () => {
        const text = `# wheelsig: split view of the log ${log.origin}\n# the checkpoint remembered in this browser\n${logState?.seen ?? ''}\n# the checkpoint seen now, with ${r.file}\n${logState?.current ?? ''}`;
        const a = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })), download: 'wheelsig-split-view-evidence.txt' });
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      };
      out.push(h('div', { class: 'alert split', role: 'alert', part: 'split-view' },
        h('strong', {}, `SPLIT VIEW: the log ${log.origin} showed this browser a different history before`),
        h('p', {}, 'The publisher\u2019s log signed two histories that cannot both be true: someone may be showing you a release others do not see. Do not install it; keep the evidence and report it to the publisher and the witnesses.'),
        h('button', { type: 'button', part: 'export-evidence', onclick: evidence }, 'Export evidence')));
    }
    const names = log.cosignatures.map((c) => c.name);
    const time = log.witnessed ?? (log.cosignatures.length ? Math.max(...log.cosignatures.map((c) => c.time)) : null);
    const seenBy = names.length ? `, seen by witness${names.length === 1 ? '' : 'es'} ${andList(names)}${time ? ` at ${isoTime(time)}` : ''}` : ', not cosigned by any witness the policy lists';
    const required = this.hasAttribute('require-logged') ? ' (required)' : '';
    out.push(h('div', { class: 'log', part: 'log', 'data-logged': 'yes', 'data-consistency': log.consistency },
      h('p', { part: 'log-line' }, `Logged: release #${log.index} of ${log.origin}${seenBy}`),
      h('dl', { class: 'meta' },
        h('dt', {}, 'Witness quorum'), h('dd', { part: 'log-quorum', 'data-quorum': log.quorum ? 'met' : 'not-met' }, log.quorum ? `met${log.witnessed ? ` at ${isoTime(log.witnessed)}` : ''}${required}` : `not met${required}`),
        h('dt', {}, 'Log history'), h('dd', { part: 'log-consistency' }, CONSISTENCY[log.consistency] || log.consistency),
        ...(log.log_key === 'first-use' ? [h('dt', {}, 'Log key'), h('dd', { part: 'log-key' }, 'the key site\u2019s log/vkey, remembered in this browser on first use (the witness policy does not list this log)')] : []))));
    if (log.consistency === 'older-consistent') out.push(h('p', { class: 'note', part: 'log-stale' }, 'This is an older, consistent copy of the log (a stale cache): newer releases may exist.'));
    return out;
  }

  /** Why the index log leaves this wheel untrusted, in one sentence (null: it does not). */
  #indexLogExplain(r, indexLog) {
    if (!indexLog || !r.index_log) return null;
    const codes = new Set(r.problems.map((p) => p.code));
    if (codes.has('index-log-too-new')) return `The index log has not had this file for the required ${this.getAttribute('min-age')} (below): it is too new to trust yet.`;
    if (codes.has('index-log-absent')) return `The index log does not have this file, so its age is unknown and min-age ${this.getAttribute('min-age')} cannot be met (below).`;
    if (r.index_log.status !== 'logged' && [...codes].some((c) => c.startsWith('log-'))) return 'The index log\u2019s files do not check out for this file (below): it cannot vouch for it.';
    return null;
  }

  #renderReport(file, r, warnings, droppedSig, { keySet, keyList, choice, chosen, offers, logged, indexLog }) {
    const [label, verdictText] = VERDICTS[r.verdict];
    const explain = r.log?.consistency === 'split-view' ? 'The release log showed this browser a different history before (below): do not install this wheel.'
      : indexLog?.consistency === 'split-view' ? 'The index log showed this browser a different history before (below): do not install this wheel.'
        : r.problems.some((p) => p.code === 'index-log-mismatch') ? 'The index log has this file name with a different sha256 (below): do not install this wheel.'
          : r.verdict === 'untrusted' && !r.problems.some((p) => p.code.startsWith('trust-')) && this.#indexLogExplain(r, indexLog) || verdictText;
    const card = h('article', { class: `card verdict-${r.verdict}`, part: `card card-${r.verdict}`, 'data-verdict': r.verdict },
      h('header', {}, h('span', { class: 'badge', part: 'verdict' }, label), h('span', { class: 'file' }, file.name)),
      h('p', { class: 'explain' }, explain));
    const meta = h('dl', { class: 'meta' });
    const row = (k, ...v) => meta.append(h('dt', {}, k), h('dd', {}, ...v));
    row('Project', r.project ? `${r.project} ${r.version}` : '(file name does not parse)');
    row('Files checked', `${r.files_checked} against RECORD (${fmtBytes(file.size)})`);
    // One row per key and carrier: an embedded RECORD.jws carries the same key's RFC 7515
    // signature and its wheel 0.31 legacy twin.
    const groups = new Map();
    for (const s of r.signatures) {
      const key = `${s.kid}|${s.carrier}|${s.source}|${s.valid}`;
      if (groups.has(key)) groups.get(key).formats.push(FORMAT[s.format] || s.format);
      else groups.set(key, { ...s, formats: [FORMAT[s.format] || s.format] });
    }
    for (const s of groups.values()) {
      const where = s.carrier === 'embedded' ? 'embedded RECORD.jws' : `detached ${s.source || ''}`;
      row(s.valid ? 'Signed by' : 'Rejected signature', h('code', {}, s.kid || 'unreadable key'), ` (${where}; ${s.formats.join(' + ')}${s.iat ? `; signed ${day(s.iat)}` : ''})`);
      if (s.fingerprint) row('Fingerprint', h('code', {}, s.fingerprint));
      if (s.trusted_by) {
        const by = s.trusted_by;
        const retired = s.retired ? ` (key retired ${day(s.retired)}; signature dated before)` : '';
        if (by.kind === 'chosen-key-url') {
          // Never a silent switch: say it is the user's own first-use choice, and when it was made.
          const when = choice?.chosen_at ? ` (${choice.chosen_at.slice(0, 10)})` : '';
          row('Trusted via', `key URL chosen on first use${when}: ${by.source}`, retired);
        } else {
          const kind = keyList?.url && by.source === keyList.url ? 'dependency key list' : TRUST_KIND[by.kind] || by.kind;
          row('Trusted via', `${kind}: ${by.source}`, retired);
        }
      }
      if (s.jku) {
        const note = keySet?.url === s.jku ? ' (the key URL in use)'
          : chosen?.url === s.jku ? ` (the key URL you chose for ${r.project})`
            : ' (named by the signature: not trusted by itself)';
        row('Key URL hint', h('code', {}, s.jku), note);
      }
    }
    if (r.sha256) row('SHA-256', h('code', {}, r.sha256));
    if (r.engine) row('Checked by', r.engine);
    card.append(meta);
    if (logged) card.append(...this.#logSection(file, r, logged));
    if (indexLog) card.append(...this.#indexLogSection(file, r, indexLog));
    if (r.verdict === 'key-changed') card.append(this.#keyChangedAlert(file, r, droppedSig, card));
    if (r.problems.length) {
      card.append(h('ul', { class: 'problems', part: 'problems', 'aria-label': 'Problems' },
        r.problems.map((p) => h('li', {}, h('code', { class: 'code' }, p.code), ' ', p.path ? h('code', {}, p.path) : null, p.path ? ': ' : '', p.message))));
    }
    for (const w of warnings) card.append(h('p', { class: 'status warn' }, w));
    // A key URL named by the signature, offered as an explicit first-use choice for this
    // project: only for a validly signed wheel nothing else covers, and never where a key URL
    // is configured (a publisher's page must not let a stranger's key URL take over).
    for (const { url, from } of offers || []) {
      const who = from === 'metadata' ? 'This wheel\u2019s metadata (Project-URL \u201cSigning keys\u201d) names ' : 'This signature names ';
      const then = from === 'metadata' && r.verdict === 'unsigned' ? ' Its signatures, if any, are there.' : '';
      card.append(h('div', { class: 'choice', part: 'trust-choice', 'data-from': from },
        h('p', {}, who, h('code', {}, url), ` as its publisher\u2019s key URL. Nothing you trust vouches for it: choose it only if you know this is where ${r.project}\u2019s publisher lists their keys.${then}`),
        h('button', { type: 'button', part: 'trust-key-url', onclick: () => {
          chooseKeyUrl(r.project, url);
          this.#renderTrustPanel();
          this.#reverify(file, droppedSig, card);
        } }, `Trust keys from ${url} for ${r.project} from now on (remembered in this browser)`)));
    }
    const actions = h('div', { class: 'actions' });
    const valid = r.signatures.find((s) => s.valid);
    if (r.verdict === 'signed' && valid && r.project) {
      actions.append(h('button', { type: 'button', part: 'remember', onclick: (e) => {
        remember(r.project, { kid: valid.kid, jwk: valid.jwk, fingerprint: valid.fingerprint, key_url: keySet?.url || valid.jku });
        e.target.replaceWith(h('span', { class: 'status', role: 'status' }, `Remembered ${valid.fingerprint} for ${r.project}: a different key will show \u201ckey changed\u201d.`));
        this.#renderTrustPanel();
      } }, `Remember this key for ${r.project}`));
    }
    if (r.project && r.version && !this.hasAttribute('pypi-check')) {
      actions.append(h('button', { type: 'button', part: 'pypi-button', onclick: () => this.#reverify(file, droppedSig, card, true) }, 'Compare with PyPI'));
    }
    if (actions.childElementCount) card.append(actions);
    if (r.members?.length) {
      // Built when first opened: a wheel can have tens of thousands of members.
      const details = h('details', { part: 'members' }, h('summary', {}, `Members (${r.members.length})`));
      details.addEventListener('toggle', () => {
        if (!details.open || details.querySelector('table')) return;
        details.append(h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Path'), h('th', { scope: 'col' }, 'Size'), h('th', { scope: 'col' }, 'Status'))),
          h('tbody', {}, r.members.map((m) => h('tr', {}, h('td', {}, h('code', {}, m.path)), h('td', { class: 'num' }, m.size), h('td', { class: `st-${m.status}` }, m.status))))));
      });
      card.append(details);
    }
    return card;
  }

  #keyChangedAlert(file, r, droppedSig, card) {
    const old = loadFirstUse()[r.project] || {};
    const now = r.signatures.find((s) => s.valid) || {};
    const keyRows = h('dl', { class: 'meta' },
      h('dt', {}, 'Remembered key'), h('dd', {}, h('code', {}, old.fingerprint || old.kid || '?'), typeof old.first_seen === 'string' ? ` (since ${old.first_seen.slice(0, 10)})` : ''),
      h('dt', {}, 'This wheel\u2019s key'), h('dd', {}, h('code', {}, now.fingerprint || now.kid || '?')));
    return h('div', { class: 'alert', role: 'alert', part: 'alert' },
      h('strong', {}, `Warning: the signing key of ${r.project} has changed`),
      keyRows,
      h('p', {}, 'Someone may be serving you a tampered release, or the publisher rotated keys. Check the publisher\u2019s key page before trusting the new key.'),
      h('button', { type: 'button', onclick: () => { forget(r.project); this.#renderTrustPanel(); this.#reverify(file, droppedSig, card); } }, 'Forget the remembered key'));
  }

  async #reverify(file, droppedSig, card, computeSha256 = this.hasAttribute('pypi-check')) {
    const batch = ++this.#batchId;
    this.removeAttribute('verdict');
    this.#chosenSets.clear();
    this.#indexLog = null;
    const report = await this.#verifyOne(file, droppedSig, this.#trust(), { computeSha256, card });
    if (report && batch === this.#batchId) this.setAttribute('verdict', report.verdict);
  }

  async #pypiCheck(card, r) {
    const line = h('p', { class: 'pypi', part: 'pypi', role: 'status' }, 'Comparing with PyPI \u2026');
    const members = card.querySelector('details');
    if (members) members.before(line);
    else card.append(line);
    const api = `https://pypi.org/pypi/${encodeURIComponent(r.project)}/${encodeURIComponent(r.version)}/json`;
    try {
      const resp = await fetch(api, FETCH);
      if (resp.status === 404) {
        setText(line, `PyPI does not list ${r.project} ${r.version}: nothing to compare with.`);
        return;
      }
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const info = JSON.parse(await boundedText(resp, MAX_PYPI_JSON, api));
      const entry = (info?.urls || []).find((u) => u.filename === r.file);
      if (!entry) {
        setText(line, `PyPI lists ${r.project} ${r.version}, but no file named ${r.file}.`);
      } else if (entry.digests?.sha256 === r.sha256) {
        line.className = 'pypi good';
        setText(line, `Same file PyPI serves to everyone (sha256 ${r.sha256.slice(0, 16)}\u2026).`);
      } else {
        line.className = 'pypi bad';
        line.setAttribute('role', 'alert');
        setText(line, `DIFFERENT from the file PyPI serves: PyPI sha256 ${entry.digests?.sha256}, this file ${r.sha256}.`);
      }
    } catch (err) {
      setText(line, `Could not reach PyPI (offline?): ${err.message}. Nothing was compared.`);
    }
  }

  #renderTrustPanel() {
    const entries = Object.entries(loadFirstUse());
    const choices = Object.entries(loadKeyUrlChoices());
    const list = h('ul', { part: 'remembered-keys' }, entries.map(([project, e]) => h('li', {}, h('strong', {}, project), ' \u2192 ', h('code', {}, e.fingerprint || e.kid),
      typeof e.first_seen === 'string' ? ` (since ${e.first_seen.slice(0, 10)})` : '', e.key_url ? ` from ${e.key_url}` : '', ' ',
      h('button', { type: 'button', 'aria-label': `Forget the key remembered for ${project}`, onclick: () => { forget(project); this.#renderTrustPanel(); } }, 'Forget'))));
    const chosenList = h('ul', { part: 'chosen-key-urls' }, choices.map(([project, c]) => h('li', { 'data-project': project }, h('strong', {}, project), ' \u2192 keys from ', h('code', {}, c.key_url),
      c.chosen_at ? ` (chosen ${c.chosen_at.slice(0, 10)})` : '', ' ',
      h('button', { type: 'button', 'aria-label': `Forget the key URL chosen for ${project}`, onclick: () => { forgetKeyUrlChoice(project); this.#renderTrustPanel(); } }, 'Forget'))));
    const exportBtn = h('button', { type: 'button', onclick: () => {
      const a = h('a', { href: URL.createObjectURL(new Blob([exportJson()], { type: 'application/json' })), download: 'wheelsig-first-use.json' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } }, 'Export JSON');
    this.trustPanel.replaceChildren(...[h('summary', {}, `Remembered keys (${entries.length + choices.length})`),
      h('p', {}, 'Keys and key URLs you chose on first use, kept in this browser only.'),
      entries.length ? list : h('p', {}, 'No keys yet. When a signed wheel has no other trust source, you can remember its key.'),
      entries.length ? exportBtn : null,
      choices.length ? h('h3', {}, 'Key URLs chosen on first use') : null,
      choices.length ? chosenList : null].filter(Boolean));
  }
}

if (!customElements.get('wheel-verify')) customElements.define('wheel-verify', WheelVerify);
