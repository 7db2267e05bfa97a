//! The wasm-bindgen binding: each export translates JS values in, calls the core, translates
//! the result out. No DOM, no workers, no closures kept: JavaScript owns all of that.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};

use js_sys::{Function, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::keys::{KeySet, PrivateKey};
use crate::trust::{FirstUse, TrustBuilder, TrustPolicy};
use crate::urls::Loopback;
use crate::verify::{
    verify_wheel as core_verify, DetachedSignature, FileDigest, LogInput, LogRequirement,
    VerifyInput,
};

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| into_error("internal", e))
}

/// A JS `Error` whose `code` property names what went wrong (`input`, `key-set`, `key-url`,
/// `io`, `sign`, `key`, `site`, …), so callers can branch without parsing messages.
fn into_error(code: &str, e: impl std::fmt::Display) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(code));
    err.into()
}

/// Install the panic hook once, so a bug shows as a readable error in the console instead of
/// `unreachable executed`. Called by every export.
fn hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(console_error_panic_hook::hook)));
}

/// A `Read + Seek` over a synchronous `readAt(offset, length) -> Uint8Array` callback
/// (the worker implements it with `FileReaderSync` over `Blob.slice`). Each call crosses into
/// JavaScript and allocates a fresh ArrayBuffer, so reads are served from a read-ahead window
/// of [`READ_AHEAD`] bytes: one call per window instead of one per small read.
struct JsReader<'a> {
    read_at: &'a Function,
    size: u64,
    pos: u64,
    window: Vec<u8>,
    window_start: u64,
    /// Where the caller will most likely stop reading (a unit's end): windows stop there,
    /// then shrink to [`READ_PAST`], so a small unit does not fetch megabytes it never reads.
    hint_end: u64,
}

/// Bytes fetched per `readAt` call past [`JsReader::hint_end`].
const READ_PAST: u64 = 64 << 10;

/// Bytes fetched per `readAt` call (bounded memory: one window at a time).
const READ_AHEAD: u64 = 16 << 20;

impl<'a> JsReader<'a> {
    fn new(read_at: &'a Function, size: f64) -> Result<Self, JsValue> {
        // File sizes are whole numbers below 2^53; anything else is a caller bug, not a wheel.
        if !(size.is_finite()
            && size >= 0.0
            && size.fract() == 0.0
            && size < 9_007_199_254_740_992.0)
        {
            return Err(into_error(
                "input",
                format!("size {size} is not a file size"),
            ));
        }
        Ok(JsReader {
            read_at,
            size: size as u64,
            pos: 0,
            window: Vec::new(),
            window_start: 0,
            hint_end: u64::MAX,
        })
    }

    fn fill(&mut self) -> io::Result<()> {
        let ahead = if self.pos < self.hint_end {
            self.hint_end - self.pos
        } else {
            READ_PAST
        };
        let want = READ_AHEAD.min(ahead).min(self.size - self.pos);
        let chunk = self
            .read_at
            .call2(
                &JsValue::NULL,
                &JsValue::from_f64(self.pos as f64),
                &JsValue::from_f64(want as f64),
            )
            .map_err(|e| io::Error::other(format!("readAt failed: {e:?}")))?;
        let array: Uint8Array = chunk
            .dyn_into()
            .map_err(|_| io::Error::other("readAt did not return a Uint8Array"))?;
        let n = (array.length() as u64).min(want) as usize;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "readAt returned no bytes",
            ));
        }
        self.window.resize(n, 0);
        array.subarray(0, n as u32).copy_to(&mut self.window);
        self.window_start = self.pos;
        Ok(())
    }
}

impl Read for JsReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let end = self.window_start + self.window.len() as u64;
        if self.pos < self.window_start || self.pos >= end {
            self.fill()?;
        }
        let at = (self.pos - self.window_start) as usize;
        let n = buf.len().min(self.window.len() - at);
        buf[..n].copy_from_slice(&self.window[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for JsReader<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        Ok(self.pos)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Named {
    name: String,
    text: String,
}

/// The kinds of key set the page can pass: typed, no fallback.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
enum KeySetKind {
    /// Fetched from a key URL the page or embedder configured.
    KeyUrl,
    /// A file or a dependency key list.
    KeyFile,
    /// A key URL the user chose on first use for `project` only.
    ChosenKeyUrl,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySetInput {
    source: String,
    kind: KeySetKind,
    text: String,
    #[serde(default)]
    project: Option<String>,
}

/// The verification input (docs/SPEC.md, "wasm API"). Unknown fields are errors: a misspelled
/// field must not silently drop trust.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    file_name: String,
    #[serde(default)]
    now: Option<f64>,
    #[serde(default)]
    detached: Vec<Named>,
    #[serde(default)]
    key_sets: Vec<KeySetInput>,
    #[serde(default)]
    pins: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    first_use: BTreeMap<String, FirstUse>,
    #[serde(default)]
    compute_sha256: bool,
    #[serde(default)]
    allow_loopback_in_lists: bool,
    #[serde(default)]
    log: Option<LogIn>,
}

/// The release log check (docs/SPEC.md "Release log (verify side)"): the user's witness
/// policy text, the release's tlog-proof when one was found, and whether it is required.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogIn {
    policy: String,
    #[serde(default)]
    proof: Option<Named>,
    #[serde(default)]
    require: bool,
    /// For a log the policy does not list: the log key this browser remembered for the
    /// proof's origin, and the one its key site serves (`log/vkey`), both vkey text.
    #[serde(default)]
    remembered_log_key: Option<String>,
    #[serde(default)]
    served_log_key: Option<String>,
}

/// Deserialize strictly. serde-wasm-bindgen reads only the fields a struct declares (so
/// `deny_unknown_fields` would never fire); going through `serde_json::Value` makes unknown
/// members errors, at every level.
fn strict<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    let json: serde_json::Value = serde_wasm_bindgen::from_value(value)
        .map_err(|e| into_error("input", format!("{what}: {e}")))?;
    serde_json::from_value(json).map_err(|e| into_error("input", format!("{what}: {e}")))
}

fn read_input(input: JsValue) -> Result<Input, JsValue> {
    strict(input, "verification input")
}

/// The trust policy, through the core's validating builder (the CLI uses the same one).
fn policy(input: &Input) -> Result<TrustPolicy, JsValue> {
    let mut b = TrustBuilder::new();
    let bad = |e: crate::trust::TrustError| into_error("key-set", e);
    for ks in &input.key_sets {
        match (ks.kind, &ks.project) {
            (KeySetKind::KeyUrl, None) => b.key_url(&ks.source, ks.text.as_bytes()).map_err(bad)?,
            (KeySetKind::KeyFile, None) => {
                b.key_file(&ks.source, ks.text.as_bytes()).map_err(bad)?
            }
            (KeySetKind::ChosenKeyUrl, Some(p)) => b
                .chosen_key_url(p, &ks.source, ks.text.as_bytes())
                .map_err(bad)?,
            (KeySetKind::ChosenKeyUrl, None) => {
                return Err(into_error(
                    "input",
                    format!("{}: a chosen-key-url set needs `project`", ks.source),
                ))
            }
            (_, Some(_)) => {
                return Err(into_error(
                    "input",
                    format!(
                        "{}: `project` applies to chosen-key-url sets only",
                        ks.source
                    ),
                ))
            }
        };
    }
    for (project, kids) in &input.pins {
        for kid in kids {
            b.pin(project, kid)
                .map_err(|e| into_error("input", format!("pins: {e}")))?;
        }
    }
    for (project, entry) in &input.first_use {
        b.first_use(project, entry.clone())
            .map_err(|e| into_error("input", format!("first_use: {e}")))?;
    }
    b.loopback_in_lists(if input.allow_loopback_in_lists {
        Loopback::Allow
    } else {
        Loopback::Deny
    });
    Ok(b.build())
}

