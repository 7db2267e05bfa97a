//! Verify one wheel: container, layout, RECORD, signatures, trust. Pure: reads only from the
//! given `Read + Seek`, takes signatures and trust sources as arguments, never does I/O of
//! its own.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
#[cfg(not(target_arch = "wasm32"))]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(target_arch = "wasm32"))]
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::encoding::hex;
use crate::jws::{self, SignatureOutcome};
use crate::limits::Limits;
use crate::names::{normalize_project, parse_wheel_filename, WheelName};
use crate::record::{parse_record, HashAlg, Record};
use crate::report::{Carrier, Code, Member, MemberStatus, Problem, Report, SignatureReport, Verdict};
use crate::trust::{TrustPolicy, ValidSignature};
use crate::zip::{self, Directory, Fatal, MemberData, ScanSink};

/// A detached signature to check against the wheel.
#[derive(Debug, Clone)]
pub struct DetachedSignature {
    /// Where it came from (path or URL), for reports.
    pub source: String,
    /// The `.jws` document.
    pub bytes: Vec<u8>,
}

/// Whether to compute the SHA-256 of the whole file (needed for detached signatures, and for
/// comparing with an index's published digest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileDigest {
    /// Compute it.
    Compute,
    /// Compute it only if a detached signature needs it.
    #[default]
    IfNeeded,
}

/// Inputs to [`verify_wheel`] besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct VerifyInput {
    /// The wheel's file name (not a path): it is parsed and bound by detached signatures.
    pub file_name: String,
    /// Detached signatures to check.
    pub detached: Vec<DetachedSignature>,
    /// Trust sources.
    pub trust: TrustPolicy,
    /// Resource limits.
    pub limits: Limits,
    /// Whether to compute the whole-file digest.
    pub file_digest: FileDigest,
    /// The current time (Unix seconds), when known: a retired key's signature that claims a
    /// signing time after it is refused. The core never reads the clock itself.
    pub now: Option<i64>,
    /// The release log check (`verify --witness-policy`), when asked.
    pub log: Option<LogInput>,
}

/// What the release log check needs: the user's witness policy, the release's tlog-proof if
/// one was found (next to the wheel, or on the key site), and whether it is required.
#[derive(Debug, Clone)]
pub struct LogInput {
    /// The witness policy (C2SP tlog-policy): log keys, witnesses, quorum.
    pub policy: crate::log::policy::Policy,
    /// Where the proof came from, and its bytes.
    pub proof: Option<(String, Vec<u8>)>,
    /// Whether an unlogged or under-witnessed release fails (`--require-logged`).
    pub require: LogRequirement,
    /// For a log the policy does not list: its key by first use (remembered, served).
    pub log_key: Option<crate::log::policy::LogKeyFirstUse>,
}

/// Whether a release must be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRequirement {
    /// Check a proof when there is one.
    IfPresent,
    /// No proof, or a quorum not met, fails the wheel (`untrusted`).
    Required,
}

