// The publisher key tool: generate or load an Ed25519 key, edit keys.json (add, retire,
// remove), sign wheels. Every key operation and every check runs in the wasm, in a worker;
// this file only moves text and files around. The page makes no network request (CSP).
import { VerifierClient } from './worker-client.js';

const client = new VerifierClient();
const $ = (id) => document.getElementById(id);
let key = null; // { private_jwk, public_jwk, kid, fingerprint }
let listed = []; // parse_key_set(keys.json).keys

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function status(id, text, error = false) {
  $(id).textContent = text;
  $(id).classList.toggle('error', error);
}

function download(name, blob) {
  const a = h('a', { href: URL.createObjectURL(blob), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const message = (err) => err?.message || String(err);

// ---- 1. the key ---------------------------------------------------------------------------

function useKey(info, how) {
  key = info;
  $('kid').textContent = info.kid;
  $('fingerprint').textContent = info.fingerprint;
  $('public-jwk').textContent = JSON.stringify(info.public_jwk, null, 2);
  $('key-info').hidden = false;
  $('add-key').disabled = false;
  $('wheels-button').disabled = false;
  status('key-status', how);
  status('sign-status', 'Ready to sign with this key.');
}

$('generate').addEventListener('click', async () => {
  try {
    useKey(await client.call('generate_key'), 'A new key, made in this browser. Download it before you leave the page.');
  } catch (err) {
    status('key-status', `Could not make a key: ${message(err)}`, true);
  }
});

$('load-key-button').addEventListener('click', () => $('load-key').click());
$('load-key').addEventListener('change', async () => {
  const file = $('load-key').files[0];
  $('load-key').value = '';
  if (!file) return;
  try {
    if (file.size > 64 * 1024) throw new Error(`${file.name} is ${file.size} bytes: not a key file`);
    useKey(await client.call('read_private_key', await file.text()), `Loaded ${file.name}.`);
  } catch (err) {
    status('key-status', `${file.name}: ${message(err)}`, true);
  }
});

$('download-key').addEventListener('click', () => {
  if (key) download(`${key.kid}.private.jwk`, new Blob([key.private_jwk], { type: 'application/jwk+json' }));
});

// ---- 2. keys.json -------------------------------------------------------------------------

/** A JWK Set entry as `wheelsig jwks` prints it (members in name order). */
function entry(k) {
  const e = { alg: 'EdDSA', crv: 'Ed25519', exp: k.exp ?? undefined, key_url: k.key_url ?? undefined, kid: k.kid, kty: 'OKP', projects: k.projects ?? undefined, use: 'sig', x: k.x };
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
}

function writeKeys(keys) {
  $('keys-json').value = `${JSON.stringify({ keys: keys.map(entry) }, null, 2)}\n`;
  return readKeys();
}

const day = (unix) => new Date(unix * 1000).toISOString().slice(0, 10);

/** Parse the textarea with the wasm (the same rules as verifiers), then list the keys. */
async function readKeys() {
  try {
    listed = (await client.call('parse_key_set', $('keys-json').value, 'keys.json')).keys;
  } catch (err) {
    listed = null;
    status('keys-status', message(err), true);
    $('keys-table').hidden = true;
    return false;
  }
  status('keys-status', `${listed.length} key${listed.length === 1 ? '' : 's'} listed.`);
  const rows = listed.map((k, i) => {
    const date = h('input', { type: 'date', 'aria-label': `Retirement date for ${k.kid}`, value: new Date().toISOString().slice(0, 10) });
    return h('tr', { 'data-kid': k.kid },
      h('td', {}, h('code', {}, k.kid), k.kid === key?.kid ? ' (this key)' : ''),
      h('td', {}, k.projects ? k.projects.join(', ') : 'all'),
      h('td', { class: 'state' }, k.exp ? `retired ${day(k.exp)}` : 'active'),
      h('td', {}, date, ' ',
        h('button', { type: 'button', onclick: () => retire(i, date.value) }, 'Retire'), ' ',
        h('button', { type: 'button', onclick: () => writeKeys(listed.filter((_, j) => j !== i)) }, 'Remove')));
  });
  $('keys-table').querySelector('tbody').replaceChildren(...rows);
  $('keys-table').hidden = rows.length === 0;
  return true;
}

function retire(i, date) {
  const [y, m, d] = (date || '').split('-').map(Number);
  if (!y || !m || !d) return status('keys-status', 'Choose a retirement date first.', true);
  writeKeys(listed.map((k, j) => (j === i ? { ...k, exp: Date.UTC(y, m - 1, d) / 1000 } : k)));
}

let typing;
$('keys-json').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(readKeys, 300);
});

$('add-key').addEventListener('click', async () => {
  if (!key || !(await readKeys())) return;
  if (listed.some((k) => k.kid === key.kid)) return status('keys-status', `keys.json already lists ${key.kid}.`, true);
  const names = $('projects').value.split(/[\s,]+/).filter(Boolean);
  const projects = names.length ? [...new Set(await Promise.all(names.map((n) => client.call('normalize_project', n))))] : undefined;
  const before = $('keys-json').value;
  if (!(await writeKeys([...listed, { kid: key.kid, x: key.public_jwk.x, projects }]))) {
    $('keys-json').value = before; // a bad project name: keep what was there, show why
    return;
  }
  status('keys-status', `Added ${key.kid}. Publish this keys.json at your key URL.`);
});

$('copy-keys').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('keys-json').value);
    status('keys-status', 'Copied.');
  } catch {
    $('keys-json').select();
    status('keys-status', 'Selected: copy it with Ctrl+C / Cmd+C.');
  }
});
$('download-keys').addEventListener('click', () => download('keys.json', new Blob([$('keys-json').value], { type: 'application/json' })));

// ---- 3. signing ---------------------------------------------------------------------------

$('wheels-button').addEventListener('click', () => $('wheels').click());
$('wheels').addEventListener('change', async () => {
  const files = [...$('wheels').files];
  $('wheels').value = '';
  if (!key || !files.length) return;
  const keyUrl = $('key-url').value.trim() || null;
  if (keyUrl && !/^https:\/\//.test(keyUrl)) return status('sign-status', 'The key URL must start with https://', true);
  const embed = $('embed').checked;
  status('sign-status', `Signing ${files.length} wheel${files.length === 1 ? '' : 's'} with ${key.kid} …`);
  let ok = 0;
  for (const file of files) {
    const item = h('li', { 'data-file': file.name }, h('code', {}, file.name), ': checking and signing …');
    $('signed').prepend(item);
    try {
      const r = await client.sign(file, { privateJwk: key.private_jwk, iat: Math.floor(Date.now() / 1000), keyUrl, embed });
      const jws = new Blob([r.jws], { type: 'application/jose+json' });
      item.replaceChildren(h('code', {}, file.name), ': signed. ',
        h('button', { type: 'button', class: 'get-jws', onclick: () => download(`${file.name}.jws`, jws) }, `Download ${file.name}.jws`),
        r.embedded ? ' ' : '',
        r.embedded ? h('button', { type: 'button', class: 'get-embedded', onclick: () => download(file.name, r.embedded) }, 'Download the signed copy') : '');
      ok += 1;
    } catch (err) {
      item.classList.add('error');
      item.dataset.state = 'error';
      item.replaceChildren(h('code', {}, file.name), `: not signed: ${message(err)}`);
    }
  }
  status('sign-status', `Signed ${ok} of ${files.length}.`, ok < files.length);
});

readKeys();