fn unix_seconds(v: f64) -> Result<i64, JsValue> {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        Ok(v as i64)
    } else {
        Err(into_error(
            "input",
            format!("{v} is not a time in whole Unix seconds"),
        ))
    }
}

/// Verify a wheel read through `read_at(offset, length) → Uint8Array`; see docs/SPEC.md
/// ("wasm API") for `input` and the returned report.
#[wasm_bindgen]
pub fn verify_wheel(
    read_at: &Function,
    size: f64,
    input: JsValue,
    on_progress: &Function,
) -> Result<JsValue, JsValue> {
    hook();
    let core_input = core_input(&read_input(input)?)?;
    let reader = JsReader::new(read_at, size)?;
    let mut progress = |done: u64, total: u64| {
        let _ = on_progress.call2(
            &JsValue::NULL,
            &JsValue::from_f64(done as f64),
            &JsValue::from_f64(total as f64),
        );
    };
    let verified =
        core_verify(reader, &core_input, &mut progress).map_err(|e| into_error("io", e))?;
    report_out(&verified)
}

/// The core's input for a verification input (the trust builder, the log policy).
fn core_input(input: &Input) -> Result<VerifyInput, JsValue> {
    let trust = policy(input)?;
    let detached = input
        .detached
        .iter()
        .map(|d| DetachedSignature {
            source: d.name.clone(),
            bytes: d.text.as_bytes().to_vec(),
        })
        .collect();
    let log = match &input.log {
        None => None,
        Some(l) => Some(LogInput {
            policy: crate::log::policy::Policy::parse(&l.policy)
                .map_err(|e| into_error("policy", format!("witness policy: {e}")))?,
            proof: l
                .proof
                .as_ref()
                .map(|p| (p.name.clone(), p.text.as_bytes().to_vec())),
            require: if l.require {
                LogRequirement::Required
            } else {
                LogRequirement::IfPresent
            },
            log_key: (l.remembered_log_key.is_some() || l.served_log_key.is_some()).then(|| {
                crate::log::policy::LogKeyFirstUse {
                    remembered: l.remembered_log_key.clone(),
                    served: l.served_log_key.clone(),
                }
            }),
        }),
    };
    Ok(VerifyInput {
        log,
        file_name: input.file_name.clone(),
        detached,
        trust,
        file_digest: if input.compute_sha256 {
            FileDigest::Compute
        } else {
            FileDigest::IfNeeded
        },
        now: input.now.map(unix_seconds).transpose()?,
        ..VerifyInput::default()
    })
}

/// The report as JS, plus `new_log_key: {origin, vkey}` when a log key was used on first use
/// (for the caller to remember).
fn report_out(verified: &crate::verify::Verified) -> Result<JsValue, JsValue> {
    let out = to_js(&verified.report)?;
    if let Some((origin, vkey)) = &verified.new_log_key {
        let _ = js_sys::Reflect::set(
            &out,
            &JsValue::from_str("new_log_key"),
            &to_js(&serde_json::json!({ "origin": origin, "vkey": vkey }))?,
        );
    }
    Ok(out)
}

/// One wheel's verification plan (docs/SPEC.md "wasm API: one wheel on several workers"),
/// made from small reads (the end records, the central directory, RECORD, WHEEL, METADATA,
/// RECORD.jws) and kept by the worker that made it until [`WheelPlan::finish`]. Its units are
/// verified by [`MemberVerifier`]s in any workers, in any order.
#[wasm_bindgen]
pub struct WheelPlan {
    plan: Option<crate::verify::Plan>,
    input: VerifyInput,
}

#[wasm_bindgen]
impl WheelPlan {
    /// Plan the verification of the wheel `read_at` reads (`input` as for `verify_wheel`).
    #[wasm_bindgen(constructor)]
    pub fn new(read_at: &Function, size: f64, input: JsValue) -> Result<WheelPlan, JsValue> {
        hook();
        let input = core_input(&read_input(input)?)?;
        let mut reader = JsReader::new(read_at, size)?;
        let plan =
            crate::verify::Plan::new(&mut reader, &input).map_err(|e| into_error("io", e))?;
        Ok(WheelPlan {
            plan: Some(plan),
            input,
        })
    }

    /// The units for `parts` workers: `{units: [{start, end, offset, end_offset, cost,
    /// digested, largest, big}], needs_file_digest, entries}`; `digested` is the declared bytes
    /// of the unit's members RECORD asks a digest of, `largest` the biggest of them, `big` the
    /// bytes of those at least `big_min` bytes. No units when reading already stopped (finish
    /// with none).
    pub fn units(&self, parts: u32, big_min: f64) -> Result<JsValue, JsValue> {
        let plan = self
            .plan
            .as_ref()
            .ok_or_else(|| into_error("input", "the plan is finished"))?;
        #[derive(Serialize)]
        struct Unit {
            start: usize,
            end: usize,
            offset: u64,
            end_offset: u64,
            cost: u64,
            digested: u64,
            largest: u64,
            big: u64,
        }
        #[derive(Serialize)]
        struct Out {
            units: Vec<Unit>,
            needs_file_digest: bool,
            entries: usize,
        }
        let units = plan.work().map_or_else(Vec::new, |w| {
            w.units(parts as usize)
                .into_iter()
                .map(|r| {
                    let (offset, end_offset) = w.span(r.clone());
                    let sizes = || {
                        r.clone()
                            .filter(|&i| w.alg(i).is_some())
                            .map(|i| w.entries()[i].uncompressed_size)
                    };
                    Unit {
                        start: r.start,
                        end: r.end,
                        offset,
                        end_offset,
                        cost: w.cost(r.clone()),
                        digested: sizes().sum(),
                        largest: sizes().max().unwrap_or(0),
                        big: sizes().filter(|&s| s as f64 >= big_min).sum(),
                    }
                })
                .collect()
        });
        to_js(&Out {
            units,
            needs_file_digest: plan.needs_file_digest(),
            entries: plan.work().map_or(0, |w| w.len()),
        })
    }

    /// The members' work ([`MemberVerifier`]'s input), or `undefined` when reading stopped.
    pub fn work(&self) -> Option<Vec<u8>> {
        self.plan
            .as_ref()
            .and_then(|p| p.work())
            .map(|w| w.to_bytes())
    }

