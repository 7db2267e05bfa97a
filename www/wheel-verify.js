// <wheel-verify>: drop Python wheels, get a verdict. The wasm verifier runs in a Web Worker
// (worker.js) and reads each file in slices; the wheel never leaves the machine. The only
// network requests are the key URL, signature files under its releases/, and (when asked)
// PyPI's JSON API. Attributes: key-url, project, pypi-check. Events: `wheel-verified`
// (detail: the report). Sets a `verdict` attribute (the worst of the last batch) when done.
import { VerifierClient } from './worker-client.js';
import { loadFirstUse, remember, forget, exportJson } from './first-use.js';

const VERDICTS = {
  trusted: ['Trusted', 'Intact, and signed by a key that a trust source lists for this project.'],
  signed: ['Signed', 'Intact and validly signed, but nothing you trust says which key this project uses.'],
  unsigned: ['Unsigned', 'The archive is intact and every file matches RECORD, but there is no signature.'],
  untrusted: ['Untrusted', 'A trust source covers this project and does not accept this signature.'],
  'key-changed': ['Key changed', 'This project was signed by a different key when you first saw it.'],
  invalid: ['Invalid', 'Do not install: the archive is broken, ambiguous or tampered with, or a signature is bad.'],
};
const SEVERITY = { trusted: 0, signed: 1, unsigned: 2, 'key-changed': 3, untrusted: 4, invalid: 5 };
const TRUST_KIND = { 'key-url': 'key URL', 'key-file': 'key file', pin: 'pin', 'first-use': 'first use' };

