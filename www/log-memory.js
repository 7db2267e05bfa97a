// What this browser saw of each release log (the CLI's logs.json, cli/logstate.rs): IndexedDB
// database 'wheelsig', store 'logs', origin → {note, size, stored_at}: the largest verified
// checkpoint note of that log, and its tree size (as the report said when it was stored); and
// store 'log_keys', origin → {vkey, first_seen}: the log key used on first use for a log the
// witness policy does not list (from its key site's log/vkey). Comparing and choosing are the
// wasm's job (log_compare, and verify_wheel's remembered_log_key); this file only keeps them.
const DB = 'wheelsig';
const STORE = 'logs';
const KEYS = 'log_keys';

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 2);
    req.onupgradeneeded = () => {
      for (const name of [STORE, KEYS]) {
        if (!req.result.objectStoreNames.contains(name)) req.result.createObjectStore(name);
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('the log memory (IndexedDB) is blocked by another tab'));
  }).catch((err) => {
    opening = null;
    throw err;
  });
  return opening;
}

function run(mode, fn, store = STORE) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const req = fn(tx.objectStore(store));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('IndexedDB transaction aborted'));
  }));
}

/** The remembered checkpoint of `origin`: {note, size}, or null (also for a malformed entry). */
export async function seenCheckpoint(origin) {
  const v = await run('readonly', (s) => s.get(origin));
  return v && typeof v.note === 'string' && Number.isSafeInteger(v.size) ? { note: v.note, size: v.size } : null;
}

/** Remember `note` (verified, size `size`) as the largest checkpoint seen of `origin`. */
export function rememberCheckpoint(origin, note, size) {
  return run('readwrite', (s) => s.put({ note, size, stored_at: new Date().toISOString() }, origin));
}

/** The log key remembered for `origin` on first use (vkey text), or null. */
export async function rememberedLogKey(origin) {
  const v = await run('readonly', (s) => s.get(origin), KEYS);
  return v && typeof v.vkey === 'string' ? v.vkey : null;
}

/** Remember `vkey` as `origin`'s log key (first use; never replaces one). */
export async function rememberLogKey(origin, vkey) {
  if (await rememberedLogKey(origin)) return;
  await run('readwrite', (s) => s.put({ vkey, first_seen: new Date().toISOString() }, origin), KEYS);
}

/** Every log this browser remembers: [{origin, size, stored_at, note, vkey, key_first_seen}], by origin. */
export async function listLogs() {
  const all = async (store) => {
    const [keys, values] = await Promise.all([run('readonly', (s) => s.getAllKeys(), store), run('readonly', (s) => s.getAll(), store)]);
    return new Map(keys.map((k, i) => [String(k), values[i]]));
  };
  const [logs, keys] = await Promise.all([all(STORE), all(KEYS)]);
  const origins = [...new Set([...logs.keys(), ...keys.keys()])].sort();
  return origins.map((origin) => {
    const l = logs.get(origin);
    const k = keys.get(origin);
    return {
      origin,
      size: Number.isSafeInteger(l?.size) ? l.size : null,
      stored_at: typeof l?.stored_at === 'string' ? l.stored_at : null,
      note: typeof l?.note === 'string' ? l.note : null,
      vkey: typeof k?.vkey === 'string' ? k.vkey : null,
      key_first_seen: typeof k?.first_seen === 'string' ? k.first_seen : null,
    };
  });
}

/** Forget everything remembered of `origin`'s log: its checkpoint and its first-use key. */
export async function forgetLog(origin) {
  await run('readwrite', (s) => s.delete(origin), STORE);
  await run('readwrite', (s) => s.delete(origin), KEYS);
}