    /// Merge the units' outputs (`MemberVerifier.verify`'s bytes, any order), the digests of
    /// members hashed outside the wasm (`[[index, Uint8Array]]`) and the file's SHA-256 (when
    /// `units().needs_file_digest`) into the report `verify_wheel` would give. Once.
    pub fn finish(
        &mut self,
        units: Vec<Uint8Array>,
        digests: js_sys::Array,
        file_sha256: Option<Vec<u8>>,
    ) -> Result<JsValue, JsValue> {
        let plan = self
            .plan
            .take()
            .ok_or_else(|| into_error("input", "the plan is finished"))?;
        let units = units
            .iter()
            .map(|u| {
                crate::verify::UnitOutput::from_bytes(&u.to_vec())
                    .map_err(|e| into_error("input", format!("unit: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut map = std::collections::HashMap::new();
        for pair in digests.iter() {
            let pair: js_sys::Array = pair
                .dyn_into()
                .map_err(|_| into_error("input", "digests: [[index, Uint8Array]]"))?;
            let index = pair
                .get(0)
                .as_f64()
                .filter(|i| i.fract() == 0.0 && *i >= 0.0)
                .ok_or_else(|| into_error("input", "digests: index"))?;
            let bytes: Uint8Array = pair
                .get(1)
                .dyn_into()
                .map_err(|_| into_error("input", "digests: Uint8Array"))?;
            map.insert(index as usize, bytes.to_vec());
        }
        let sha256 = match file_sha256 {
            None => None,
            Some(d) => Some(
                <[u8; 32]>::try_from(d.as_slice())
                    .map_err(|_| into_error("input", "file_sha256: 32 bytes"))?,
            ),
        };
        let verified = plan
            .finish(&self.input, units, &map, sha256)
            .map_err(|e| into_error("io", e))?;
        report_out(&verified)
    }
}

/// Verifies units of one plan's members in any worker (docs/SPEC.md "wasm API").
#[wasm_bindgen]
pub struct MemberVerifier {
    work: crate::verify::Work,
}

#[wasm_bindgen]
impl MemberVerifier {
    /// From `WheelPlan.work()`'s bytes.
    #[wasm_bindgen(constructor)]
    pub fn new(work: &[u8]) -> Result<MemberVerifier, JsValue> {
        hook();
        let work = crate::verify::Work::from_bytes(work)
            .map_err(|e| into_error("input", format!("work: {e}")))?;
        Ok(MemberVerifier { work })
    }

    /// Verify entries `start..end` (a unit of `WheelPlan.units`), reading through `read_at`.
    /// `external(index, size, alg)` may return a `Uint8Array` of exactly `size` bytes (the
    /// member's content is then copied into it) or `true` for a member of at most 8 MiB (its
    /// content is gathered in wasm memory); `ended(index, intact, length, ptr)` is called after
    /// its checks, `ptr` the content's offset in the wasm memory when gathered there (valid
    /// during that call only). The caller hashes it (`alg` is `sha256`, `sha384` or `sha512`)
    /// when intact and passes the digest to `WheelPlan.finish`. Returns the unit's output.
    #[allow(clippy::too_many_arguments)] // positional, as JavaScript calls it
    pub fn verify(
        &self,
        read_at: &Function,
        size: f64,
        start: u32,
        end: u32,
        external: Option<Function>,
        ended: Option<Function>,
        on_progress: &Function,
    ) -> Result<Vec<u8>, JsValue> {
        let (start, end) = (start as usize, end as usize);
        if start > end || end > self.work.len() {
            return Err(into_error(
                "input",
                format!("units {start}..{end} of {}", self.work.len()),
            ));
        }
        let (_, hint) = self.work.span(start..end);
        let mut reader = JsReader::new(read_at, size)?;
        reader.hint_end = hint;
        let mut hooks = JsHooks {
            external,
            ended,
            dest: None,
            gathered: Vec::new(),
            on_progress,
            last: 0,
        };
        Ok(crate::verify::verify_members(reader, &self.work, start..end, &mut hooks).to_bytes())
    }
}

/// The JS side of a unit: progress, and members hashed outside the wasm.
struct JsHooks<'a> {
    external: Option<Function>,
    ended: Option<Function>,
    /// The external member being read: its index and where its content goes.
    dest: Option<(usize, Dest)>,
    /// Content gathered in wasm memory (reused from member to member).
    gathered: Vec<u8>,
    on_progress: &'a Function,
    last: u64,
}

/// Where an external member's content goes.
enum Dest {
    /// A JS buffer of exactly its declared size, and the bytes written so far.
    Js(Uint8Array, u32),
    /// [`JsHooks::gathered`]: `ended` then gets a pointer into wasm memory, valid during the
    /// call (the caller digests it there, and WebCrypto copies it before returning).
    Wasm,
}

/// The most a member may gather in wasm memory (the worker's wasm stays under 64 MiB).
const GATHER_MAX: u64 = 8 << 20;

impl crate::verify::UnitHooks for JsHooks<'_> {
    fn progress(&mut self, done: u64) {
        if done != self.last {
            self.last = done;
            let _ = self
                .on_progress
                .call1(&JsValue::NULL, &JsValue::from_f64(done as f64));
        }
    }
    fn external(&mut self, index: usize, size: u64, alg: crate::record::HashAlg) -> bool {
        let Some(f) = &self.external else {
            return false;
        };
        let Ok(size32) = u32::try_from(size) else {
            return false;
        };
        let name = match alg {
            crate::record::HashAlg::Sha256 => "sha256",
            crate::record::HashAlg::Sha384 => "sha384",
            crate::record::HashAlg::Sha512 => "sha512",
        };
        let got = f
            .call3(
                &JsValue::NULL,
                &JsValue::from_f64(index as f64),
                &JsValue::from_f64(size as f64),
                &JsValue::from_str(name),
            )
            .unwrap_or(JsValue::UNDEFINED);
        if got.as_bool() == Some(true) && size <= GATHER_MAX {
            self.gathered.clear();
            self.gathered.reserve(size32 as usize);
            self.dest = Some((index, Dest::Wasm));
            return true;
        }
        match got
            .dyn_into::<Uint8Array>()
            .ok()
            .filter(|a| a.length() == size32)
        {
            Some(a) => {
                self.dest = Some((index, Dest::Js(a, 0)));
                true
            }
            None => false,
        }
    }
    fn content(&mut self, index: usize, chunk: &[u8]) {
        match &mut self.dest {
            Some((i, Dest::Js(dest, at))) if *i == index => {
                let end = at.saturating_add(chunk.len() as u32).min(dest.length());
                dest.subarray(*at, end)
                    .copy_from(&chunk[..(end - *at) as usize]);
                *at = end;
            }
            Some((i, Dest::Wasm)) if *i == index => self.gathered.extend_from_slice(chunk),
            _ => {}
        }
    }
    fn member(&mut self, index: usize, intact: bool) {
        let Some((i, dest)) = self.dest.take_if(|(i, _)| *i == index) else {
            return;
        };
        let (ptr, len) = match dest {
            Dest::Js(_, at) => (0.0, f64::from(at)),
            Dest::Wasm => (
                self.gathered.as_ptr() as usize as f64,
                self.gathered.len() as f64,
            ),
        };
        if let Some(f) = &self.ended {
            let args = js_sys::Array::of4(
                &JsValue::from_f64(i as f64),
                &JsValue::from_bool(intact),
                &JsValue::from_f64(len),
                &JsValue::from_f64(ptr),
            );
            let _ = f.apply(&JsValue::NULL, &args);
        }
        self.gathered.clear();
        if self.gathered.capacity() as u64 > GATHER_MAX {
            self.gathered = Vec::new();
        }
    }
}

/// SHA-256 of the whole file read through `read_at` (a worker's share when a detached
/// signature needs the file's digest); `on_progress(done)` every few MB.
#[wasm_bindgen]
pub fn file_sha256(
    read_at: &Function,
    size: f64,
    on_progress: &Function,
) -> Result<Vec<u8>, JsValue> {
    hook();
    struct Counting<'a> {
        r: JsReader<'a>,
        progress: &'a Function,
        last: u64,
    }
    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.r.read(buf)?;
            if self.r.pos - self.last >= 4 << 20 || n == 0 {
                self.last = self.r.pos;
                let _ = self
                    .progress
                    .call1(&JsValue::NULL, &JsValue::from_f64(self.r.pos as f64));
            }
            Ok(n)
        }
    }
    let r = JsReader::new(read_at, size)?;
    let digest = crate::verify::file_sha256(Counting {
        r,
        progress: on_progress,
        last: 0,
    })
    .map_err(|e| into_error("io", e))?;
    Ok(digest.to_vec())
}

