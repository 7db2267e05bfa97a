// Trust on first use in the browser, kept in localStorage:
// - 'wheelsig.first-use.v1': project → remembered key. Passed to the wasm as `first_use`
//   (SPEC.md, wasm API); `fingerprint` is for showing the old key next to the new one.
// - 'wheelsig.key-url-choices.v1': project → {key_url, chosen_at}, a key URL the user chose
//   on first use for that one project ("trust keys from <key URL> for <project>"). Each is
//   fetched and passed as a `chosen-key-url` key set covering that project only.
const KEY = 'wheelsig.first-use.v1';
const CHOICES = 'wheelsig.key-url-choices.v1';

// What the wasm boundary accepts in a first-use entry; it rejects anything else.
const MEMBERS = { kid: 'string', jwk: 'object', fingerprint: 'string', first_seen: 'string', key_url: 'string' };
// Shapes the boundary requires (PEP 508 project names, RFC 7638 base64url thumbprints): a
// stored entry that does not have them is left out rather than failing every verification.
const PROJECT = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;
const KID = /^[A-Za-z0-9_-]{43}$/;

function load(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Every stored first-use entry, as stored (for display). */
export function loadFirstUse() {
  return load(KEY);
}

/**
 * The stored first-use entries as the wasm's `first_use` input: only the allowed members, of
 * the right types, for well-formed project names and key ids. Old or hand-edited entries with
 * other members are stripped, not passed (the boundary rejects unknown fields).
 */
export function firstUseInput() {
  const out = {};
  for (const [project, entry] of Object.entries(load(KEY))) {
    if (!PROJECT.test(project) || !entry || typeof entry !== 'object' || typeof entry.kid !== 'string' || !KID.test(entry.kid)) continue;
    const clean = {};
    for (const [name, type] of Object.entries(MEMBERS)) {
      const v = entry[name];
      if (v !== undefined && v !== null && typeof v === type && !(type === 'object' && Array.isArray(v))) clean[name] = v;
    }
    out[project] = clean;
  }
  return out;
}

export function remember(project, entry) {
  const all = loadFirstUse();
  all[project] = {
    kid: entry.kid,
    jwk: entry.jwk ?? undefined,
    fingerprint: entry.fingerprint ?? undefined,
    first_seen: now(),
    key_url: entry.key_url ?? undefined,
  };
  localStorage.setItem(KEY, JSON.stringify(all));
  return all;
}

export function forget(project) {
  const all = loadFirstUse();
  delete all[project];
  localStorage.setItem(KEY, JSON.stringify(all));
  return all;
}

export function exportJson() {
  return JSON.stringify({ version: 1, projects: loadFirstUse() }, null, 2) + '\n';
}

/** Key URLs chosen on first use: {project: {key_url, chosen_at}}, well-formed entries only. */
export function loadKeyUrlChoices() {
  const out = {};
  for (const [project, c] of Object.entries(load(CHOICES))) {
    if (PROJECT.test(project) && c && typeof c.key_url === 'string') out[project] = { key_url: c.key_url, chosen_at: typeof c.chosen_at === 'string' ? c.chosen_at : null };
  }
  return out;
}

/** Remember the user's choice: trust keys from `keyUrl` (already checked) for `project` only. */
export function chooseKeyUrl(project, keyUrl) {
  const all = load(CHOICES);
  all[project] = { key_url: keyUrl, chosen_at: now() };
  localStorage.setItem(CHOICES, JSON.stringify(all));
  return all;
}

export function forgetKeyUrlChoice(project) {
  const all = load(CHOICES);
  delete all[project];
  localStorage.setItem(CHOICES, JSON.stringify(all));
  return all;
}
