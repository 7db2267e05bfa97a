//! What verification found: problems with stable codes, verdicts, and the per-wheel report.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable problem code (see `docs/SPEC.md`). Serialized in kebab-case, e.g. `zip-duplicate-name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is documented in docs/SPEC.md's tables
pub enum Code {
    ZipTruncated,
    ZipNoEocd,
    ZipMultipleEocd,
    ZipTrailingData,
    ZipPrefixData,
    ZipGap,
    ZipOverlap,
    ZipEntryOrder,
    ZipMultiDisk,
    ZipCountMismatch,
    ZipCdBounds,
    #[serde(rename = "zip64-inconsistent")]
    Zip64Inconsistent,
    ZipBadHeader,
    ZipHeaderMismatch,
    ZipDataDescriptorMismatch,
    ZipBadExtra,
    ZipDuplicateExtra,
    ZipUnicodePathMismatch,
    ZipEncrypted,
    ZipUnsupportedMethod,
    ZipNotRegularFile,
    ZipBadDirectory,
    ZipBadDeflate,
    ZipSizeMismatch,
    ZipCompressedSizeMismatch,
    ZipCrcMismatch,
    ZipBadName,
    ZipDuplicateName,
    ZipNameCollision,
    ZipEntryComment,
    LimitEntries,
    LimitCentralDirectory,
    LimitNameLength,
    LimitMemberSize,
    LimitTotalSize,
    LimitRecordSize,
    LimitSignatureSize,
    LimitCompressionRatio,
    WheelBadFilename,
    WheelNoDistInfo,
    WheelMultipleDistInfo,
    WheelDistInfoMismatch,
    WheelBadDataDir,
    WheelMissingRecord,
    WheelMissingWheel,
    WheelMissingMetadata,
    WheelBadWheelFile,
    WheelTagMismatch,
    RecordEncoding,
    RecordSyntax,
    RecordDuplicate,
    RecordBadPath,
    RecordHashAlgorithm,
    RecordBadHash,
    RecordBadSize,
    RecordSelfRow,
    RecordMissingHash,
    RecordMissingFile,
    RecordUnlistedFile,
    RecordHashMismatch,
    RecordSizeMismatch,
    SigMalformed,
    SigDuplicateMember,
    SigBadBase64,
    SigUnsupportedAlg,
    SigCrit,
    SigB64,
    SigHeaderOverlap,
    SigBadKey,
    SigKidMismatch,
    SigBadSignature,
    SigPayloadMismatch,
    SigWrongFile,
    SigFileDigestMismatch,
    SigBadJku,
    SigTooMany,
    TrustKeyNotListed,
    TrustProjectScope,
    TrustKeyRetired,
    TrustNotPinned,
    TrustKeyChanged,
    TrustUnsignedDowngrade,
    LogMalformed,
    LogBadSignature,
    LogNotIncluded,
    LogQuorum,
    LogUnlogged,
    LogUnknownKey,
    LogKeyChanged,
    #[serde(rename = "split-view")]
    SplitView,
    /// The package index serves this file name with another sha256 (`verify --index-check`).
    IndexDigestMismatch,
    /// The index log holds this file name only with other digests (`verify --index-log`).
    IndexLogMismatch,
    /// First witnessed in the index log more recently than `--min-age`.
    IndexLogTooNew,
    /// Not in the index log, with `--min-age` (its age is unknown).
    IndexLogAbsent,
}