/// Where a detached signature of `input.file_name` may be published: only the sites of trust
/// sources that cover its project (the same rule as `wheelsig verify`). Returns
/// `{urls: [string], warnings: [string]}`; `input` has `verify_wheel`'s shape.
#[wasm_bindgen]
pub fn signature_urls(input: JsValue) -> Result<JsValue, JsValue> {
    hook();
    let input = read_input(input)?;
    let trust = policy(&input)?;
    #[derive(Serialize)]
    struct Out {
        urls: Vec<String>,
        warnings: Vec<String>,
    }
    let Ok(name) = crate::names::parse_wheel_filename(&input.file_name) else {
        return to_js(&Out {
            urls: Vec::new(),
            warnings: Vec::new(),
        });
    };
    let (urls, warnings) = trust.signature_urls(&name.project, &input.file_name);
    to_js(&Out {
        urls: urls.into_iter().map(String::from).collect(),
        warnings,
    })
}

/// Check a key URL (https anywhere, plain http only on loopback), resolved against `base` (the
/// page's address) when given; returns the normalized URL, throws an `Error` with code `key-url`.
#[wasm_bindgen]
pub fn check_key_url(text: &str, base: Option<String>) -> Result<String, JsValue> {
    hook();
    let base = base
        .map(|b| url::Url::parse(&b))
        .transpose()
        .map_err(|e| into_error("key-url", format!("base URL: {e}")))?;
    crate::urls::check_key_url_relative(text, base.as_ref(), Loopback::Allow)
        .map(String::from)
        .map_err(|e| into_error("key-url", e))
}

/// Escape text for display (docs/SPEC.md "Output escaping"); the widget has a JS twin run
/// against the same vectors.
#[wasm_bindgen]
pub fn escape_text(text: &str) -> String {
    crate::display::escape(text).into_owned()
}

/// Parse and check a JWK Set; returns `{keys:[{kid,fingerprint,x,projects,exp,key_url}]}`.
#[wasm_bindgen]
pub fn parse_key_set(text: &str, source: &str) -> Result<JsValue, JsValue> {
    hook();
    let set = KeySet::parse(text.as_bytes())
        .map_err(|e| into_error("key-set", format!("{source}: {e}")))?;
    #[derive(Serialize)]
    struct Key {
        kid: String,
        fingerprint: String,
        x: String,
        projects: Option<Vec<String>>,
        exp: Option<i64>,
        key_url: Option<String>,
    }
    #[derive(Serialize)]
    struct Keys {
        keys: Vec<Key>,
    }
    let keys = set
        .keys
        .iter()
        .map(|k| Key {
            kid: k.key.kid(),
            fingerprint: k.key.fingerprint(),
            x: k.key.x(),
            projects: k.projects.clone(),
            exp: k.exp,
            key_url: k.key_url.clone(),
        })
        .collect();
    to_js(&Keys { keys })
}

/// PEP 503 normalization.
#[wasm_bindgen]
pub fn normalize_project(name: &str) -> String {
    crate::names::normalize_project(name)
}

/// Parse a wheel file name; throws `{code:"wheel-bad-filename", message}`.
#[wasm_bindgen]
pub fn parse_wheel_filename(name: &str) -> Result<JsValue, JsValue> {
    let parsed = crate::names::parse_wheel_filename(name)
        .map_err(|e| into_error("wheel-bad-filename", e))?;
    to_js(&parsed)
}

/// Generate an Ed25519 key with the browser's `crypto.getRandomValues`; returns
/// `{private_jwk, public_jwk, kid, fingerprint}`.
#[wasm_bindgen]
pub fn generate_key() -> Result<JsValue, JsValue> {
    let key = PrivateKey::generate().map_err(|e| into_error("random", e))?;
    key_info(&key)
}

/// Read a private JWK (as `wheelsig keygen` or `generate_key` wrote it); returns the same
/// `{private_jwk, public_jwk, kid, fingerprint}`; throws `{code: "key", message}`.
#[wasm_bindgen]
pub fn read_private_key(private_jwk: &str) -> Result<JsValue, JsValue> {
    let key =
        PrivateKey::from_jwk_text(private_jwk.as_bytes()).map_err(|e| into_error("key", e))?;
    key_info(&key)
}

fn key_info(key: &PrivateKey) -> Result<JsValue, JsValue> {
    #[derive(Serialize)]
    struct Info {
        private_jwk: String,
        public_jwk: serde_json::Value,
        kid: String,
        fingerprint: String,
    }
    let listed = crate::keys::ListedKey {
        key: *key.public(),
        projects: None,
        exp: None,
        key_url: None,
    };
    to_js(&Info {
        private_jwk: key.to_jwk_text(),
        public_jwk: listed.to_jwk(),
        kid: key.public().kid(),
        fingerprint: key.public().fingerprint(),
    })
}

/// Sign a wheel (read through `read_at`) with a private JWK; returns the detached `.jws` text.
/// The wheel must verify first (the core's verify-then-sign). `iat` is the signing time in
/// Unix seconds.
#[wasm_bindgen]
pub fn sign_detached(
    read_at: &Function,
    size: f64,
    file_name: &str,
    private_jwk: &str,
    iat: f64,
    key_url: Option<String>,
) -> Result<String, JsValue> {
    hook();
    let key =
        PrivateKey::from_jwk_text(private_jwk.as_bytes()).map_err(|e| into_error("key", e))?;
    crate::sign::verify_and_sign_detached(
        JsReader::new(read_at, size)?,
        file_name,
        &key,
        unix_seconds(iat)?,
        key_url.as_deref(),
    )
    .map_err(|e| into_error("sign", e))
}

/// Output written to a JS callback `write(Uint8Array)` in chunks (the page collects them
/// into a Blob), so a signed copy never sits whole in wasm memory.
struct JsWriter<'a> {
    write: &'a Function,
    buf: Vec<u8>,
}

impl JsWriter<'_> {
    const CHUNK: usize = 1 << 20;

    fn flush_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // A copy: the callback may keep the chunk after wasm memory grows.
        let chunk = Uint8Array::from(self.buf.as_slice());
        self.write
            .call1(&JsValue::NULL, &chunk)
            .map_err(|e| io::Error::other(format!("write failed: {e:?}")))?;
        self.buf.clear();
        Ok(())
    }
}

impl io::Write for JsWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::CHUNK {
            self.flush_buf()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_buf()
    }
}

