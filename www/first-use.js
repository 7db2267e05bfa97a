// Trust on first use in the browser: project → remembered key, kept in localStorage.
// Entries are passed to the wasm as `first_use` (SPEC.md, wasm API); `fingerprint` is extra,
// for showing the old key next to the new one when a key changes.
const KEY = 'wheelsig.first-use.v1';

export function loadFirstUse() {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

export function remember(project, entry) {
  const all = loadFirstUse();
  all[project] = {
    kid: entry.kid,
    jwk: entry.jwk ?? undefined,
    fingerprint: entry.fingerprint ?? undefined,
    first_seen: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
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
