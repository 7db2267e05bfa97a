// One worker client: starts the wasm worker lazily, runs one verification at a time (queued),
// can cancel (terminate and respawn), and lets the worker go after a minute idle.
const IDLE_MS = 60_000;

export class VerifierClient {
  #worker = null;
  #queue = [];
  #current = null;
  #idleTimer = null;
  #nextId = 1;

  /** Verify `file` (a File/Blob). Resolves with the report; rejects with {code, message}. */
  verify(file, input, { onProgress, signal } = {}) {
    return new Promise((resolve, reject) => {
      const job = { id: this.#nextId++, file, input, onProgress, resolve, reject };
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
    this.#worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
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
    const { id, file, input } = this.#current;
    this.#spawn().postMessage({ id, type: 'verify', file, input });
  }

  #onMessage(msg) {
    const job = this.#current;
    if (!job || msg.id !== job.id) return;
    if (msg.type === 'progress') {
      job.onProgress?.(msg.done, msg.total);
      return;
    }
    this.#current = null;
    if (msg.type === 'result') job.resolve(msg.report);
    else job.reject(msg.error);
    this.#afterJob();
  }

  #fail(error) {
    const job = this.#current;
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
    this.#idleTimer = setTimeout(() => this.#terminate(), IDLE_MS);
  }

  #terminate() {
    this.#worker?.terminate();
    this.#worker = null;
  }
}

function abortError() {
  return { code: 'aborted', message: 'verification cancelled' };
}