/// Write a copy of the wheel with `<dist-info>/RECORD.jws` appended (what `wheelsig sign
/// --embed` writes), as chunks passed to `write(Uint8Array)`. The wheel must verify first.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn sign_embedded(
    read_at: &Function,
    size: f64,
    file_name: &str,
    private_jwk: &str,
    iat: f64,
    key_url: Option<String>,
    write: &Function,
) -> Result<(), JsValue> {
    use std::io::Write as _;
    hook();
    let key =
        PrivateKey::from_jwk_text(private_jwk.as_bytes()).map_err(|e| into_error("key", e))?;
    let mut out = JsWriter {
        write,
        buf: Vec::with_capacity(JsWriter::CHUNK),
    };
    crate::sign::verify_and_embed(
        JsReader::new(read_at, size)?,
        file_name,
        &key,
        unix_seconds(iat)?,
        key_url.as_deref(),
        &mut out,
    )
    .map_err(|e| into_error("sign", e))?;
    out.flush().map_err(|e| into_error("io", e))
}

/// Check a key site's sources and render it (the template's Node generator calls this; the
/// native `wheelsig site build` runs the same code). `releases` is `[{path, text}]` (the `.jws`
/// and `.tlog-proof` files under `releases/`); `log` (optional) is `[{path, base64}]`, every
/// file under `log/` but `witnessed.json`, bytes in standard base64; `previous` (optional) the
/// checkpoint that is live now, which the log must extend. Returns `{files: [[path, text]],
/// keys, releases, log}`; throws `{code: "site", message, problems}`.
#[wasm_bindgen]
pub fn build_site(
    config: &str,
    keys: &str,
    releases: JsValue,
    log: JsValue,
    previous: Option<String>,
    audit: Option<String>,
) -> Result<JsValue, JsValue> {
    hook();
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct In {
        path: String,
        text: String,
    }
    let list: Vec<In> = strict(releases, "releases")?;
    let files: Vec<crate::site::SourceFile> = list
        .into_iter()
        .map(|r| crate::site::SourceFile {
            path: r.path,
            bytes: r.text.into_bytes(),
        })
        .collect();
    let log_files = site_log_files(log)?;
    match crate::site::build_with_log(
        config.as_bytes(),
        keys.as_bytes(),
        &files,
        &log_files,
        previous.as_deref().map(str::as_bytes),
        audit.as_deref().map(str::as_bytes),
        env!("CARGO_PKG_VERSION"),
    ) {
        Ok(site) => {
            #[derive(Serialize)]
            struct Out<'a> {
                files: &'a [(String, String)],
                keys: usize,
                releases: &'a [crate::site::Release],
                log: Option<&'a crate::site::LogSummary>,
                audit: Option<&'a crate::audit::AuditReport>,
            }
            to_js(&Out {
                files: &site.files,
                keys: site.keys.keys.len(),
                releases: &site.releases,
                log: site.log.as_ref(),
                audit: site.audit.as_ref(),
            })
        }
        Err(problems) => {
            let message = problems
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            let err = into_error("site", message);
            let _ = js_sys::Reflect::set(&err, &JsValue::from_str("problems"), &to_js(&problems)?);
            Err(err)
        }
    }
}

/// A key site's `log/` files as `[{path, base64}]` (paths relative to the site root); absent
/// means none.
fn site_log_files(log: JsValue) -> Result<Vec<crate::site::SourceFile>, JsValue> {
    use base64::Engine as _;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct LogIn {
        path: String,
        base64: String,
    }
    let list: Vec<LogIn> = if log.is_undefined() || log.is_null() {
        Vec::new()
    } else {
        strict(log, "log")?
    };
    list.into_iter()
        .map(|f| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&f.base64)
                .map_err(|e| into_error("input", format!("log: {}: not base64: {e}", f.path)))?;
            Ok(crate::site::SourceFile {
                path: f.path,
                bytes,
            })
        })
        .collect()
}

/// What an audit of a key site against a package index fetches (`wheelsig audit`'s plan, for
/// the template's `tools/audit-site.mjs`): `{key_url, accept, projects: [{project, url}]}`,
/// each project's page URL under `index` and the `Accept` header to ask with. Throws code
/// `input` (releases.json) or `index` (the index URL).
#[wasm_bindgen]
pub fn audit_plan(releases_json: &str, index: &str) -> Result<JsValue, JsValue> {
    hook();
    let site = crate::audit::parse_releases_json(releases_json.as_bytes())
        .map_err(|e| into_error("input", e))?;
    let index = audit_index(index)?;
    #[derive(Serialize)]
    struct Page {
        project: String,
        url: String,
    }
    #[derive(Serialize)]
    struct Plan {
        key_url: String,
        accept: &'static str,
        projects: Vec<Page>,
    }
    let mut projects = Vec::with_capacity(site.projects.len());
    for p in &site.projects {
        let url = crate::index::project_url(&index, p).map_err(|e| into_error("index", e))?;
        projects.push(Page {
            project: p.clone(),
            url: url.to_string(),
        });
    }
    to_js(&Plan {
        key_url: site.key_url,
        accept: crate::index::ACCEPT,
        projects,
    })
}

fn audit_index(index: &str) -> Result<url::Url, JsValue> {
    let url = url::Url::parse(index)
        .map_err(|e| into_error("index", format!("{}: {e}", crate::display::escape(index))))?;
    crate::index::check_index_url(&url).map_err(|e| into_error("index", e))?;
    Ok(url)
}

/// Audit a key site against a package index (docs/SPEC.md "Audit"): `releases_json` is the
/// site's releases.json, `input` is `{index, checked_at, pages: {project: page}}` with a page
/// per project of [`audit_plan`]: `{url, body, content_type}` (`body` base64, `url` where the
/// page finally came from), `{url, missing: true}` (404/410) or `{url, error}` (it could not be
/// fetched). Returns the report (`wheelsig audit --json`); a page that could not be fetched or
/// parsed gives a report with `error` set. Throws code `input` or `index` on bad input.
#[wasm_bindgen]
pub fn audit_site(releases_json: &str, input: JsValue) -> Result<JsValue, JsValue> {
    use crate::audit::{audit, AuditReport, Context, Listing};
    use base64::Engine as _;
    hook();
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PageIn {
        url: String,
        #[serde(default)]
        body: Option<String>,
        #[serde(default)]
        content_type: Option<String>,
        #[serde(default)]
        missing: bool,
        #[serde(default)]
        error: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct AuditIn {
        index: String,
        checked_at: f64,
        pages: BTreeMap<String, PageIn>,
    }
    let site = crate::audit::parse_releases_json(releases_json.as_bytes())
        .map_err(|e| into_error("input", e))?;
    let input: AuditIn = strict(input, "audit input")?;
    audit_index(&input.index)?;
    let ctx = Context {
        key_url: &site.key_url,
        index: &input.index,
        checked_at: unix_seconds(input.checked_at)?,
    };
    let mut listings = BTreeMap::new();
    let mut errors = Vec::new();
    for project in &site.projects {
        let page = input.pages.get(project).ok_or_else(|| {
            into_error(
                "input",
                format!("audit input: no page for project {project}"),
            )
        })?;
        let at = url::Url::parse(&page.url)
            .map_err(|e| into_error("input", format!("audit input: {project}: url: {e}")))?;
        match (&page.error, page.missing, &page.body) {
            (Some(e), false, None) => errors.push(format!("{}: {e}", page.url)),
            (None, true, None) => {
                listings.insert(project.clone(), Listing::NotFound { page: page.url.clone() });
            }
            (None, false, Some(body)) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(body).map_err(|e| into_error("input", format!("audit input: {project}: body: not base64: {e}")))?;
                match crate::index::parse_project_page(&bytes, page.content_type.as_deref().unwrap_or(""), &at) {
                    Ok(files) => {
                        listings.insert(project.clone(), Listing::Files { page: page.url.clone(), files });
                    }
                    Err(e) => errors.push(format!("{}: {e}", page.url)),
                }
            }
            _ => return Err(into_error("input", format!("audit input: {project}: a page is {{url, body, content_type}}, {{url, missing: true}} or {{url, error}}"))),
        }
    }
    let report = if errors.is_empty() {
        audit(ctx, &site, &listings)
    } else {
        AuditReport::failed(ctx, &errors.join("; "))
    };
    to_js(&report)
}

