// Module worker: owns the wasm. Reads the dropped File in slices (FileReaderSync over
// Blob.slice), so a multi-gigabyte wheel never sits in memory; posts progress and the report.
// Small calls (names, key sets) go through the same wasm so the page never re-implements them.
import init, * as wasm from './pkg/wheelsig.js';

const ready = init();
const CALLS = new Set(['parse_key_set', 'parse_wheel_filename', 'normalize_project', 'version', 'generate_key', 'read_private_key', 'signature_urls', 'check_key_url', 'proof_checkpoint', 'log_compare']);

self.onmessage = async (event) => {
  const { id, type } = event.data;
  try {
    const exports = await ready;
    if (type === 'verify') {
      self.postMessage({ id, type: 'result', value: verify(id, event.data, exports) });
    } else if (type === 'sign') {
      self.postMessage({ id, type: 'result', value: sign(event.data) });
    } else if (type === 'call' && CALLS.has(event.data.fn)) {
      self.postMessage({ id, type: 'result', value: wasm[event.data.fn](...event.data.args) });
    } else {
      throw { code: 'internal', message: `unknown request ${type}` };
    }
  } catch (error) {
    self.postMessage({ id, type: 'error', error: plainError(error) });
  }
};

/**
 * The wasm throws `Error` objects with a string `code`; structured clone keeps only an
 * Error's name and message, so post a plain `{code, message}` (and a site's `problems`).
 */
function plainError(error) {
  if (error && typeof error === 'object') {
    const out = { code: typeof error.code === 'string' ? error.code : 'internal', message: String(error.message ?? error) };
    if (Array.isArray(error.problems)) out.problems = JSON.parse(JSON.stringify(error.problems));
    return out;
  }
  return { code: 'internal', message: String(error) };
}

/** Sign `file` with a private JWK: the detached `.jws` text, and optionally a signed copy (a Blob). */
function sign({ file, privateJwk, iat, keyUrl, embed }) {
  const reader = new FileReaderSync();
  const readAt = (offset, length) => new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
  const jws = wasm.sign_detached(readAt, file.size, file.name, privateJwk, iat, keyUrl ?? undefined);
  let embedded = null;
  if (embed) {
    const chunks = [];
    wasm.sign_embedded(readAt, file.size, file.name, privateJwk, iat, keyUrl ?? undefined, (chunk) => chunks.push(chunk));
    embedded = new Blob(chunks, { type: 'application/zip' });
  }
  return { jws, embedded };
}

function verify(id, { file, input }, exports) {
  const reader = new FileReaderSync();
  const readAt = (offset, length) => new Uint8Array(reader.readAsArrayBuffer(file.slice(offset, offset + length)));
  let last = 0;
  const onProgress = (done, total) => {
    const now = performance.now();
    if (now - last > 50 || done === total) {
      last = now;
      self.postMessage({ id, type: 'progress', done, total });
    }
  };
  const started = performance.now();
  const report = wasm.verify_wheel(readAt, file.size, input, onProgress);
  report.elapsed_ms = performance.now() - started;
  report.wasm_memory_bytes = exports.memory?.buffer.byteLength ?? null;
  report.engine = `wheelsig ${wasm.version()} (wasm)`;
  return report;
}
