// Types for <wheel-verify> (wheel-verify.js). The report is the wasm `verify_wheel` result
// (docs/SPEC.md, "JSON report") plus the three fields the worker adds.

/** The verdict on one wheel, best to worst: trusted, signed, unsigned, key-changed, untrusted, invalid. */
export type WheelVerdict = 'trusted' | 'signed' | 'unsigned' | 'untrusted' | 'key-changed' | 'invalid';

/** One thing wrong with a wheel: a stable code (`zip-*`, `record-*`, `sig-*`, `trust-*`, …), the member, a message. */
export interface WheelProblem {
  code: string;
  path: string | null;
  message: string;
}

/** The trust source that accepted a signature's key for the wheel's project. */
export interface WheelTrustedBy {
  kind: 'key-url' | 'key-file' | 'pin' | 'first-use' | 'chosen-key-url';
  /** The key URL, file, or a short description of the pin or first-use entry. */
  source: string;
}

/** One signature found on the wheel and what became of it. */
export interface WheelSignature {
  /** RFC 7638 thumbprint of the signing key (computed, not copied from the header). */
  kid: string | null;
  /** `SHA256:…` fingerprint of the raw public key. */
  fingerprint: string | null;
  alg: string | null;
  format: 'general' | 'flattened' | 'legacy';
  carrier: 'embedded' | 'detached';
  /** Where a detached signature came from (a file name or URL). */
  source: string | null;
  /** The signer-claimed signing time (Unix seconds). */
  iat: number | null;
  /** The signer's key URL hint: shown, never trusted by itself. */
  jku: string | null;
  jwk: Record<string, unknown> | null;
  valid: boolean;
  trusted_by: WheelTrustedBy | null;
  /** Set when the accepting key is listed as retired (Unix seconds). */
  retired: number | null;
}

/** One row of the members table. */
export interface WheelMember {
  path: string;
  size: number;
  status: 'ok' | 'mismatch' | 'unlisted' | 'missing' | 'exempt' | 'directory';
}

/** What the release log says about the wheel, when a witness policy is set and a proof was checked. */
export interface WheelLogReport {
  origin: string;
  index: number;
  tree_size: number;
  cosignatures: { name: string; time: number }[];
  quorum: boolean;
  /** When the quorum was met (Unix seconds). */
  witnessed: number | null;
  consistency: 'first-sighting' | 'consistent' | 'older-consistent' | 'split-view' | 'not-checked';
  /** Where the log's key came from: the witness policy, or the key site's log/vkey remembered on first use. */
  log_key: 'policy' | 'first-use';
}

/** `event.detail` of `wheel-verified`: everything verification found about one wheel. */
export interface WheelReport {
  file: string;
  verdict: WheelVerdict;
  /** Normalized project name (from the file name), if it parsed. */
  project: string | null;
  version: string | null;
  /** Members whose content was hashed and compared with RECORD. */
  files_checked: number;
  /** Hex SHA-256 of the whole file, when computed (`pypi-check`). */
  sha256: string | null;
  signatures: WheelSignature[];
  problems: WheelProblem[];
  members: WheelMember[];
  log?: WheelLogReport;
  /** Added by the page: wall time of the verification (all its workers), the largest worker's wasm memory, and what ran: `wheelsig <version> (wasm; <n> worker(s)[; SHA-256 of <k> members (<m> MiB) by WebCrypto])`. */
  elapsed_ms: number;
  wasm_memory_bytes: number | null;
  engine: string;
}

export interface WheelVerifyEventMap extends HTMLElementEventMap {
  /** One wheel is done; bubbles and is composed. */
  'wheel-verified': CustomEvent<WheelReport>;
}

/**
 * `<wheel-verify>`: drop Python wheels (and detached `.jws` signatures, or a folder), get a
 * verdict card per wheel. Configured by attributes only (it defines no properties for them):
 *
 * - `key-url`: the publisher's JWK Set (https; http only on loopback)
 * - `keys-url`: a dependency key list (as `wheelsig lock` writes)
 * - `project`: only accept wheels of this project
 * - `pypi-check` (boolean): compare each wheel's sha256 with PyPI's
 * - `witness-policy`: a C2SP tlog-policy URL; release log proofs are checked against it
 * - `require-logged` (boolean): with `witness-policy`, every wheel must be logged and witnessed
 * - `index-log`: an index log's URL (`wheelsig index-log`); every wheel is looked up in it by its
 *   sha256, and the report gains `index_log` (as `wheelsig verify --index-log`)
 * - `min-age`: with `index-log`, a file first witnessed there less than this long ago (`7d`) is not trusted
 * - `allow-loopback-in-lists` (boolean, testing only): allow http loopback `key_url`s in a key list
 * - `verdict` (set by the element): the worst verdict of the last batch
 */
export class WheelVerify extends HTMLElement {
  /** The wheelsig version of this widget (equal to the npm package's and the crate's). */
  static readonly version: string;
  static readonly observedAttributes: string[];
  connectedCallback(): void;
  attributeChangedCallback(name: string, old: string | null, value: string | null): void;
  addEventListener<K extends keyof WheelVerifyEventMap>(type: K, listener: (this: WheelVerify, ev: WheelVerifyEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof WheelVerifyEventMap>(type: K, listener: (this: WheelVerify, ev: WheelVerifyEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    'wheel-verify': WheelVerify;
  }
}