/// The one-line `PASS: …` / `FAIL: …` summary of an audit report (its JSON text), as
/// `wheelsig audit` prints it (not yet escaped). Throws code `input` when it is not a report.
#[wasm_bindgen]
pub fn audit_summary(report_json: &str) -> Result<String, JsValue> {
    hook();
    crate::audit::AuditReport::parse(report_json.as_bytes())
        .map(|r| r.summary_line())
        .map_err(|e| into_error("input", e))
}

/// One cosigning round of a key site's log (`wheelsig site cosign`'s protocol, from the core's
/// `log::cosign`), for an edge that does the HTTP itself (the template's
/// `tools/cosign-site.mjs`): `next_request()` says what to POST where, `answer()` takes what
/// came back, `finish()` gives the files to write once every witness cosigned.
#[wasm_bindgen]
pub struct SiteCosign {
    round: crate::log::cosign::Round,
}

#[wasm_bindgen]
impl SiteCosign {
    /// `config` is site.json; `log` every file under `log/` as `[{path, base64}]`
    /// (`log/checkpoint` and the entry bundles are read); `witnessed` is `log/witnessed.json`
    /// if there is one. Throws an `Error` with code `input` or `cosign`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: &str,
        log: JsValue,
        witnessed: Option<String>,
    ) -> Result<SiteCosign, JsValue> {
        hook();
        let config = crate::site::Config::parse(config.as_bytes())
            .map_err(|e| into_error("cosign", format!("site.json: {e}")))?;
        let files = site_log_files(log)?;
        let get = |p: &str| files.iter().find(|f| f.path == p).map(|f| f.bytes.clone());
        let checkpoint = get("log/checkpoint").ok_or_else(|| {
            into_error(
                "cosign",
                "log/checkpoint: missing (`wheelsig site publish` writes it)",
            )
        })?;
        let round = crate::site::cosign_round(
            &config,
            &checkpoint,
            &mut |p| get(&format!("log/{p}")),
            witnessed.as_deref().map(str::as_bytes),
        )
        .map_err(|e| into_error("cosign", e))?;
        Ok(SiteCosign { round })
    }

    /// The origin and size of the checkpoint being cosigned: `{origin, size}`.
    pub fn checkpoint(&self) -> Result<JsValue, JsValue> {
        let cp = self.round.checkpoint();
        to_js(&serde_json::json!({ "origin": cp.origin, "size": cp.size }))
    }

    /// Whether `log/checkpoint` already carries a valid cosignature by every witness; then
    /// `finish_given()` gives the files to write without asking anyone.
    pub fn already_cosigned(&self) -> bool {
        self.round.already_cosigned().is_some()
    }

    /// The new `.tlog-proof` files for the checkpoint as given (see `already_cosigned`):
    /// `[[path, text]]`.
    pub fn finish_given(&self, existing: Vec<String>) -> Result<JsValue, JsValue> {
        let note = self.round.already_cosigned().ok_or_else(|| {
            into_error("cosign", "log/checkpoint is not cosigned by every witness")
        })?;
        let existing: std::collections::BTreeSet<String> = existing.into_iter().collect();
        to_js(
            &crate::site::new_proofs(self.round.log(), note, &|p: &str| existing.contains(p))
                .map_err(|e| into_error("cosign", e))?,
        )
    }

    /// The next request: `{witness, url, body}` to POST (`text/plain; charset=utf-8`), or null
    /// when every witness has answered.
    pub fn next_request(&self) -> Result<JsValue, JsValue> {
        match self.round.next_request() {
            None => Ok(JsValue::NULL),
            Some(r) => {
                to_js(&serde_json::json!({ "witness": r.witness, "url": r.url, "body": r.body }))
            }
        }
    }

    /// What witness `witness` answered: `status` and `body`, or `error` (unreachable).
    pub fn answer(
        &mut self,
        witness: usize,
        status: Option<u16>,
        body: Option<Vec<u8>>,
        error: Option<String>,
    ) {
        match (status, error) {
            (Some(s), None) => self
                .round
                .answer(witness, Ok((s, body.as_deref().unwrap_or_default()))),
            (_, e) => self
                .round
                .answer(witness, Err(e.unwrap_or_else(|| "no answer".into()))),
        }
    }

    /// Once every witness cosigned: `{files: [[path, text]], witnesses: [[name, size]]}`, the
    /// cosigned `log/checkpoint`, `log/witnessed.json` and the new `.tlog-proof` files
    /// (`existing` lists the site paths under `releases/` that exist). Otherwise throws an
    /// `Error` with code `cosign` and `problems`: one message per witness that did not.
    pub fn finish(&self, existing: Vec<String>) -> Result<JsValue, JsValue> {
        let cosigned = self.round.finish().map_err(|problems| {
            let err = into_error("cosign", problems.join("\n"));
            let _ = js_sys::Reflect::set(
                &err,
                &JsValue::from_str("problems"),
                &to_js(&problems).unwrap_or(JsValue::NULL),
            );
            err
        })?;
        let existing: std::collections::BTreeSet<String> = existing.into_iter().collect();
        let mut files = crate::site::new_proofs(self.round.log(), &cosigned.note, &|p: &str| {
            existing.contains(p)
        })
        .map_err(|e| into_error("cosign", e))?;
        files.push(("log/witnessed.json".into(), cosigned.witnessed_json.clone()));
        files.push(("log/checkpoint".into(), cosigned.note.to_text()));
        to_js(&serde_json::json!({ "files": files, "witnesses": cosigned.witnesses }))
    }
}

/// The checkpoint note inside a tlog-proof (`proof` as text), for the caller's memory of the
/// log after `verify_wheel` checked the proof; throws an `Error` with code `log`.
#[wasm_bindgen]
pub fn proof_checkpoint(proof: &str) -> Result<String, JsValue> {
    hook();
    let p =
        crate::log::proof::TlogProof::parse(proof.as_bytes()).map_err(|e| into_error("log", e))?;
    Ok(p.note.to_text())
}

/// Most entry bundles `log_compare` takes (a key site holds at most 100,000 releases: 391).
const MAX_BUNDLES: u32 = 400;

