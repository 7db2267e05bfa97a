// What this browser saw of each release log (the CLI's logs.json, cli/logstate.rs): IndexedDB
// database 'wheelsig', store 'logs', origin → {note, size}: the largest verified checkpoint
// note of that log, and its tree size (as the report said when it was stored). Comparing is
// the wasm's job (log_compare); this file only keeps notes.
const DB = 'wheelsig';
const STORE = 'logs';

let opening = null;

function open() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
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

function run(mode, fn) {
  return open().then((db) => new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = fn(tx.objectStore(STORE));
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