impl Code {
    /// The stable kebab-case string of this code.
    pub fn as_str(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(s)) => s,
            _ => format!("{self:?}"),
        }
    }

    /// Whether this problem is about trust (verdict `untrusted`/`key-changed`) rather than
    /// integrity (verdict `invalid`).
    pub fn is_trust(self) -> bool {
        matches!(
            self,
            Code::TrustKeyNotListed
                | Code::TrustProjectScope
                | Code::TrustKeyRetired
                | Code::TrustNotPinned
                | Code::TrustKeyChanged
                | Code::TrustUnsignedDowngrade
                | Code::IndexDigestMismatch
                | Code::IndexLogMismatch
                | Code::IndexLogTooNew
                | Code::IndexLogAbsent
        ) || self.is_log()
    }

    /// Whether this problem is about the release log (verdict `untrusted`: the publisher's
    /// claim about what everyone else was shown does not hold, or cannot be checked as asked).
    pub fn is_log(self) -> bool {
        matches!(
            self,
            Code::LogMalformed
                | Code::LogBadSignature
                | Code::LogNotIncluded
                | Code::LogQuorum
                | Code::LogUnlogged
                | Code::LogUnknownKey
                | Code::LogKeyChanged
                | Code::SplitView
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// One thing wrong with a wheel: a stable code, the member it concerns, and a precise message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable machine-readable code.
    pub code: Code,
    /// The member path concerned, or `None` for the file as a whole.
    pub path: Option<String>,
    /// Human-readable, specific message (lowercase, no trailing period).
    pub message: String,
}

impl Problem {
    /// A problem about the whole file.
    pub fn file(code: Code, message: impl Into<String>) -> Self {
        Problem {
            code,
            path: None,
            message: message.into(),
        }
    }

    /// A problem about one member.
    pub fn at(code: Code, path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            code,
            path: Some(path.into()),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}: {}", self.code, p, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

/// The overall verdict for one wheel, from the weakest claim to the strongest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Broken or ambiguous archive, hash mismatch, unlisted or missing file, or a bad signature.
    Invalid,
    /// Intact, no signature found.
    Unsigned,
    /// Intact and validly signed, but no trust source covers this project.
    Signed,
    /// A trust source covers this project and does not accept this key (or it arrived unsigned).
    Untrusted,
    /// Trust on first use remembered another key for this project.
    KeyChanged,
    /// Signed by a key that a trust source lists for this project.
    Trusted,
}

impl Verdict {
    /// The stable string, as printed and serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Invalid => "invalid",
            Verdict::Unsigned => "unsigned",
            Verdict::Signed => "signed",
            Verdict::Untrusted => "untrusted",
            Verdict::KeyChanged => "key-changed",
            Verdict::Trusted => "trusted",
        }
    }

    /// Badness rank for picking the worst of several verdicts (higher is worse).
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Trusted => 0,
            Verdict::Signed => 1,
            Verdict::Unsigned => 2,
            Verdict::KeyChanged => 3,
            Verdict::Untrusted => 4,
            Verdict::Invalid => 5,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a wheel must stand for the caller to accept it (the CLI's exit status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Requirement {
    /// `unsigned`, `signed` and `trusted` pass.
    #[default]
    Intact,
    /// `signed` and `trusted` pass.
    Signed,
    /// Only `trusted` passes.
    Trusted,
}

impl Requirement {
    /// Whether `verdict` satisfies this requirement.
    pub fn accepts(self, verdict: Verdict) -> bool {
        match verdict {
            Verdict::Trusted => true,
            Verdict::Signed => self != Requirement::Trusted,
            Verdict::Unsigned => self == Requirement::Intact,
            Verdict::Invalid | Verdict::Untrusted | Verdict::KeyChanged => false,
        }
    }
}

/// Where the trust in a signature came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedBy {
    /// `key-url`, `key-file`, `pin` or `first-use`.
    pub kind: TrustKind,
    /// The key URL, file path, or a short description of the pin / first-use entry.
    pub source: String,
}

/// Kind of trust source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustKind {
    /// A JWK Set fetched from a key URL.
    KeyUrl,
    /// A JWK Set read from a local file.
    KeyFile,
    /// A pin (project → key ids) given by the user.
    Pin,
    /// The trust-on-first-use store.
    FirstUse,
    /// A key URL the user chose on first use for one project (the browser's explicit
    /// "trust keys from this key URL for this project").
    ChosenKeyUrl,
}

/// Signature serialization format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigFormat {
    /// RFC 7515 general JSON serialization.
    General,
    /// RFC 7515 flattened JSON serialization.
    Flattened,
    /// wheel 0.31's `recipients` (JWS-JS draft) entry.
    Legacy,
}