/// Compare a checkpoint with the one remembered for its log (`cli/logstate.rs`'s rule):
/// `input` is `{seen: note text | null, current: note text, bundles: {path: Uint8Array |
/// base64}, policy, log_key}` (`log_key`: the first-use key verify_wheel used for a log the
/// policy does not list), the bundles (`tile/entries/…` paths) of the log at the larger size, from which
/// the smaller tree is rebuilt and checked against the larger checkpoint's root. Returns
/// `first-sighting`, `consistent`, `older-consistent`, `split-view` or `not-checked`; throws
/// an `Error` with code `input` or `log`.
#[wasm_bindgen]
pub fn log_compare(input: JsValue) -> Result<String, JsValue> {
    use crate::log::checkpoint::Checkpoint;
    use crate::log::note::Note;
    use base64::Engine as _;
    hook();
    let bad = |m: String| into_error("input", format!("log_compare: {m}"));
    let obj: &js_sys::Object = input
        .dyn_ref()
        .ok_or_else(|| bad("the input is not an object".into()))?;
    for key in js_sys::Object::keys(obj).iter() {
        let k = key.as_string().unwrap_or_default();
        if !matches!(
            k.as_str(),
            "seen" | "current" | "bundles" | "policy" | "log_key"
        ) {
            return Err(bad(format!("unknown member `{k}`")));
        }
    }
    let get =
        |k: &str| js_sys::Reflect::get(obj, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let checkpoint = |what: &str, text: &str| -> Result<Checkpoint, JsValue> {
        let note =
            Note::parse(text.as_bytes()).map_err(|e| into_error("log", format!("{what}: {e}")))?;
        Checkpoint::parse(note.text()).map_err(|e| into_error("log", format!("{what}: {e}")))
    };
    let current = get("current")
        .as_string()
        .ok_or_else(|| bad("`current` must be a checkpoint note (a string)".into()))?;
    let current = checkpoint("current", &current)?;
    // The remembered note sits in IndexedDB, writable by any script on the page's origin: with
    // the policy given, it counts only if a log key the policy lists for its origin signed it.
    let policy = get("policy");
    let policy = if policy.is_null() || policy.is_undefined() {
        None
    } else {
        let text = policy
            .as_string()
            .ok_or_else(|| bad("`policy` must be tlog-policy text".into()))?;
        Some(crate::log::policy::Policy::parse(&text).map_err(|e| into_error("policy", e))?)
    };
    // A log the policy does not list: the log key verify_wheel used for it (first use).
    let log_key = get("log_key");
    let mut policy = policy;
    if let (Some(p), Some(text)) = (policy.as_mut(), log_key.as_string()) {
        let k = crate::log::note::NoteVerifier::parse(text.trim())
            .map_err(|e| into_error("log", format!("log_key: {e}")))?;
        if k.name() == current.origin && !p.lists_log(&current.origin) {
            p.logs.push((k, None));
        }
    }
    let seen = get("seen");
    let seen = if seen.is_null() || seen.is_undefined() {
        None
    } else {
        let text = seen
            .as_string()
            .ok_or_else(|| bad("`seen` must be a checkpoint note or null".into()))?;
        let signed = match &policy {
            None => true,
            Some(p) => Note::parse(text.as_bytes()).is_ok_and(|n| {
                p.logs
                    .iter()
                    .any(|(k, _)| matches!(n.verify_by(k), Ok(Some(_))))
            }),
        };
        if !signed {
            return Ok("first-sighting".to_string());
        }
        let s = checkpoint("seen", &text)?;
        if s.origin != current.origin {
            return Err(into_error(
                "log",
                "log_compare: `seen` and `current` are checkpoints of different logs",
            ));
        }
        Some(s)
    };
    let mut bundles: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let b = get("bundles");
    if !(b.is_null() || b.is_undefined()) {
        let b: &js_sys::Object = b
            .dyn_ref()
            .ok_or_else(|| bad("`bundles` must be an object".into()))?;
        let entries = js_sys::Object::entries(b);
        if entries.length() > MAX_BUNDLES {
            return Err(bad(format!("more than {MAX_BUNDLES} bundles")));
        }
        for pair in entries.iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            let path = pair.get(0).as_string().unwrap_or_default();
            let value = pair.get(1);
            let bytes = if let Some(a) = value.dyn_ref::<Uint8Array>() {
                a.to_vec()
            } else if let Some(t) = value.as_string() {
                base64::engine::general_purpose::STANDARD
                    .decode(t)
                    .map_err(|e| bad(format!("bundles: {path}: not base64: {e}")))?
            } else {
                return Err(bad(format!(
                    "bundles: {path}: a Uint8Array or base64 string"
                )));
            };
            bundles.insert(path, bytes);
        }
    }
    let larger = match &seen {
        Some(s) if s.size > current.size => s.clone(),
        _ => current.clone(),
    };
    let mut root_at = |size: u64| -> Option<crate::log::merkle::Hash> {
        let log =
            crate::log::tiles::Log::from_bundles(larger.size, &mut |p| bundles.get(p).cloned())
                .ok()?;
        if log.checkpoint(&larger.origin).root != larger.root {
            return None;
        }
        Some(crate::log::merkle::tree_hash(
            log.leaves().get(..usize::try_from(size).ok()?)?,
        ))
    };
    Ok(
        crate::log::check::compare(seen.as_ref(), &current, &mut root_at)
            .as_str()
            .to_string(),
    )
}

/// Check one release's tlog-proof against a witness policy, without a wheel: `leaf` is the
/// release entry (`wheelsig-release/v1` text). Returns the report's `log` object; throws an
/// `Error` whose code is the problem code (`log-not-included`, `log-bad-signature`, …) or
/// `policy`/`input`.
#[wasm_bindgen]
pub fn check_release_proof(proof: &str, leaf: &str, policy: &str) -> Result<JsValue, JsValue> {
    hook();
    let policy = crate::log::policy::Policy::parse(policy).map_err(|e| into_error("policy", e))?;
    let leaf = crate::log::release::ReleaseLeaf::parse(leaf.as_bytes())
        .map_err(|e| into_error("input", e))?;
    match crate::log::check::check_proof(proof.as_bytes(), &leaf, &policy) {
        Ok(c) => to_js(&c.report),
        Err(p) => Err(into_error(&p.code.as_str(), p.message)),
    }
}

/// Most bytes of a log's `vkey` read (as the CLI).
const MAX_VKEY_BYTES: usize = 4096;

/// The parts of a wheel's report `index_log_check` reads (other members are ignored).
#[derive(Deserialize)]
struct ReportIn {
    file: String,
    verdict: crate::report::Verdict,
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    sha256: Option<String>,
    #[serde(default)]
    problems: Vec<crate::report::Problem>,
}

