// One worker client: starts the wasm worker lazily, runs one request at a time (queued), can
// cancel a verification (terminate and respawn), and lets the worker go after a minute idle.
const IDLE_MS = 60_000;

/**
 * The worker's URL, next to this module (so any page path can embed it). A worker script must
 * be same-origin with the page: when this module was loaded from another origin (a docs site
 * embedding the publisher's copy), start a same-origin blob module worker that imports the
 * real one; that needs the host to serve the files with CORS, as GitHub Pages does.
 */
function workerUrl() {
  const url = new URL('./worker.js', import.meta.url);
  if (url.origin === self.location.origin) return url;
  const source = `import ${JSON.stringify(url.href)};\n`;
  return URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
}

export class VerifierClient {
  #worker = null;
  #queue = [];
  #current = null;
  #idleTimer = null;
  #nextId = 1;
  #idleMs;

  constructor({ idleMs = IDLE_MS } = {}) {
    this.#idleMs = idleMs;
  }

  /** Whether a worker is running (for tests and diagnostics). */
  get running() {
    return this.#worker !== null;
  }

  /** Verify `file` (a File/Blob). Resolves with the report; rejects with {code, message}. */
  verify(file, input, { onProgress, signal } = {}) {
    return this.#enqueue({ type: 'verify', file, input }, onProgress, signal);
  }

  /** Sign `file` (a File): `{privateJwk, iat, keyUrl, embed}` → `{jws, embedded: Blob|null}`. */
  sign(file, options) {
    return this.#enqueue({ type: 'sign', file, ...options });
  }

  /** Call one of the wasm's small exports (parse_key_set, parse_wheel_filename, …). */
  call(fn, ...args) {
    return this.#enqueue({ type: 'call', fn, args });
  }

  #enqueue(message, onProgress, signal) {
    return new Promise((resolve, reject) => {
      const job = { id: this.#nextId++, message, onProgress, resolve, reject };
      if (signal) {
        if (signal.aborted) return reject(abortError());
        signal.addEventListener('abort', () => this.#cancel(job), { once: true });
      }
      this.#queue.push(job);
      this.#pump();
    });
  }

  #spawn() {
    if (this.#worker) return this.#worker;
    const url = workerUrl();
    this.#worker = new Worker(url, { type: 'module', name: 'wheelsig' });
    if (typeof url === 'string') setTimeout(() => URL.revokeObjectURL(url), 60_000);
    this.#worker.onmessage = (e) => this.#onMessage(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault?.();
      this.#fail({ code: 'worker', message: e.message || 'the verification worker failed to start' });
    };
    return this.#worker;
  }

  #pump() {
    if (this.#current || this.#queue.length === 0) return;
    clearTimeout(this.#idleTimer);
    this.#current = this.#queue.shift();
    const { id, message } = this.#current;
    this.#spawn().postMessage({ id, ...message });
  }

  #onMessage(msg) {
    const job = this.#current;
    if (!job || msg.id !== job.id) return;
    if (msg.type === 'progress') {
      job.onProgress?.(msg.done, msg.total);
      return;
    }
    this.#current = null;
    if (msg.type === 'result') job.resolve(msg.value);
    else job.reject(msg.error);
    this.#afterJob();
  }

  #fail(error) {
    const job = this.#current;
    this.#current = null;
    this.#terminate();
    if (job) job.reject(error);
    this.#afterJob();
  }

  #cancel(job) {
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      job.reject(abortError());
      return;
    }
    if (this.#current === job) {
      // wasm cannot be interrupted mid-call: stop the worker; the next job starts a new one.
      this.#current = null;
      this.#terminate();
      job.reject(abortError());
      this.#afterJob();
    }
  }

  #afterJob() {
    if (this.#queue.length) return this.#pump();
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.#terminate(), this.#idleMs);
  }

  #terminate() {
    this.#worker?.terminate();
    this.#worker = null;
  }
}

function abortError() {
  return { code: 'aborted', message: 'verification cancelled' };
}