/// Verification could not be carried out (as opposed to finding problems, which is an
/// `Ok(Report)` with verdict `invalid`).
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// Reading the input failed.
    Io(io::Error),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Io(e) => write!(f, "read error: {e}"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Progress callback: `(bytes_done, bytes_total)`.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// What verification learned besides the report, for signing (`sign` needs RECORD's digest).
#[derive(Debug, Clone)]
pub struct Verified {
    /// The report.
    pub report: Report,
    /// SHA-256 of RECORD's bytes, when RECORD could be read.
    pub record_sha256: Option<[u8; 32]>,
    /// The central directory, when it could be read.
    pub directory: Option<Directory>,
    /// The checked log proof, for the caller's memory of the log (split views).
    pub log: Option<crate::log::check::CheckedProof>,
    /// A log key used on first use for a proof that checked: (origin, vkey), to remember.
    pub new_log_key: Option<(String, String)>,
}

/// A reader that can be sent to another thread.
pub trait ReadSeekSend: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeekSend for T {}

/// Opens an independent reader over the same wheel (for example, the file opened again).
pub type Opener<'a> = &'a (dyn Fn() -> io::Result<Box<dyn ReadSeekSend + 'a>> + Sync);

/// How members are streamed.
enum Scanning<'a> {
    /// One pass through the given reader.
    Sequential,
    /// Contiguous ranges of members on `threads` threads, each through its own reader.
    #[cfg(not(target_arch = "wasm32"))]
    Parallel { open: Opener<'a>, threads: usize },
    #[cfg(target_arch = "wasm32")]
    #[allow(dead_code)]
    Never(std::marker::PhantomData<Opener<'a>>),
}

/// Verify a wheel. See the crate docs for what is checked.
pub fn verify_wheel<R: Read + Seek>(reader: R, input: &VerifyInput, progress: Progress<'_>) -> Result<Verified, VerifyError> {
    verify_with(reader, Scanning::Sequential, input, progress)
}

/// Verify a wheel, streaming its members on up to `threads` threads (native only). `open`
/// must return independent readers over the same bytes. Progress is reported only at the end.
#[cfg(not(target_arch = "wasm32"))]
pub fn verify_wheel_parallel(open: Opener<'_>, threads: usize, input: &VerifyInput, progress: Progress<'_>) -> Result<Verified, VerifyError> {
    let reader = open().map_err(VerifyError::Io)?;
    verify_with(reader, Scanning::Parallel { open, threads }, input, progress)
}

fn verify_with<R: Read + Seek>(mut reader: R, scanning: Scanning<'_>, input: &VerifyInput, progress: Progress<'_>) -> Result<Verified, VerifyError> {
    let mut problems = Vec::new();
    let name = match parse_wheel_filename(&input.file_name) {
        Ok(n) => Some(n),
        Err(why) => {
            problems.push(Problem::file(Code::WheelBadFilename, why));
            None
        }
    };
    let mut v = Verification { input, name, problems, members: Vec::new(), files_checked: 0, signatures: Vec::new(), valid: Vec::new(), sha256: None, record_sha256: None, detached_valid: Vec::new(), key_url_hint: None };
    let directory = match v.run(&mut reader, scanning, progress) {
        Ok(dir) => dir,
        Err(Fatal::Io(e)) => return Err(VerifyError::Io(e)),
        Err(Fatal::Problem(p)) => {
            v.problems.push(p);
            None
        }
    };
    Ok(v.finish(directory))
}

struct Verification<'a> {
    input: &'a VerifyInput,
    name: Option<WheelName>,
    problems: Vec<Problem>,
    members: Vec<Member>,
    files_checked: usize,
    signatures: Vec<SignatureReport>,
    /// (index into `signatures`, outcome) for signatures that verified.
    valid: Vec<(usize, jws::CheckedSignature, Option<i64>)>,
    sha256: Option<[u8; 32]>,
    record_sha256: Option<[u8; 32]>,
    /// METADATA's `Project-URL: Signing keys` (a hint).
    key_url_hint: Option<String>,
    /// (kid, hex sha256 of the document) of detached signatures that verified: what a key
    /// site's log binds.
    detached_valid: Vec<(String, String)>,
}

impl Verification<'_> {
    fn run<R: Read + Seek>(&mut self, r: &mut R, scanning: Scanning<'_>, progress: Progress<'_>) -> Result<Option<Directory>, Fatal> {
        let limits = &self.input.limits;
        let dir = zip::read_directory(r, limits, &mut self.problems)?;
        let dist_info = self.check_layout(&dir);
        let by_name: HashMap<&str, usize> = dir.entries.iter().enumerate().map(|(i, e)| (e.name.as_str(), i)).collect();

        // RECORD first: it says which digest each member needs while streaming.
        let mut record = Record::default();
        let mut record_ok = false;
        let (record_path, jws_path) = match &dist_info {
            Some(d) => (format!("{d}/RECORD"), format!("{d}/RECORD.jws")),
            None => (String::new(), String::new()),
        };
        if dist_info.is_some() {
            match by_name.get(record_path.as_str()) {
                None => self.problems.push(Problem::at(Code::WheelMissingRecord, record_path.clone(), "no RECORD file")),
                Some(&i) => match zip::read_member(r, &dir.entries[i], limits.max_record_size, Code::LimitRecordSize) {
                    Ok(bytes) => {
                        self.record_sha256 = Some(Sha256::digest(&bytes).into());
                        record = parse_record(&bytes, &record_path, &mut self.problems);
                        record_ok = true;
                    }
                    Err(Fatal::Problem(p)) => self.problems.push(p),
                    Err(e) => return Err(e),
                },
            }
        }
        // docs/STRICTNESS.md rule 9: the file name's build tag and compatibility tags are the
        // ones WHEEL lists (RECORD covers WHEEL, so a signature binds them; it does not cover
        // the file name). A missing WHEEL is already `wheel-missing-wheel`.
        if let Some(d) = &dist_info {
            let wheel_path = format!("{d}/WHEEL");
            if let Some(&i) = by_name.get(wheel_path.as_str()) {
                match zip::read_member(r, &dir.entries[i], crate::limits::MAX_WHEEL_FILE, Code::WheelBadWheelFile) {
                    Ok(bytes) => match crate::wheel_file::parse_wheel_file(&bytes) {
                        Err(why) => self.problems.push(Problem::at(Code::WheelBadWheelFile, wheel_path.clone(), why)),
                        Ok(wheel) => {
                            for why in self.name.as_ref().map(|n| crate::wheel_file::compare(n, &wheel)).unwrap_or_default() {
                                self.problems.push(Problem::at(Code::WheelTagMismatch, wheel_path.clone(), why));
                            }
                        }
                    },
                    Err(Fatal::Problem(p)) => self.problems.push(p),
                    Err(e) => return Err(e),
                }
            }
        }
        // The publisher's key URL hint (`Project-URL: Signing keys, …`), read for display only.
        if let Some(d) = &dist_info {
            if let Some(&i) = by_name.get(format!("{d}/METADATA").as_str()) {
                if let Ok(bytes) = zip::read_member(r, &dir.entries[i], crate::metadata::MAX_METADATA_READ, Code::LimitMemberSize) {
                    self.key_url_hint = crate::metadata::signing_keys_url(&bytes);
                }
            }
        }
        let mut embedded: Option<Vec<u8>> = None;
        if let Some(&i) = by_name.get(jws_path.as_str()).filter(|_| dist_info.is_some()) {
            match zip::read_member(r, &dir.entries[i], limits.max_signature_size, Code::LimitSignatureSize) {
                Ok(b) => embedded = Some(b),
                Err(Fatal::Problem(p)) => self.problems.push(p),
                Err(e) => return Err(e),
            }
        }

        // Stream every member once, in file order.
        let wanted: HashMap<&str, (usize, HashAlg)> = record.entries.iter().enumerate().map(|(i, e)| (e.path.as_str(), (i, e.alg))).collect();
        let need_digest = self.input.file_digest == FileDigest::Compute || !self.input.detached.is_empty() || self.input.log.as_ref().is_some_and(|l| l.proof.is_some());
        zip::check_declared_sizes(&dir, limits)?;
        let results = match scanning {
            Scanning::Sequential => {
                r.seek(SeekFrom::Start(0))?;
                let mut sink = Sink { dir: &dir, wanted: &wanted, results: vec![None; dir.entries.len()], total: dir.file_size, progress };
                let scanned = zip::scan(&mut *r, &dir, 0..dir.entries.len(), need_digest, &mut sink, &mut self.problems);
                let results = std::mem::take(&mut sink.results);
                self.sha256 = scanned?;
                results
            }
            #[cfg(not(target_arch = "wasm32"))]
            Scanning::Parallel { open, threads } => {
                let (results, sha256) = scan_parallel(open, threads, &dir, &wanted, need_digest, &mut self.problems)?;
                self.sha256 = sha256;
                progress(dir.file_size, dir.file_size);
                results
            }
            #[cfg(target_arch = "wasm32")]
            Scanning::Never(_) => Vec::new(),
        };

        // Compare with RECORD.
        let exempt = |name: &str| name == record_path || name == jws_path || (dist_info.is_some() && name == format!("{}/RECORD.p7s", dist_info.as_deref().unwrap_or_default()));
        let mut listed = vec![false; record.entries.len()];
        for (i, e) in dir.entries.iter().enumerate() {
            let data = results[i].clone();
            let size = data.as_ref().map_or(e.uncompressed_size, |d| d.size);
            let intact = data.as_ref().is_some_and(|d| d.intact);
            let status = if let Some(&(ri, _)) = wanted.get(e.name.as_str()) {
                listed[ri] = true;
                let row = &record.entries[ri];
                self.files_checked += 1;
                match data.as_ref().and_then(|d| d.digest.as_ref()) {
                    Some(digest) if *digest != row.digest => {
                        self.problems.push(Problem::at(Code::RecordHashMismatch, e.name.clone(), format!("{} digest differs from RECORD", row.alg.name())));
                        MemberStatus::Mismatch
                    }
                    Some(_) if row.size.is_some_and(|s| s != size) => {
                        self.problems.push(Problem::at(Code::RecordSizeMismatch, e.name.clone(), format!("{size} bytes, RECORD says {}", row.size.unwrap_or(0))));
                        MemberStatus::Mismatch
                    }
                    Some(_) => MemberStatus::Ok,
                    None => MemberStatus::Mismatch,
                }
            } else if exempt(&e.name) {
                MemberStatus::Exempt
            } else if e.is_dir {
                MemberStatus::Directory
            } else {
                if record_ok {
                    self.problems.push(Problem::at(Code::RecordUnlistedFile, e.name.clone(), "in the archive but not listed in RECORD"));
                }
                MemberStatus::Unlisted
            };
            let status = if !intact && status == MemberStatus::Ok { MemberStatus::Mismatch } else { status };
            self.members.push(Member { path: e.name.clone(), size, status });
        }
        for (ri, row) in record.entries.iter().enumerate() {
            if !listed[ri] {
                self.problems.push(Problem::at(Code::RecordMissingFile, row.path.clone(), "listed in RECORD but not in the archive"));
                self.members.push(Member { path: row.path.clone(), size: row.size.unwrap_or(0), status: MemberStatus::Missing });
            }
        }

        // Signatures.
        if let Some(bytes) = embedded {
            self.check_signature(&bytes, Some(jws_path.clone()), None);
        }
        for d in &self.input.detached {
            self.check_signature(&d.bytes, None, Some(d.source.clone()));
        }
        Ok(Some(dir))
    }

    /// docs/STRICTNESS.md rule 5: exactly one `.dist-info` matching the file name; `.data` only as
    /// `<same>.data/<scheme>/…`; WHEEL and METADATA present. Returns the dist-info directory.
    fn check_layout(&mut self, dir: &Directory) -> Option<String> {
        let mut dist_infos: Vec<&str> = dir
            .entries
            .iter()
            .filter_map(|e| e.name.split('/').next().filter(|top| top.ends_with(".dist-info") && e.name.len() > top.len()))
            .collect();
        dist_infos.sort_unstable();
        dist_infos.dedup();
        let d = match dist_infos.as_slice() {
            [] => {
                self.problems.push(Problem::file(Code::WheelNoDistInfo, "no top-level .dist-info directory"));
                return None;
            }
            [one] => one.to_string(),
            many => {
                self.problems.push(Problem::file(Code::WheelMultipleDistInfo, format!("{} .dist-info directories: {}", many.len(), many.join(", "))));
                return None;
            }
        };
        let stem = d.trim_end_matches(".dist-info");
        if let Some(name) = &self.name {
            let ok = stem.rsplit_once('-').is_some_and(|(n, v)| normalize_project(n) == name.project && (v == name.version || v.to_lowercase() == name.version.to_lowercase()));
            if !ok {
                self.problems.push(Problem::at(Code::WheelDistInfoMismatch, d.clone(), format!("does not match the file name's project {:?} version {:?}", name.project, name.version)));
            }
        }
        let data_dir = format!("{stem}.data");
        const SCHEMES: [&str; 5] = ["purelib", "platlib", "headers", "scripts", "data"];
        for e in &dir.entries {
            let mut parts = e.name.split('/');
            let top = parts.next().unwrap_or_default();
            if !top.ends_with(".data") || e.name.len() == top.len() {
                continue;
            }
            if top != data_dir {
                self.problems.push(Problem::at(Code::WheelBadDataDir, e.name.clone(), format!("a .data directory other than {data_dir:?}")));
                continue;
            }
            let scheme = parts.next().unwrap_or_default();
            let rest = parts.next().unwrap_or_default();
            if !e.is_dir && (!SCHEMES.contains(&scheme) || rest.is_empty()) {
                self.problems.push(Problem::at(Code::WheelBadDataDir, e.name.clone(), format!("not under {data_dir}/<scheme>/ with scheme one of {}", SCHEMES.join(", "))));
            }
        }
        for (file, code) in [("WHEEL", Code::WheelMissingWheel), ("METADATA", Code::WheelMissingMetadata)] {
            let path = format!("{d}/{file}");
            if !dir.entries.iter().any(|e| e.name == path) {
                self.problems.push(Problem::at(code, path, format!("no {file} file")));
            }
        }
        Some(d)
    }

    fn check_signature(&mut self, bytes: &[u8], member: Option<String>, source: Option<String>) {
        let carrier = jws::carrier_of(&member);
        if bytes.len() as u64 > self.input.limits.max_signature_size {
            self.problems.push(Problem { code: Code::LimitSignatureSize, path: member, message: format!("signature is {} bytes; the limit is {}", bytes.len(), self.input.limits.max_signature_size) });
            return;
        }
        let doc = match jws::parse(bytes, &member) {
            Ok(d) => d,
            Err(p) => {
                self.problems.push(p);
                self.signatures.push(blank_report(carrier, source, &member));
                return;
            }
        };
        // The payload must describe this wheel before any signature on it counts.
        let payload = doc.payload().clone();
        let mut payload_problem: Option<Problem> = None;
        let claim = self.record_sha256.map(|d| jws::record_hash_claim(&d));
        if claim.as_deref() != Some(payload.hash.as_str()) {
            payload_problem = Some(Problem { code: Code::SigPayloadMismatch, path: member.clone(), message: format!("signature covers RECORD {}, this wheel's RECORD is {}", payload.hash, claim.as_deref().unwrap_or("unreadable")) });
        } else if let Some(f) = payload.filename.as_deref().filter(|f| *f != self.input.file_name) {
            payload_problem = Some(Problem { code: Code::SigWrongFile, path: member.clone(), message: format!("signature is for {f:?}, not {:?}", self.input.file_name) });
        } else if carrier == Carrier::Detached {
            match (&payload.filename, &payload.file_sha256, &self.sha256) {
                (None, _, _) | (_, None, _) => {
                    payload_problem = Some(Problem { code: Code::SigMalformed, path: None, message: "a detached signature must bind `filename` and `file_sha256`".into() });
                }
                (_, Some(claimed), Some(actual)) if *claimed != hex(actual) => {
                    payload_problem = Some(Problem { code: Code::SigFileDigestMismatch, path: None, message: format!("signature is for a file with sha256 {claimed}, this file's is {}", hex(actual)) });
                }
                _ => {}
            }
        } else if payload.file_sha256.is_some() {
            payload_problem = Some(Problem { code: Code::SigMalformed, path: member.clone(), message: "an embedded signature cannot bind the whole file's digest".into() });
        }
        if payload_problem.is_some() {
            // The payload does not describe this wheel: no entry can count, so none is checked
            // cryptographically (bounded work for hostile documents). Each is listed unverified.
            for (format, alg, key, jku) in doc.describe(&member) {
                let mut rep = blank_report(carrier, source.clone(), &member);
                rep.format = format;
                rep.alg = alg;
                rep.kid = key.map(|k| k.kid());
                rep.fingerprint = key.map(|k| k.fingerprint());
                rep.jwk = key.map(|k| k.jwk());
                rep.jku = jku;
                rep.iat = payload.iat;
                self.signatures.push(rep);
            }
            if let Some(p) = payload_problem {
                self.problems.push(p);
            }
            return;
        }
        for outcome in doc.check(&member) {
            let SignatureOutcome { format, alg, key, jku, result } = outcome;
            let mut rep = SignatureReport {
                kid: key.map(|k| k.kid()),
                fingerprint: key.map(|k| k.fingerprint()),
                alg,
                format,
                carrier,
                source: source.clone(),
                iat: payload.iat,
                jku,
                jwk: key.map(|k| k.jwk()),
                valid: false,
                trusted_by: None,
                retired: None,
            };
            match result {
                Err(p) => self.problems.push(p),
                Ok(checked) => {
                    rep.valid = true;
                    if carrier == Carrier::Detached {
                        let entry = (checked.key.kid(), hex(&Sha256::digest(bytes)));
                        if !self.detached_valid.contains(&entry) {
                            self.detached_valid.push(entry);
                        }
                    }
                    // Same key signing twice (RFC 7515 + legacy) counts once for trust.
                    if !self.valid.iter().any(|(_, c, _)| c.key == checked.key) {
                        self.valid.push((self.signatures.len(), checked, payload.iat));
                    }
                }
            }
            self.signatures.push(rep);
        }
    }

    /// The release log check (docs/SPEC.md "Release log"): problems, the report, and the time
    /// the witnesses vouch for with the key id it applies to.
    fn check_log(&self) -> (Vec<Problem>, Option<crate::log::check::CheckedProof>, Option<(String, String)>) {
        let (Some(li), Some(name)) = (&self.input.log, &self.name) else { return (Vec::new(), None, None) };
        let required = li.require == LogRequirement::Required;
        let Some((source, bytes)) = &li.proof else {
            let p = Problem::file(Code::LogUnlogged, "no release log proof (.tlog-proof) was found for this wheel, and --require-logged is set");
            return (if required { vec![p] } else { Vec::new() }, None, None);
        };
        let (Some(sha256), Some((kid, jws_sha256))) = (self.sha256, self.detached_valid.first()) else {
            return (vec![Problem::file(Code::LogNotIncluded, format!("{}: a key site's log binds a detached signature, and none verified for this wheel", crate::display::escape(source)))], None, None);
        };
        // A log the policy does not list: its key by first use, if the caller gave one.
        let mut problems = Vec::new();
        let mut policy = std::borrow::Cow::Borrowed(&li.policy);
        let mut new_key = None;
        let mut by_first_use = false;
        let origin = crate::log::proof::TlogProof::parse(bytes).ok().map(|p| p.checkpoint.origin);
        if let (Some(first_use), Some(origin)) = (&li.log_key, origin) {
            if !li.policy.lists_log(&origin) {
                let choice = first_use.choose(&origin);
                if let Some(m) = choice.changed {
                    problems.push(Problem::file(Code::LogKeyChanged, m));
                }
                if let Some(k) = choice.key {
                    if choice.new {
                        new_key = Some((origin, k.vkey()));
                    }
                    policy.to_mut().logs.push((k, None));
                    by_first_use = true;
                }
            }
        }
        let leaf = crate::log::release::ReleaseLeaf { project: name.project.clone(), version: name.version.clone(), file: self.input.file_name.clone(), sha256: hex(&sha256), jws_sha256: jws_sha256.clone(), kid: kid.clone() };
        match crate::log::check::check_proof(bytes, &leaf, &policy) {
            Err(mut p) => {
                p.message = format!("{}: {}", crate::display::escape(source), p.message);
                problems.push(p);
                (problems, None, None)
            }
            Ok(mut c) => {
                if by_first_use {
                    c.report.log_key = "first-use".into();
                }
                if required && !c.report.quorum {
                    problems.push(Problem::file(Code::LogQuorum, format!("release #{} of {} is not cosigned by the policy's quorum ({})", c.report.index, crate::display::escape(&c.report.origin), li.policy.quorum_name())));
                }
                (problems, Some(c), new_key)
            }
        }
    }

    fn finish(mut self, directory: Option<Directory>) -> Verified {
        let integrity_failed = !self.problems.is_empty();
        let (log_problems, checked_log, new_log_key) = if integrity_failed { (Vec::new(), None, None) } else { self.check_log() };
        // The witnessed time counts for the signature whose key the log binds.
        let witnessed: Option<(String, i64)> = checked_log.as_ref().and_then(|c| {
            let kid = self.detached_valid.first().map(|(k, _)| k.clone())?;
            c.report.witnessed.and_then(|t| i64::try_from(t).ok()).map(|t| (kid, t))
        });
        let verdict = if integrity_failed {
            Verdict::Invalid
        } else if let Some(name) = &self.name {
            let sigs: Vec<ValidSignature<'_>> = self
                .valid
                .iter()
                .map(|(_, c, iat)| ValidSignature { key: &c.key, iat: *iat, witnessed: witnessed.as_ref().filter(|(k, _)| *k == c.key.kid()).map(|(_, t)| *t) })
                .collect();
            let decision = self.input.trust.decide(&name.project, &sigs, self.input.now);
            for ((idx, checked, _), acc) in self.valid.iter().zip(decision.accepted) {
                if let Some((by, retired)) = acc {
                    for s in self.signatures.iter_mut().skip(*idx).filter(|s| s.kid.as_deref() == Some(checked.key.kid().as_str())) {
                        s.trusted_by = Some(by.clone());
                        s.retired = retired;
                    }
                }
            }
            self.problems.extend(decision.problems);
            decision.verdict
        } else {
            Verdict::Invalid
        };
        let verdict = if log_problems.is_empty() || verdict == Verdict::Invalid { verdict } else { Verdict::Untrusted };
        self.problems.extend(log_problems);
        dedup(&mut self.problems);
        let report = Report {
            file: self.input.file_name.clone(),
            verdict,
            project: self.name.as_ref().map(|n| n.project.clone()),
            version: self.name.as_ref().map(|n| n.version.clone()),
            files_checked: self.files_checked,
            sha256: self.sha256.map(|d| hex(&d)),
            signatures: self.signatures,
            problems: self.problems,
            members: self.members,
            log: checked_log.as_ref().map(|c| c.report.clone()),
            key_url_hint: self.key_url_hint,
            index: None,
        };
        Verified { report, record_sha256: self.record_sha256, directory, log: checked_log, new_log_key }
    }
}

/// Per-member results and the whole-file digest, if computed.
#[cfg(not(target_arch = "wasm32"))]
type ScanOutput = (Vec<Option<MemberData>>, Option<[u8; 32]>);

/// One range's outcome, its members' results and its problems.
#[cfg(not(target_arch = "wasm32"))]
type RangeOutput = (Result<(), Fatal>, Vec<Option<MemberData>>, Vec<Problem>);

/// Ranges per thread in [`scan_parallel`]'s queue.
#[cfg(not(target_arch = "wasm32"))]
const RANGES_PER_THREAD: usize = 4;

/// Scan contiguous ranges of members on separate threads, each through its own reader, plus
/// one thread hashing the whole file when a detached signature needs its digest. Results
/// and problems are merged in archive order, so the report is the same as a sequential scan.
#[cfg(not(target_arch = "wasm32"))]
fn scan_parallel(
    open: Opener<'_>,
    threads: usize,
    dir: &Directory,
    wanted: &HashMap<&str, (usize, HashAlg)>,
    need_digest: bool,
    problems: &mut Vec<Problem>,
) -> Result<ScanOutput, Fatal> {
    let ranges = zip::split_ranges(dir, threads * RANGES_PER_THREAD);
    // More ranges than threads, taken from a shared queue: a thread that drew a huge member is
    // not left holding a fixed half of the archive.
    let next = AtomicUsize::new(0);
    let done: Vec<Mutex<Option<RangeOutput>>> = ranges.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        let digest = need_digest.then(|| {
            scope.spawn(move || -> Result<[u8; 32], Fatal> {
                let mut r = open()?;
                r.seek(SeekFrom::Start(0))?;
                let mut h = Sha256::new();
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    let n = r.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    h.update(&buf[..n]);
                }
                Ok(h.finalize().into())
            })
        });
        let workers: Vec<_> = (0..threads.min(ranges.len()).max(1))
            .map(|_| {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(range) = ranges.get(i).cloned() else { break };
                    let mut probs = Vec::new();
                    let mut noop = |_: u64, _: u64| {};
                    let mut sink = Sink { dir, wanted, results: vec![None; dir.entries.len()], total: dir.file_size, progress: &mut noop };
                    let outcome = (|| {
                        let mut r = open()?;
                        r.seek(SeekFrom::Start(dir.entries.get(range.start).map_or(0, |e| e.local_offset)))?;
                        zip::scan(r, dir, range, false, &mut sink, &mut probs)
                    })();
                    if let Ok(mut slot) = done[i].lock() {
                        *slot = Some((outcome.map(|_| ()), std::mem::take(&mut sink.results), probs));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| Fatal::Io(io::Error::other("a verification thread panicked")))?;
        }
        // Merge in archive order, so the report is the same as a sequential scan's.
        let mut results: Vec<Option<MemberData>> = vec![None; dir.entries.len()];
        let mut first_fatal = None;
        for slot in &done {
            let (outcome, part, probs) = slot
                .lock()
                .ok()
                .and_then(|mut g| g.take())
                .ok_or_else(|| Fatal::Io(io::Error::other("a verification thread stopped early")))?;
            problems.extend(probs);
            if let Err(f) = outcome {
                first_fatal.get_or_insert(f);
            }
            for (slot, r) in results.iter_mut().zip(part) {
                if r.is_some() {
                    *slot = r;
                }
            }
        }
        if let Some(f) = first_fatal {
            return Err(f);
        }
        let sha256 = match digest {
            Some(h) => Some(h.join().map_err(|_| Fatal::Io(io::Error::other("the digest thread panicked")))??),
            None => None,
        };
        Ok((results, sha256))
    })
}

fn blank_report(carrier: Carrier, source: Option<String>, _member: &Option<String>) -> SignatureReport {
    SignatureReport {
        kid: None,
        fingerprint: None,
        alg: None,
        format: crate::report::SigFormat::General,
        carrier,
        source,
        iat: None,
        jku: None,
        jwk: None,
        valid: false,
        trusted_by: None,
        retired: None,
    }
}

fn dedup(problems: &mut Vec<Problem>) {
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert((p.code, p.path.clone(), p.message.clone())));
}

struct Sink<'a, 'p> {
    dir: &'a Directory,
    wanted: &'a HashMap<&'a str, (usize, HashAlg)>,
    results: Vec<Option<MemberData>>,
    total: u64,
    progress: Progress<'p>,
}

impl ScanSink for Sink<'_, '_> {
    fn digest_for(&mut self, index: usize) -> Option<HashAlg> {
        self.wanted.get(self.dir.entries[index].name.as_str()).map(|(_, a)| *a)
    }
    fn member(&mut self, index: usize, data: MemberData) {
        self.results[index] = Some(data);
    }
    fn progress(&mut self, done: u64) {
        (self.progress)(done, self.total);
    }
}