/// Where a signature was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Carrier {
    /// `<dist-info>/RECORD.jws` inside the wheel.
    Embedded,
    /// A separate `<wheel>.jws` file.
    Detached,
}

/// One signature found on the wheel and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureReport {
    /// RFC 7638 thumbprint of the signing key (computed, not copied from the header).
    pub kid: Option<String>,
    /// `SHA256:…` fingerprint of the raw public key.
    pub fingerprint: Option<String>,
    /// The `alg` header value.
    pub alg: Option<String>,
    /// Serialization format.
    pub format: SigFormat,
    /// Embedded or detached.
    pub carrier: Carrier,
    /// Where a detached signature came from (file path or URL).
    pub source: Option<String>,
    /// The signer-claimed signing time.
    pub iat: Option<i64>,
    /// The signer's key URL hint (`jku`): shown, never trusted by itself.
    pub jku: Option<String>,
    /// The public JWK from the header (for display and trust on first use).
    pub jwk: Option<serde_json::Value>,
    /// Whether the signature verified cryptographically and its payload matched this wheel.
    pub valid: bool,
    /// The trust source that accepted this key for this project, if any.
    pub trusted_by: Option<TrustedBy>,
    /// Set when the accepting key is listed as retired (Unix seconds).
    pub retired: Option<i64>,
}

/// Status of one member in the members table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberStatus {
    /// Hash and size match RECORD.
    Ok,
    /// Hash, size, CRC or inflate problem.
    Mismatch,
    /// Present in the archive, not in RECORD.
    Unlisted,
    /// Listed in RECORD, not in the archive.
    Missing,
    /// RECORD itself or an exempt signature file.
    Exempt,
    /// A directory entry.
    Directory,
}

/// One row of the members table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Member path.
    pub path: String,
    /// Uncompressed size (as read, or as declared when it could not be read).
    pub size: u64,
    /// Outcome.
    pub status: MemberStatus,
}

/// Everything verification found about one wheel. Only [`crate::verify::verify_wheel`]
/// builds one, so holding a `Report` means the checks ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The file name verified.
    pub file: String,
    /// The overall verdict.
    pub verdict: Verdict,
    /// Normalized project name (from the file name), if it parsed.
    pub project: Option<String>,
    /// Version (from the file name), if it parsed.
    pub version: Option<String>,
    /// Members whose content was hashed and compared with RECORD.
    pub files_checked: usize,
    /// Hex SHA-256 of the whole file, when it was computed.
    pub sha256: Option<String>,
    /// Signatures found.
    pub signatures: Vec<SignatureReport>,
    /// Every problem found (integrity and trust).
    pub problems: Vec<Problem>,
    /// Per-member outcomes, in archive order.
    pub members: Vec<Member>,
    /// What the release log says about this wheel, when a log proof was checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogReport>,
    /// The publisher's key URL as METADATA names it (`Project-URL: Signing keys, <url>`): a
    /// hint only, like a signature's `jku`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_url_hint: Option<String>,
    /// What the package index says about this file (`verify --index-check`, or a download).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<IndexCheck>,
    /// What an index log says about this file (`verify --index-log`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_log: Option<crate::log::index_check::IndexLogReport>,
}

/// The package index's digest for this file name, compared with the file's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexCheck {
    /// The project page asked (`<index>/<project>/`).
    pub page: String,
    /// Whether the page lists this file name.
    pub listed: bool,
    /// The index's sha256 for it (hex).
    pub sha256: Option<String>,
    /// Whether it equals this file's sha256 (none when either is unknown).
    pub matches: Option<bool>,
    /// When the index says it was uploaded (PEP 700), as given.
    pub upload_time: Option<String>,
}

/// One witness's cosignature on the checkpoint that includes the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cosigner {
    /// The witness's key name.
    pub name: String,
    /// When it cosigned (Unix seconds, from its signed timestamp).
    pub time: u64,
}

