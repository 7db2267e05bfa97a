//! Signing: detached `.jws` documents, and embedding / removing `RECORD.jws` so that
//! `unsign` after `sign --embed` restores the original file byte for byte.
//!
//! Embedding appends one stored entry after the last local entry, appends its central record
//! after the existing ones (copied verbatim), and patches the counts, sizes and offsets of the
//! end records in place (ZIP64 placeholders stay placeholders). Removing reverses exactly that.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::jws::{self, Compat, Payload};
use crate::keys::PrivateKey;
use crate::report::{Problem, Verdict};
use crate::verify::Verified;
use crate::zip::Directory;

/// Why signing or unsigning failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SignError {
    /// The wheel did not verify; signing it would vouch for a broken archive.
    Invalid(Vec<Problem>),
    /// The wheel already carries `RECORD.jws`.
    AlreadySigned(String),
    /// There is no `RECORD.jws` to remove.
    NotSigned,
    /// `RECORD.jws` is not the last entry, so it cannot be removed without rewriting.
    NotLast(String),
    /// An offset or count no longer fits the archive's 32-bit fields.
    TooLarge(&'static str),
    /// The key URL to record as the `jku` hint is one verifiers would refuse.
    BadKeyUrl(String),
    /// Reading or writing failed.
    Io(io::Error),
}

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignError::Invalid(problems) => {
                write!(f, "refusing to sign an invalid wheel:")?;
                for p in problems {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
            SignError::AlreadySigned(p) => write!(f, "already signed ({p} exists); run `wheelsig unsign` first"),
            SignError::NotSigned => f.write_str("not signed: no RECORD.jws in the archive"),
            SignError::NotLast(p) => write!(f, "{p} is not the last entry; it was not added by `wheelsig sign --embed` and cannot be removed byte-exactly"),
            SignError::TooLarge(what) => write!(f, "{what} does not fit the archive's 32-bit field and the archive has no ZIP64 end record"),
            SignError::BadKeyUrl(e) => write!(f, "key URL hint: {e}"),
            SignError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SignError {}

impl From<io::Error> for SignError {
    fn from(e: io::Error) -> Self {
        SignError::Io(e)
    }
}

impl From<crate::verify::VerifyError> for SignError {
    fn from(e: crate::verify::VerifyError) -> Self {
        match e {
            crate::verify::VerifyError::Io(e) => SignError::Io(e),
        }
    }
}

fn check_hint(jku: Option<&str>) -> Result<(), SignError> {
    match jku {
        Some(u) => crate::urls::check_jku(u).map_err(|e| SignError::BadKeyUrl(e.to_string())),
        None => Ok(()),
    }
}

/// Verify the wheel read from `reader` (integrity only: trust does not block signing), then
/// sign it: the detached `.jws` document. The one entry point every edge (CLI, site
/// publisher, key tool) uses, so nothing signs a wheel that verifiers would call `invalid`.
pub fn verify_and_sign_detached<R: Read + Seek>(
    reader: R,
    file_name: &str,
    key: &PrivateKey,
    iat: i64,
    jku: Option<&str>,
) -> Result<String, SignError> {
    check_hint(jku)?;
    let input = crate::verify::VerifyInput {
        file_name: file_name.to_string(),
        file_digest: crate::verify::FileDigest::Compute,
        ..Default::default()
    };
    let verified = crate::verify::verify_wheel(reader, &input, &mut |_, _| {})?;
    detached(&verified, key, iat, jku)
}

/// Verify the wheel read from `reader`, then write a copy with `<dist-info>/RECORD.jws`
/// appended to `out` (what `wheelsig sign --embed` writes).
pub fn verify_and_embed<R: Read + Seek, W: Write>(
    mut reader: R,
    file_name: &str,
    key: &PrivateKey,
    iat: i64,
    jku: Option<&str>,
    out: W,
) -> Result<(), SignError> {
    check_hint(jku)?;
    let input = crate::verify::VerifyInput {
        file_name: file_name.to_string(),
        ..Default::default()
    };
    let verified = crate::verify::verify_wheel(&mut reader, &input, &mut |_, _| {})?;
    embed(&mut reader, &verified, key, iat, jku, out)
}

/// The integrity checks must have passed. Trust problems do not block signing.
fn require_intact(v: &Verified) -> Result<(&Directory, [u8; 32]), SignError> {
    let integrity: Vec<Problem> = v
        .report
        .problems
        .iter()
        .filter(|p| !p.code.is_trust())
        .cloned()
        .collect();
    match (&v.directory, v.record_sha256) {
        (Some(d), Some(r)) if v.report.verdict != Verdict::Invalid || integrity.is_empty() => {
            Ok((d, r))
        }
        _ => Err(SignError::Invalid(integrity)),
    }
}

/// Build a detached signature for a verified wheel. `verified` must have been produced with
/// [`crate::verify::FileDigest::Compute`].
fn detached(
    v: &Verified,
    key: &PrivateKey,
    iat: i64,
    jku: Option<&str>,
) -> Result<String, SignError> {
    let (_, record) = require_intact(v)?;
    let file_sha256 = v
        .report
        .sha256
        .clone()
        .ok_or(SignError::TooLarge("file digest (not computed)"))?;
    let payload = Payload {
        hash: jws::record_hash_claim(&record),
        iat: Some(iat),
        filename: Some(v.report.file.clone()),
        file_sha256: Some(file_sha256),
    };
    Ok(jws::sign(key, &payload, jku, Compat::Rfc7515))
}

/// The `.dist-info` directory of a verified wheel (from its RECORD member).
fn dist_info(dir: &Directory) -> Option<String> {
    dir.entries
        .iter()
        .find_map(|e| {
            e.name
                .strip_suffix("/RECORD")
                .filter(|d| d.ends_with(".dist-info") && !d.contains('/'))
        })
        .map(str::to_string)
}

/// Write a copy of the wheel with `<dist-info>/RECORD.jws` appended as its last entry.
fn embed<R: Read + Seek, W: Write>(
    mut reader: R,
    v: &Verified,
    key: &PrivateKey,
    iat: i64,
    jku: Option<&str>,
    mut out: W,
) -> Result<(), SignError> {
    let (dir, record) = require_intact(v)?;
    let d = dist_info(dir).ok_or_else(|| SignError::Invalid(v.report.problems.clone()))?;
    let name = format!("{d}/RECORD.jws");
    if dir.entries.iter().any(|e| e.name == name) {
        return Err(SignError::AlreadySigned(name));
    }
    let payload = Payload {
        hash: jws::record_hash_claim(&record),
        iat: Some(iat),
        filename: None,
        file_sha256: None,
    };
    let doc = jws::sign(key, &payload, jku, Compat::WithLegacy);
    let data = doc.as_bytes();
    let crc = crc32fast::hash(data);
    let size = u32::try_from(data.len()).map_err(|_| SignError::TooLarge("signature size"))?;
    let name_len = u16::try_from(name.len()).map_err(|_| SignError::TooLarge("name length"))?;
    let flags: u16 = if name.is_ascii() { 0 } else { 1 << 11 };
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;

    let mut local = Vec::with_capacity(30 + name.len() + data.len());
    local.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    local.extend_from_slice(&20u16.to_le_bytes());
    local.extend_from_slice(&flags.to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes()); // stored
    local.extend_from_slice(&0u16.to_le_bytes()); // time
    local.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
    local.extend_from_slice(&crc.to_le_bytes());
    local.extend_from_slice(&size.to_le_bytes());
    local.extend_from_slice(&size.to_le_bytes());
    local.extend_from_slice(&name_len.to_le_bytes());
    local.extend_from_slice(&0u16.to_le_bytes());
    local.extend_from_slice(name.as_bytes());
    local.extend_from_slice(data);

    let offset = dir.cd_offset;
    let (offset32, extra) = match u32::try_from(offset) {
        Ok(o) if o != u32::MAX => (o, Vec::new()),
        _ => {
            let mut x = Vec::with_capacity(12);
            x.extend_from_slice(&1u16.to_le_bytes());
            x.extend_from_slice(&8u16.to_le_bytes());
            x.extend_from_slice(&offset.to_le_bytes());
            (u32::MAX, x)
        }
    };
    let mut central = Vec::with_capacity(46 + name.len() + extra.len());
    central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    central.extend_from_slice(&0x0314u16.to_le_bytes()); // made by Unix, spec 2.0
    central.extend_from_slice(&20u16.to_le_bytes());
    central.extend_from_slice(&flags.to_le_bytes());
    central.extend_from_slice(&0u16.to_le_bytes());
    central.extend_from_slice(&0u16.to_le_bytes());
    central.extend_from_slice(&DOS_DATE_1980_01_01.to_le_bytes());
    central.extend_from_slice(&crc.to_le_bytes());
    central.extend_from_slice(&size.to_le_bytes());
    central.extend_from_slice(&size.to_le_bytes());
    central.extend_from_slice(&name_len.to_le_bytes());
    central.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    central.extend_from_slice(&0u16.to_le_bytes()); // comment
    central.extend_from_slice(&0u16.to_le_bytes()); // disk
    central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    central.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
    central.extend_from_slice(&offset32.to_le_bytes());
    central.extend_from_slice(name.as_bytes());
    central.extend_from_slice(&extra);

    let count = dir.entries.len() as u64 + 1;
    let cd_size = dir.cd_size + central.len() as u64;
    let cd_offset = dir.cd_offset + local.len() as u64;
    let end = patch_end(dir, count, cd_size, cd_offset)?;

    reader.seek(SeekFrom::Start(0))?;
    io::copy(&mut (&mut reader).take(dir.cd_offset), &mut out)?;
    out.write_all(&local)?;
    out.write_all(&dir.tail[..cd_len(dir)])?;
    out.write_all(&central)?;
    out.write_all(&end)?;
    out.flush()?;
    Ok(())
}

/// A wheel's embedded `<name>.dist-info/RECORD.jws`: its bytes (at most the signature size
/// limit) and member name, for `wheelsig inspect`. The archive must read strictly.
pub fn embedded_signature<R: Read + Seek>(reader: &mut R) -> Result<(Vec<u8>, String), String> {
    let limits = crate::limits::Limits::default();
    let mut problems = Vec::new();
    let dir = crate::zip::read_directory(reader, &limits, &mut problems).map_err(|e| match e {
        crate::zip::Fatal::Problem(p) => p.to_string(),
        crate::zip::Fatal::Io(e) => e.to_string(),
    })?;
    if let Some(p) = problems.first() {
        return Err(p.to_string());
    }
    let mut found = dir.entries.iter().filter(|e| {
        e.name
            .strip_suffix("/RECORD.jws")
            .is_some_and(|d| d.ends_with(".dist-info") && !d.contains('/'))
    });
    let e = found
        .next()
        .ok_or("no embedded RECORD.jws (a detached signature is <wheel>.jws next to it)")?;
    if found.next().is_some() {
        return Err("more than one */RECORD.jws".into());
    }
    let bytes = crate::zip::read_member(
        reader,
        e,
        limits.max_signature_size,
        crate::report::Code::LimitSignatureSize,
    )
    .map_err(|err| match err {
        crate::zip::Fatal::Problem(p) => p.to_string(),
        crate::zip::Fatal::Io(e) => e.to_string(),
    })?;
    Ok((bytes, e.name.clone()))
}

/// Write a copy of the wheel without its trailing `RECORD.jws`.
pub fn unsign<R: Read + Seek, W: Write>(
    mut reader: R,
    dir: &Directory,
    mut out: W,
) -> Result<(), SignError> {
    let Some(last) = dir.entries.last() else {
        return Err(SignError::NotSigned);
    };
    let jws = dir.entries.iter().find(|e| {
        e.name
            .strip_suffix("/RECORD.jws")
            .is_some_and(|d| d.ends_with(".dist-info") && !d.contains('/'))
    });
    match jws {
        None => return Err(SignError::NotSigned),
        Some(e) if e.name != last.name => return Err(SignError::NotLast(e.name.clone())),
        Some(_) => {}
    }
    let (rec_start, rec_end) = last.cd_range;
    if rec_end != cd_len(dir) {
        return Err(SignError::NotLast(last.name.clone()));
    }
    let count = dir.entries.len() as u64 - 1;
    let cd_size = dir.cd_size - (rec_end - rec_start) as u64;
    let cd_offset = last.local_offset;
    let end = patch_end(dir, count, cd_size, cd_offset)?;
    reader.seek(SeekFrom::Start(0))?;
    io::copy(&mut (&mut reader).take(last.local_offset), &mut out)?;
    out.write_all(&dir.tail[..rec_start])?;
    out.write_all(&end)?;
    out.flush()?;
    Ok(())
}

fn cd_len(dir: &Directory) -> usize {
    usize::try_from(dir.cd_size).unwrap_or(usize::MAX)
}

/// The end records (ZIP64 record, locator, end record, comment) with new values patched in.
fn patch_end(
    dir: &Directory,
    count: u64,
    cd_size: u64,
    cd_offset: u64,
) -> Result<Vec<u8>, SignError> {
    let mut end = dir.tail[cd_len(dir)..].to_vec();
    let base = dir.cd_offset + dir.cd_size;
    let rel = |pos: u64| usize::try_from(pos - base).unwrap_or(usize::MAX);
    if let (Some(rec), Some(loc)) = (dir.end.zip64_record, dir.end.zip64_locator) {
        let r = rel(rec);
        end[r + 24..r + 32].copy_from_slice(&count.to_le_bytes());
        end[r + 32..r + 40].copy_from_slice(&count.to_le_bytes());
        end[r + 40..r + 48].copy_from_slice(&cd_size.to_le_bytes());
        end[r + 48..r + 56].copy_from_slice(&cd_offset.to_le_bytes());
        let l = rel(loc);
        end[l + 8..l + 16].copy_from_slice(&(cd_offset + cd_size).to_le_bytes());
    }
    let e = rel(dir.end.eocd);
    let zip64 = dir.end.zip64_record.is_some();
    let put16 =
        |end: &mut Vec<u8>, at: usize, v: u64, what: &'static str| -> Result<(), SignError> {
            if u16::from_le_bytes([end[at], end[at + 1]]) == u16::MAX && zip64 {
                return Ok(());
            }
            let v = u16::try_from(v)
                .ok()
                .filter(|v| *v != u16::MAX)
                .ok_or(SignError::TooLarge(what))?;
            end[at..at + 2].copy_from_slice(&v.to_le_bytes());
            Ok(())
        };
    let put32 =
        |end: &mut Vec<u8>, at: usize, v: u64, what: &'static str| -> Result<(), SignError> {
            if u32::from_le_bytes([end[at], end[at + 1], end[at + 2], end[at + 3]]) == u32::MAX
                && zip64
            {
                return Ok(());
            }
            let v = u32::try_from(v)
                .ok()
                .filter(|v| *v != u32::MAX)
                .ok_or(SignError::TooLarge(what))?;
            end[at..at + 4].copy_from_slice(&v.to_le_bytes());
            Ok(())
        };
    put16(&mut end, e + 8, count, "entry count")?;
    put16(&mut end, e + 10, count, "entry count")?;
    put32(&mut end, e + 12, cd_size, "central directory size")?;
    put32(&mut end, e + 16, cd_offset, "central directory offset")?;
    Ok(end)
}