/// One step of the index log check (docs/SPEC.md "wasm API", `index_log_check`): the CLI's
/// `verify --index-log` for one wheel, over log files the page already fetched. `input` is
/// `{report, checkpoint, policy?, remembered_log_key?, seen?, now, min_age?, files}`: the
/// wheel's report (from `verify_wheel`, with its `sha256`), the log's `checkpoint` note text,
/// the witness policy text (`null`: no witnesses required, `quorum none`), the log key
/// remembered on first use and the checkpoint remembered for the log (notes, or `null`), the
/// time, `min_age` in the CLI's `--min-age` grammar (`7d`), and `files`: `{path: Uint8Array |
/// null}` (`null`: the log has no such file). Returns `{need: [{path, max_bytes}]}` while the
/// check reads files it was not given (fetch them under the log's URL, add them, call again);
/// then `{index_log, verdict, problems, consistency, remember, new_log_key}`: the report's new
/// `index_log`, verdict and problems (the core's `fail_log`), the comparison with `seen`, the
/// note to remember (or `null`) and a first-use log key to remember (`{origin, vkey}` or
/// `null`). A report without a project or sha256 gives `{index_log: null, skipped}`. Throws an
/// `Error` with code `input` (a bad member, a path that is not a log file, a file over its
/// size) or `policy`.
#[wasm_bindgen]
pub fn index_log_check(input: JsValue) -> Result<JsValue, JsValue> {
    use crate::log::checkpoint::Checkpoint;
    use crate::log::index_check::{self, Gathered};
    use crate::log::note::Note;
    hook();
    let bad = |m: String| into_error("input", format!("index_log_check: {m}"));
    let obj: &js_sys::Object = input
        .dyn_ref()
        .ok_or_else(|| bad("the input is not an object".into()))?;
    for key in js_sys::Object::keys(obj).iter() {
        let k = key.as_string().unwrap_or_default();
        if !matches!(
            k.as_str(),
            "report"
                | "checkpoint"
                | "policy"
                | "remembered_log_key"
                | "seen"
                | "now"
                | "min_age"
                | "files"
        ) {
            return Err(bad(format!("unknown member `{k}`")));
        }
    }
    let get =
        |k: &str| js_sys::Reflect::get(obj, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
    let text = |k: &str| -> Result<Option<String>, JsValue> {
        let v = get(k);
        if v.is_null() || v.is_undefined() {
            Ok(None)
        } else {
            v.as_string()
                .map(Some)
                .ok_or_else(|| bad(format!("`{k}` must be a string or null")))
        }
    };
    // Only what the check reads and changes: not the members or signatures (a big wheel's
    // report is large, and this is called once per round).
    let given: ReportIn =
        serde_wasm_bindgen::from_value(get("report")).map_err(|e| bad(format!("`report`: {e}")))?;
    let mut report = crate::report::Report {
        file: given.file,
        verdict: given.verdict,
        project: given.project,
        version: None,
        files_checked: 0,
        sha256: given.sha256,
        signatures: Vec::new(),
        problems: given.problems,
        members: Vec::new(),
        log: None,
        key_url_hint: None,
        index: None,
        index_log: None,
    };
    let latest = text("checkpoint")?.ok_or_else(|| bad("`checkpoint` is required".into()))?;
    let policy =
        crate::log::policy::Policy::parse(text("policy")?.as_deref().unwrap_or("quorum none\n"))
            .map_err(|e| into_error("policy", format!("witness policy: {e}")))?;
    let now = get("now")
        .as_f64()
        .ok_or_else(|| bad("`now` must be Unix seconds".into()))
        .and_then(unix_seconds)?;
    let min_age = text("min_age")?
        .map(|a| crate::time::parse_age(&a))
        .transpose()
        .map_err(|e| bad(format!("min-age {e}")))?;
    let seen = text("seen")?;
    let remembered = text("remembered_log_key")?;
    // The files fetched so far: each a log path (or `vkey`), within its size.
    let mut files: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    let given = get("files");
    if !(given.is_null() || given.is_undefined()) {
        let given: &js_sys::Object = given
            .dyn_ref()
            .ok_or_else(|| bad("`files` must be an object".into()))?;
        let entries = js_sys::Object::entries(given);
        if entries.length() as usize > index_check::MAX_GATHER_FILES {
            return Err(bad(format!(
                "more than {} files",
                index_check::MAX_GATHER_FILES
            )));
        }
        for pair in entries.iter() {
            let pair: js_sys::Array = pair.unchecked_into();
            let path = pair.get(0).as_string().unwrap_or_default();
            let limit = if path == "vkey" {
                MAX_VKEY_BYTES
            } else if index_check::is_log_path(&path) {
                index_check::max_bytes(&path)
            } else {
                return Err(bad(format!(
                    "files: {} is not an index log path",
                    crate::display::escape(&path)
                )));
            };
            let value = pair.get(1);
            let bytes = if value.is_null() {
                None
            } else if let Some(a) = value.dyn_ref::<Uint8Array>() {
                if a.length() as usize > limit {
                    return Err(bad(format!("files: {path} is over {limit} bytes")));
                }
                Some(a.to_vec())
            } else {
                return Err(bad(format!("files: {path}: a Uint8Array or null")));
            };
            files.insert(path, bytes);
        }
    }
    let (Some(project), Some(sha256)) = (report.project.clone(), report.sha256.clone()) else {
        return to_js(&serde_json::json!({
            "index_log": null,
            "skipped": if report.project.is_none() { "the file name does not parse" } else { "the file's sha256 was not computed" },
        }));
    };
    // The log key: the policy's, else by first use (the log's `vkey`, fetched once asked for).
    let origin = Note::parse(latest.as_bytes())
        .ok()
        .and_then(|n| Checkpoint::parse(n.text()).ok())
        .map(|c| c.origin);
    let mut first_use = crate::log::policy::LogKeyFirstUse {
        remembered,
        served: None,
    };
    if origin.as_deref().is_some_and(|o| !policy.lists_log(o)) {
        match files.get("vkey") {
            None => {
                return to_js(&serde_json::json!({
                    "need": [{"path": "vkey", "max_bytes": MAX_VKEY_BYTES}]
                }))
            }
            Some(v) => {
                first_use.served = v.as_ref().and_then(|b| String::from_utf8(b.clone()).ok());
            }
        }
    }
    let (policy, new_key, key_problem) = match origin.as_deref() {
        Some(o) => index_check::with_first_use_key(&policy, o, &first_use),
        None => (policy, None, None),
    };
    let step = index_check::gather(&files, |read| {
        let checked = index_check::check(
            &report.file,
            &project,
            &sha256,
            latest.as_bytes(),
            &policy,
            read,
            now,
            min_age,
        );
        let compared = checked
            .checkpoint
            .as_ref()
            .map(|(_, cp)| index_check::compare(seen.as_deref(), cp, &policy, read));
        (checked, compared)
    });
    let (checked, compared) = match step {
        Gathered::Need(paths) => {
            let need: Vec<_> = paths
                .iter()
                .map(|p| serde_json::json!({"path": p, "max_bytes": index_check::max_bytes(p)}))
                .collect();
            return to_js(&serde_json::json!({ "need": need }));
        }
        Gathered::Done(out) => out,
    };
    report.index_log = checked.report;
    for p in checked.problems.into_iter().chain(key_problem) {
        report.fail_log(p);
    }
    let consistency = compared.map(|c| c.consistency);
    if let (Some(crate::log::check::Consistency::SplitView), Some((_, cp))) =
        (consistency, &checked.checkpoint)
    {
        report.fail_log(crate::report::Problem::file(
            crate::report::Code::SplitView,
            format!(
                "SPLIT VIEW: the index log {} showed this browser a different history before",
                crate::display::escape(&cp.origin)
            ),
        ));
    }
    let remember = match (&compared, &checked.checkpoint) {
        (Some(c), Some((note, _))) if c.remember => Some(note.clone()),
        _ => None,
    };
    let new_log_key = new_key
        .filter(|_| checked.checkpoint.is_some())
        .map(|(origin, vkey)| serde_json::json!({"origin": origin, "vkey": vkey}));
    to_js(&serde_json::json!({
        "index_log": report.index_log,
        "verdict": report.verdict,
        "problems": report.problems,
        "consistency": consistency.map(|c| c.as_str()),
        "remember": remember,
        "new_log_key": new_log_key,
    }))
}

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