/// The release log's statement about one wheel (docs/SPEC.md "Release log").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogReport {
    /// The log's origin.
    pub origin: String,
    /// The release's leaf index.
    pub index: u64,
    /// The size of the checkpoint that includes it.
    pub tree_size: u64,
    /// Cosignatures by witnesses the policy names, verified.
    pub cosignatures: Vec<Cosigner>,
    /// Whether the policy's quorum is met.
    pub quorum: bool,
    /// When the quorum was met: the time the witnesses vouch for (Unix seconds).
    pub witnessed: Option<u64>,
    /// Consistency with what this machine saw of the log before: `first-sighting`,
    /// `consistent`, `older-consistent` (a stale copy), or `not-checked`.
    pub consistency: String,
    /// Where the log's key came from: `policy` (the witness policy lists the log) or
    /// `first-use` (its key site's `log/vkey`, remembered the first time).
    #[serde(default = "policy_key")]
    pub log_key: String,
}

fn policy_key() -> String {
    "policy".into()
}

impl Report {
    /// Record what the index says about this file. A different sha256 for the same file name
    /// is `index-digest-mismatch` (you were not served what the index serves everyone): the
    /// wheel is `untrusted` unless already `invalid`.
    pub fn check_index(&mut self, page: &str, listed: Option<(&str, Option<&str>)>) {
        let ours = self.sha256.clone();
        let (sha256, upload_time) = match listed {
            Some((sha, up)) => (Some(sha.to_ascii_lowercase()), up.map(str::to_string)),
            None => (None, None),
        };
        let matches = match (&sha256, &ours) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        };
        if matches == Some(false) {
            let msg = format!(
                "{} serves {} with sha256 {}, but this file has {}: it is not the file the index serves everyone",
                crate::display::escape(page),
                crate::display::escape(&self.file),
                sha256.as_deref().unwrap_or_default(),
                ours.as_deref().unwrap_or_default()
            );
            self.fail_log(Problem::file(Code::IndexDigestMismatch, msg));
        }
        self.index = Some(IndexCheck {
            page: page.to_string(),
            listed: listed.is_some(),
            sha256,
            matches,
            upload_time,
        });
    }

    /// Add a problem found by the caller after verification (a split view against its memory
    /// of the log, an index digest mismatch): the wheel is `untrusted` unless already `invalid`.
    pub fn fail_log(&mut self, problem: Problem) {
        if self.verdict != Verdict::Invalid {
            self.verdict = Verdict::Untrusted;
        }
        self.problems.push(problem);
    }

    /// Whether the report has a problem with this code.
    pub fn has(&self, code: Code) -> bool {
        self.problems.iter().any(|p| p.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_documented() {
        assert_eq!(Code::ZipDuplicateName.as_str(), "zip-duplicate-name");
        assert_eq!(Code::Zip64Inconsistent.as_str(), "zip64-inconsistent");
        assert_eq!(Code::SigB64.as_str(), "sig-b64");
        assert_eq!(Code::TrustKeyChanged.as_str(), "trust-key-changed");
    }

    #[test]
    fn spec_lists_every_code_and_no_other() {
        let spec = include_str!("../../docs/SPEC.md");
        let mut in_spec: Vec<String> = Vec::new();
        for part in spec.split('`') {
            let looks = [
                "zip-", "zip64-", "limit-", "wheel-", "record-", "sig-", "trust-",
            ]
            .iter()
            .any(|p| part.starts_with(p))
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if looks && !in_spec.contains(&part.to_string()) {
                in_spec.push(part.to_string());
            }
        }
        for code in in_spec.iter() {
            let parsed: Result<Code, _> =
                serde_json::from_value(serde_json::Value::String(code.clone()));
            assert!(
                parsed.is_ok(),
                "SPEC.md names `{code}` but Code has no such variant"
            );
        }
        assert!(
            in_spec.len() >= 70,
            "found only {} codes in SPEC.md",
            in_spec.len()
        );
    }

    #[test]
    fn requirement_policy() {
        assert!(Requirement::Intact.accepts(Verdict::Unsigned));
        assert!(!Requirement::Signed.accepts(Verdict::Unsigned));
        assert!(!Requirement::Trusted.accepts(Verdict::Signed));
        assert!(!Requirement::Intact.accepts(Verdict::KeyChanged));
    }
}