/** Build an element; strings become text nodes (never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

export function normalizeProject(name) {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** https anywhere; http only for loopback hosts (tests, local demos). */
export function checkKeyUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) || /^127\./.test(url.hostname);
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return url;
  throw new Error(`${text}: use https (plain http only for loopback hosts)`);
}

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  const u = ['KB', 'MB', 'GB'];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${u[i]}`;
}

const STYLE = `
:host { --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --border: #d1d9e0; --panel: #f6f8fa; --focus: #0969da;
  --trusted: #1a7f37; --signed: #0969da; --unsigned: #59636e; --untrusted: #bc4c00; --key-changed: #bc4c00; --invalid: #cf222e;
  display: block; color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
@media (prefers-color-scheme: dark) { :host { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --border: #3d444d; --panel: #151b23; --focus: #4493f8;
  --trusted: #3fb950; --signed: #4493f8; --unsigned: #9198a1; --untrusted: #f0883e; --key-changed: #f0883e; --invalid: #f85149; --badge-fg: #0d1117; } }
* { box-sizing: border-box; }
.controls { display: grid; gap: .5rem; margin-bottom: 1rem; }
label.field { display: grid; gap: .25rem; font-weight: 600; font-size: .9rem; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
input[type=url] { flex: 1 1 20rem; padding: .45rem .6rem; border: 1px solid var(--border); border-radius: 6px; background: var(--bg); color: var(--fg); font: inherit; }
button { font: inherit; font-size: .9rem; padding: .35rem .8rem; border-radius: 6px; border: 1px solid var(--border); background: var(--panel); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--muted); }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
.status { font-size: .85rem; color: var(--muted); min-height: 1.2em; }
.status.error { color: var(--invalid); }
.drop { display: grid; place-items: center; gap: .25rem; text-align: center; padding: 2rem 1rem; border: 2px dashed var(--border); border-radius: 10px;
  background: var(--panel); cursor: pointer; transition: border-color .15s, background .15s; }
.drop.over { border-color: var(--focus); background: color-mix(in srgb, var(--focus) 8%, var(--panel)); }
.drop strong { font-size: 1.1rem; }
.drop small { color: var(--muted); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.note { font-size: .85rem; color: var(--muted); margin: .5rem 0 1rem; }
.cards { display: grid; gap: .75rem; }
.card { border: 1px solid var(--border); border-left: 6px solid var(--c, var(--border)); border-radius: 8px; padding: .75rem 1rem; background: var(--bg); }
.card header { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; }
.badge { font-weight: 700; color: var(--badge-fg, #fff); background: var(--c, var(--muted)); padding: .1rem .55rem; border-radius: 999px; font-size: .85rem; letter-spacing: .02em; }
.file { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; word-break: break-all; flex: 1; }
.explain { margin: .35rem 0; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: .4rem 0; font-size: .88rem; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; word-break: break-all; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .85em; }
.problems { margin: .4rem 0; padding-left: 1.2rem; font-size: .88rem; }
.problems li { margin: .15rem 0; }
.problems .code { color: var(--c); font-weight: 600; }
.alert { border: 2px solid var(--key-changed); border-radius: 8px; padding: .5rem .75rem; margin: .5rem 0; font-weight: 600; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .4rem; }
progress { width: 100%; height: .6rem; }
details { margin-top: .4rem; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; margin-top: .3rem; }
th, td { text-align: left; padding: .15rem .5rem; border-bottom: 1px solid var(--border); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.st-ok { color: var(--trusted); } .st-mismatch, .st-unlisted, .st-missing { color: var(--invalid); font-weight: 600; }
.pypi { font-size: .88rem; margin-top: .3rem; }
.pypi.bad { color: var(--invalid); font-weight: 700; }
.pypi.good { color: var(--trusted); }
.trust-panel { margin-top: 1.25rem; font-size: .88rem; }
.trust-panel ul { padding-left: 1.2rem; }
`;

export class WheelVerify extends HTMLElement {
  static observedAttributes = ['key-url', 'project', 'pypi-check'];
  #client = new VerifierClient();
  #keySet = null; // { url, text } once fetched
  #batch = [];

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = h('style');
    style.textContent = STYLE;
    this.keyInput = h('input', { type: 'url', id: 'key-url', placeholder: 'https://publisher.github.io/keys/keys.json', spellcheck: 'false', part: 'key-url' });
    this.keyStatus = h('div', { class: 'status', role: 'status' });
    this.fileInput = h('input', { type: 'file', multiple: true, accept: '.whl,.jws', class: 'sr-only', id: 'files', onchange: () => this.#takeFiles([...this.fileInput.files]) });
    this.drop = h('label', { class: 'drop', for: 'files', part: 'drop-zone', tabindex: '0', role: 'button', 'aria-describedby': 'privacy' },
      h('strong', {}, 'Drop .whl files here'),
      h('span', {}, 'or click / press Enter to choose files'),
      h('small', {}, 'Optional: drop detached .jws signatures with them'));
    this.cards = h('div', { class: 'cards', part: 'results' });
    this.live = h('div', { class: 'sr-only', 'aria-live': 'polite' });
    this.trustPanel = h('details', { class: 'trust-panel', part: 'trust-panel' });
    root.append(style,
      h('div', { class: 'controls' },
        h('label', { class: 'field', for: 'key-url' }, 'Publisher key URL (a JWK Set)'),
        h('div', { class: 'row' }, this.keyInput, h('button', { type: 'button', onclick: () => this.#applyKeyUrl() }, 'Use key URL')),
        this.keyStatus),
      this.fileInput, this.drop,
      h('p', { class: 'note', id: 'privacy', part: 'note' },
        'Verification runs on your machine in WebAssembly; the wheel is never uploaded. ',
        'The only network requests are the key URL, signature files next to it, and, if you ask, PyPI\u2019s public metadata.'),
      this.live, this.cards, this.trustPanel);
    this.keyInput.addEventListener('keydown', (e) => { if (e.key === 'Enter') this.#applyKeyUrl(); });
    this.drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.fileInput.click(); } });
    for (const ev of ['dragenter', 'dragover']) this.drop.addEventListener(ev, (e) => { e.preventDefault(); this.drop.classList.add('over'); });
    for (const ev of ['dragleave', 'dragend']) this.drop.addEventListener(ev, () => this.drop.classList.remove('over'));
    this.drop.addEventListener('drop', (e) => {
      e.preventDefault();
      this.drop.classList.remove('over');
      this.#takeFiles([...(e.dataTransfer?.files || [])]);
    });
  }

  connectedCallback() {
    this.keyInput.value = this.getAttribute('key-url') || '';
    this.#renderTrustPanel();
  }

  attributeChangedCallback(name, _old, value) {
    if (name === 'key-url') {
      this.keyInput.value = value || '';
      this.#keySet = null;
      this.keyStatus.textContent = '';
    }
  }

  #applyKeyUrl() {
    const v = this.keyInput.value.trim();
    if (v) this.setAttribute('key-url', v);
    else this.removeAttribute('key-url');
    this.#loadKeySet().catch(() => {});
  }

  async #loadKeySet() {
    const text = this.getAttribute('key-url');
    if (!text) return null;
    if (this.#keySet?.url === text) return this.#keySet;
    this.keyStatus.className = 'status';
    this.keyStatus.textContent = `Fetching ${text} \u2026`;
    try {
      const url = checkKeyUrl(text);
      const resp = await fetch(url, { cache: 'no-store', credentials: 'omit', redirect: 'follow' });
      if (!resp.ok) throw new Error(`${text}: HTTP ${resp.status}`);
      const body = await resp.text();
      if (body.length > 1 << 20) throw new Error(`${text}: larger than 1 MiB`);
      let keys;
      try {
        keys = JSON.parse(body).keys;
      } catch {
        throw new Error(`${text}: not JSON`);
      }
      if (!Array.isArray(keys)) throw new Error(`${text}: not a JWK Set ({"keys": [...]})`);
      this.#keySet = { url: url.href, text: body };
      this.keyStatus.textContent = `Key URL ${url.href}: ${keys.length} key${keys.length === 1 ? '' : 's'} listed.`;
      return this.#keySet;
    } catch (err) {
      this.keyStatus.className = 'status error';
      this.keyStatus.textContent = `Could not use the key URL: ${err.message}`;
      throw err;
    }
  }

  async #takeFiles(files) {
    this.fileInput.value = '';
    const sigs = new Map(files.filter((f) => f.name.endsWith('.jws')).map((f) => [f.name, f]));
    const wheels = files.filter((f) => f.name.endsWith('.whl'));
    const others = files.filter((f) => !f.name.endsWith('.whl') && !f.name.endsWith('.jws'));
    this.#batch = [];
    this.removeAttribute('verdict');
    for (const f of others) this.cards.prepend(this.#noteCard(f.name, 'Not a wheel (.whl) or signature (.jws): ignored.'));
    let keySet = null;
    try {
      keySet = await this.#loadKeySet();
    } catch {
      keySet = { error: true };
    }
    await Promise.all(wheels.map((w) => this.#verifyOne(w, sigs.get(`${w.name}.jws`), keySet)));
    const worst = this.#batch.reduce((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a), this.#batch[0]);
    if (worst) this.setAttribute('verdict', worst);
  }

  #noteCard(name, text) {
    return h('article', { class: 'card', part: 'card' }, h('header', {}, h('span', { class: 'file' }, name)), h('p', { class: 'explain' }, text));
  }

  async #verifyOne(file, droppedSig, keySet, { computeSha256 = this.hasAttribute('pypi-check'), card = null } = {}) {
    const project = normalizeProject(file.name.split('-')[0] || '');
    const only = this.getAttribute('project');
    if (only && normalizeProject(only) !== project) {
      this.cards.prepend(this.#noteCard(file.name, `This verifier checks ${only} wheels only; this file is for ${project}.`));
      return;
    }
    const abort = new AbortController();
    const progress = h('progress', { max: '1', value: '0', 'aria-label': `Reading ${file.name}` });
    const fresh = h('article', { class: 'card', part: 'card', 'aria-busy': 'true' },
      h('header', {}, h('span', { class: 'badge' }, 'Checking'), h('span', { class: 'file' }, file.name),
        h('button', { type: 'button', onclick: () => abort.abort() }, 'Cancel')),
      progress);
    if (card) card.replaceWith(fresh);
    else this.cards.prepend(fresh);
    card = fresh;

    const detached = [];
    const warnings = [];
    if (droppedSig) detached.push({ name: droppedSig.name, text: await droppedSig.text() });
    if (keySet?.url) {
      const sigUrl = new URL(`releases/${project}/${encodeURIComponent(file.name)}.jws`, keySet.url);
      try {
        const resp = await fetch(sigUrl, { cache: 'no-store', credentials: 'omit' });
        if (resp.ok) detached.push({ name: sigUrl.href, text: await resp.text() });
        else if (resp.status !== 404) warnings.push(`Signature lookup ${sigUrl.href}: HTTP ${resp.status}`);
      } catch (err) {
        warnings.push(`Signature lookup ${sigUrl.href} failed: ${err.message}`);
      }
    }
    if (keySet?.error) warnings.push('The key URL could not be used, so trust was not checked against it.');
    const input = {
      file_name: file.name,
      detached,
      key_sets: keySet?.url ? [{ source: keySet.url, kind: 'key-url', text: keySet.text }] : [],
      first_use: loadFirstUse(),
      compute_sha256: computeSha256,
    };
    try {
      const report = await this.#client.verify(file, input, {
        signal: abort.signal,
        onProgress: (done, total) => { progress.value = total ? done / total : 0; },
      });
      const rendered = this.#renderReport(file, report, warnings, droppedSig, keySet);
      card.replaceWith(rendered);
      this.#batch.push(report.verdict);
      this.live.textContent = `${file.name}: ${VERDICTS[report.verdict][0]}`;
      this.dispatchEvent(new CustomEvent('wheel-verified', { detail: report, bubbles: true, composed: true }));
      if (computeSha256 && report.project && report.version && report.sha256) this.#pypiCheck(rendered, report);
      return report;
    } catch (err) {
      if (err?.code === 'key-set' && keySet?.url) {
        // The publisher's JWK Set is malformed: say so, and still check the wheel's integrity.
        this.#keySet = null;
        this.keyStatus.className = 'status error';
        this.keyStatus.textContent = `The key URL's JWK Set was rejected: ${err.message}`;
        return this.#verifyOne(file, droppedSig, { error: true }, { computeSha256, card });
      }
      const text = err?.code === 'aborted' ? 'Cancelled.' : `Could not verify: ${err?.message || err}`;
      const failed = this.#noteCard(file.name, text);
      failed.dataset.state = err?.code === 'aborted' ? 'cancelled' : 'error';
      card.replaceWith(failed);
      this.live.textContent = `${file.name}: ${text}`;
      return null;
    }
  }

  #renderReport(file, r, warnings, droppedSig, keySet) {
    const [label, explain] = VERDICTS[r.verdict];
    const color = `var(--${r.verdict})`;
    const card = h('article', { class: `card verdict-${r.verdict}`, part: `card card-${r.verdict}`, style: `--c: ${color}`, 'data-verdict': r.verdict },
      h('header', {}, h('span', { class: 'badge', part: 'verdict' }, label), h('span', { class: 'file' }, file.name)),
      h('p', { class: 'explain' }, explain));
    const meta = h('dl', { class: 'meta' });
    const row = (k, ...v) => meta.append(h('dt', {}, k), h('dd', {}, ...v));
    row('Project', r.project ? `${r.project} ${r.version}` : '(file name does not parse)');
    row('Files checked', `${r.files_checked} against RECORD (${fmtBytes(file.size)})`);
    // One row per key and carrier: an embedded RECORD.jws carries the same key's RFC 7515
    // signature and its wheel 0.31 legacy twin.
    const FORMAT = { general: 'RFC 7515', flattened: 'RFC 7515 flattened', legacy: 'wheel 0.31 legacy' };
    const groups = new Map();
    for (const s of r.signatures) {
      const key = `${s.kid}|${s.carrier}|${s.source}|${s.valid}`;
      if (groups.has(key)) groups.get(key).formats.push(FORMAT[s.format] || s.format);
      else groups.set(key, { ...s, formats: [FORMAT[s.format] || s.format] });
    }
    for (const s of groups.values()) {
      const where = s.carrier === 'embedded' ? 'embedded RECORD.jws' : `detached ${s.source || ''}`;
      row(s.valid ? 'Signed by' : 'Rejected signature', h('code', {}, s.kid || 'unreadable key'), ` (${where}; ${s.formats.join(' + ')})`);
      if (s.fingerprint) row('Fingerprint', h('code', {}, s.fingerprint));
      if (s.trusted_by) row('Trusted via', `${TRUST_KIND[s.trusted_by.kind] || s.trusted_by.kind}: ${s.trusted_by.source}`,
        s.retired ? ` (key retired ${new Date(s.retired * 1000).toISOString().slice(0, 10)}; signature dated before)` : '');
      if (s.jku && !s.trusted_by) {
        row('Key URL hint', h('code', {}, s.jku), ' (from the signature: not trusted by itself) ',
          h('button', { type: 'button', onclick: () => { this.setAttribute('key-url', s.jku); this.#reverify(file, droppedSig, card); } }, 'Use this key URL'));
      }
    }
    if (r.sha256) row('SHA-256', h('code', {}, r.sha256));
    card.append(meta);
    if (r.verdict === 'key-changed') {
      const project = r.project;
      const old = loadFirstUse()[project];
      card.append(h('div', { class: 'alert', role: 'alert', part: 'alert' },
        `WARNING: the signing key of ${project} has changed. First seen: ${old?.kid || '?'}${old?.first_seen ? ` on ${old.first_seen.slice(0, 10)}` : ''}. `,
        'Someone may be serving you a tampered release, or the publisher rotated keys. Check the publisher\u2019s key page before trusting the new key. ',
        h('button', { type: 'button', onclick: () => { forget(project); this.#renderTrustPanel(); this.#reverify(file, droppedSig, card); } }, 'Forget the old key')));
    }
    const problems = r.problems.filter((p) => !(r.verdict === 'key-changed' && p.code === 'trust-key-changed'));
    if (problems.length) {
      card.append(h('ul', { class: 'problems', part: 'problems' },
        problems.map((p) => h('li', {}, h('code', { class: 'code' }, p.code), ' ', p.path ? h('code', {}, p.path) : null, p.path ? ': ' : '', p.message))));
    }
    for (const w of warnings) card.append(h('p', { class: 'status error' }, w));
    const actions = h('div', { class: 'actions' });
    const valid = r.signatures.find((s) => s.valid);
    if (r.verdict === 'signed' && valid && r.project) {
      actions.append(h('button', { type: 'button', part: 'remember', onclick: (e) => {
        remember(r.project, { kid: valid.kid, jwk: valid.jwk, key_url: valid.jku || keySet?.url });
        e.target.replaceWith(h('span', { class: 'status' }, `Remembered ${valid.kid} for ${r.project}: a different key will show \u201ckey changed\u201d.`));
        this.#renderTrustPanel();
      } }, `Remember this key for ${r.project}`));
    }
    if (r.project && r.version && r.verdict !== 'invalid' && !this.hasAttribute('pypi-check')) {
      actions.append(h('button', { type: 'button', part: 'pypi-button', onclick: () => this.#reverify(file, droppedSig, card, true) }, 'Compare with PyPI'));
    }
    if (actions.childElementCount) card.append(actions);
    if (r.members?.length) {
      card.append(h('details', {}, h('summary', {}, `Members (${r.members.length})`),
        h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Path'), h('th', {}, 'Size'), h('th', {}, 'Status'))),
          h('tbody', {}, r.members.map((m) => h('tr', {}, h('td', {}, h('code', {}, m.path)), h('td', { class: 'num' }, m.size), h('td', { class: `st-${m.status}` }, m.status)))))));
    }
    return card;
  }

  async #reverify(file, droppedSig, card, computeSha256 = this.hasAttribute('pypi-check')) {
    let keySet = null;
    try {
      keySet = await this.#loadKeySet();
    } catch {
      keySet = { error: true };
    }
    this.#batch = [];
    await this.#verifyOne(file, droppedSig, keySet, { computeSha256, card });
    if (this.#batch[0]) this.setAttribute('verdict', this.#batch[0]);
  }

  async #pypiCheck(card, r) {
    const line = h('p', { class: 'pypi', part: 'pypi' }, 'Comparing with PyPI \u2026');
    const members = card.querySelector('details');
    if (members) members.before(line);
    else card.append(line);
    const api = `https://pypi.org/pypi/${encodeURIComponent(r.project)}/${encodeURIComponent(r.version)}/json`;
    try {
      const resp = await fetch(api, { credentials: 'omit', cache: 'no-store' });
      if (resp.status === 404) {
        line.textContent = `PyPI does not list ${r.project} ${r.version}: nothing to compare with.`;
        return;
      }
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      const info = await resp.json();
      const entry = (info.urls || []).find((u) => u.filename === r.file);
      if (!entry) {
        line.textContent = `PyPI lists ${r.project} ${r.version}, but no file named ${r.file}.`;
      } else if (entry.digests?.sha256 === r.sha256) {
        line.className = 'pypi good';
        line.textContent = `Same file PyPI serves to everyone (sha256 ${r.sha256.slice(0, 16)}\u2026).`;
      } else {
        line.className = 'pypi bad';
        line.textContent = `DIFFERENT from the file PyPI serves: PyPI sha256 ${entry.digests?.sha256}, this file ${r.sha256}.`;
      }
    } catch (err) {
      line.textContent = `Could not reach PyPI (offline?): ${err.message}. Nothing was compared.`;
    }
  }

  #renderTrustPanel() {
    const entries = Object.entries(loadFirstUse());
    const list = h('ul', {}, entries.map(([project, e]) => h('li', {}, h('strong', {}, project), ' \u2192 ', h('code', {}, e.kid),
      e.first_seen ? ` (since ${e.first_seen.slice(0, 10)})` : '', ' ',
      h('button', { type: 'button', onclick: () => { forget(project); this.#renderTrustPanel(); } }, 'Forget'))));
    const exportBtn = h('button', { type: 'button', onclick: () => {
      const a = h('a', { href: URL.createObjectURL(new Blob([exportJson()], { type: 'application/json' })), download: 'wheelsig-first-use.json' });
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } }, 'Export JSON');
    this.trustPanel.replaceChildren(h('summary', {}, `Remembered keys (${entries.length})`),
      entries.length ? list : h('p', {}, 'None yet. When a signed wheel has no other trust source, you can remember its key here.'),
      entries.length ? exportBtn : null);
  }
}

if (!customElements.get('wheel-verify')) customElements.define('wheel-verify', WheelVerify);
