//! A strict ZIP reader for wheels (docs/STRICTNESS.md rules 1–4, 10 and 11).
//!
//! RECORD signs content, not the container, so the container must be unambiguous: two ZIP
//! readers must never see different files. One parse accounts for every byte exactly once:
//! local entries from offset 0, back to back, then the central directory, the ZIP64 end
//! records if present, the end record and its comment, then end of file. Local headers and
//! central records must agree field by field. The `zip` crate is not used because its index
//! collapses duplicate names and it tolerates prefixes and gaps.
//!
//! [`read_directory`] reads the end records and central directory (seeking); [`scan`] then
//! reads the whole file once, front to back, inflating and hashing each member while it
//! streams, never holding a member in memory.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, Read, Seek, SeekFrom};

use flate2::{Decompress, FlushDecompress, Status};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::limits::{EntryComments, Limits};
use crate::names::{check_member_name, collision_key};
use crate::record::HashAlg;
use crate::report::{Code, Problem};

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_Z64_EOCD: u32 = 0x0606_4b50;
const SIG_Z64_LOCATOR: u32 = 0x0706_4b50;
const SIG_DESCRIPTOR: u32 = 0x0807_4b50;
const EOCD_LEN: u64 = 22;
const Z64_LOCATOR_LEN: u64 = 20;
const Z64_EOCD_LEN: u64 = 56;
const MAX_COMMENT: u64 = 0xFFFF;
const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DESCRIPTOR: u16 = 1 << 3;
const FLAG_STRONG_ENCRYPTION: u16 = 1 << 6;
const FLAG_UTF8: u16 = 1 << 11;
const EXTRA_ZIP64: u16 = 0x0001;
const EXTRA_UNICODE_PATH: u16 = 0x7075;
/// How many bytes to read per step while streaming a member.
const CHUNK: usize = 64 * 1024;

/// Why reading could not go on.
#[derive(Debug)]
pub enum Fatal {
    /// The archive is malformed in a way that makes the rest unreadable.
    Problem(Problem),
    /// The underlying reader failed.
    Io(io::Error),
}

impl From<io::Error> for Fatal {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Fatal::Problem(Problem::file(
                Code::ZipTruncated,
                "file ends inside a ZIP structure",
            ))
        } else {
            Fatal::Io(e)
        }
    }
}

impl From<Problem> for Fatal {
    fn from(p: Problem) -> Self {
        Fatal::Problem(p)
    }
}

fn fatal(code: Code, msg: impl Into<String>) -> Fatal {
    Fatal::Problem(Problem::file(code, msg))
}

/// One archive entry as described by its central directory record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name (lossy if it is not valid UTF-8; then a `zip-bad-name` problem is reported).
    pub name: String,
    /// The raw name bytes.
    pub raw_name: Vec<u8>,
    /// General-purpose flags.
    pub flags: u16,
    /// Compression method (0 stored, 8 deflate).
    pub method: u16,
    /// CRC-32 of the content.
    pub crc32: u32,
    /// Compressed size (after ZIP64).
    pub compressed_size: u64,
    /// Uncompressed size (after ZIP64).
    pub uncompressed_size: u64,
    /// Offset of the local header.
    pub local_offset: u64,
    /// Whether this is a directory entry (name ends with `/`).
    pub is_dir: bool,
    /// Byte range of this central record within [`Directory::tail`].
    pub cd_range: (usize, usize),
    /// Whether the entry can be read at all (supported method, not encrypted).
    pub readable: bool,
}

/// Where the end records are, relative to the start of the file.
#[derive(Debug, Clone)]
pub struct EndRecords {
    /// Offset of the ZIP64 end of central directory record, if any.
    pub zip64_record: Option<u64>,
    /// Offset of the ZIP64 locator, if any.
    pub zip64_locator: Option<u64>,
    /// Offset of the end of central directory record.
    pub eocd: u64,
}

/// The central directory and end records, checked for internal consistency.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Entries in central directory order, which is also file order.
    pub entries: Vec<Entry>,
    /// Offset of the central directory.
    pub cd_offset: u64,
    /// Size of the central directory.
    pub cd_size: u64,
    /// Total file size.
    pub file_size: u64,
    /// Every byte from `cd_offset` to the end of the file.
    pub tail: Vec<u8>,
    /// End record positions.
    pub end: EndRecords,
}

/// Little-endian field reader over a byte slice.
struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    fn rest(&self) -> usize {
        self.buf.len() - self.pos
    }
}

fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: usize) -> Result<Vec<u8>, Fatal> {
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

fn find_all(hay: &[u8], sig: u32) -> Vec<usize> {
    let needle = sig.to_le_bytes();
    hay.windows(4)
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Parsed extra fields of one header: ids are unique, blocks well formed.
struct Extras<'a> {
    fields: Vec<(u16, &'a [u8])>,
}

fn parse_extras<'a>(extra: &'a [u8], name: &str) -> Result<Extras<'a>, Problem> {
    let mut f = Fields::new(extra);
    let mut fields = Vec::new();
    while f.rest() > 0 {
        if f.rest() < 4 {
            return Err(Problem::at(
                Code::ZipBadExtra,
                name,
                format!("{} stray bytes at the end of the extra field", f.rest()),
            ));
        }
        let (id, len) = (f.u16().unwrap_or(0), f.u16().unwrap_or(0));
        let data = f.take(usize::from(len)).ok_or_else(|| {
            Problem::at(
                Code::ZipBadExtra,
                name,
                format!("extra field 0x{id:04x} overruns the extra block"),
            )
        })?;
        if fields.iter().any(|(i, _)| *i == id) {
            return Err(Problem::at(
                Code::ZipDuplicateExtra,
                name,
                format!("extra field 0x{id:04x} appears twice"),
            ));
        }
        fields.push((id, data));
    }
    Ok(Extras { fields })
}

impl Extras<'_> {
    fn get(&self, id: u16) -> Option<&[u8]> {
        self.fields.iter().find(|(i, _)| *i == id).map(|(_, d)| *d)
    }
}

/// Resolve ZIP64 values. Per APPNOTE 4.5.3 each 32-bit field equal to 0xFFFFFFFF (and the
/// 16-bit disk field equal to 0xFFFF) takes the next 8-byte (4-byte) value from the ZIP64
/// extra, in order; that is how CPython, Go and Info-ZIP read it. Real wheels also carry
/// ZIP64 extras that repeat values which were not needed (protobuf's local headers hold both
/// sizes next to ordinary 32-bit fields); those are accepted only when every repeated value
/// agrees with its 32-bit field, so no reader can take a different size from it.
fn resolve_zip64(
    extras: &Extras<'_>,
    usize32: u32,
    csize32: u32,
    offset32: Option<u32>,
    disk16: Option<u16>,
    name: &str,
) -> Result<(u64, u64, Option<u64>), Problem> {
    let bad = |m: &str| Problem::at(Code::Zip64Inconsistent, name, m.to_string());
    let need_u = usize32 == u32::MAX;
    let need_c = csize32 == u32::MAX;
    let need_o = offset32 == Some(u32::MAX);
    let need_d = disk16 == Some(u16::MAX);
    let Some(data) = extras.get(EXTRA_ZIP64) else {
        if need_u || need_c || need_o || need_d {
            return Err(bad(
                "a size or offset is 0xFFFFFFFF but there is no ZIP64 extra field",
            ));
        }
        return Ok((
            u64::from(usize32),
            u64::from(csize32),
            offset32.map(u64::from),
        ));
    };
    let needed = 8 * (usize::from(need_u) + usize::from(need_c) + usize::from(need_o))
        + if need_d { 4 } else { 0 };
    let mut f = Fields::new(data);
    let mut u = u64::from(usize32);
    let mut c = u64::from(csize32);
    let mut o = offset32.map(u64::from);
    if data.len() == needed {
        if need_u {
            u = f.u64().ok_or_else(|| bad("ZIP64 extra too short"))?;
        }
        if need_c {
            c = f.u64().ok_or_else(|| bad("ZIP64 extra too short"))?;
        }
        if need_o {
            o = Some(f.u64().ok_or_else(|| bad("ZIP64 extra too short"))?);
        }
        if need_d {
            let disk = f.u32().ok_or_else(|| bad("ZIP64 extra too short"))?;
            if disk != 0 {
                return Err(Problem::at(
                    Code::ZipMultiDisk,
                    name,
                    format!("entry starts on disk {disk}"),
                ));
            }
        }
        return Ok((u, c, o));
    }
    // Values in canonical order (sizes, then offset): each one present must either fill a
    // 0xFFFFFFFF field or repeat the 32-bit value exactly.
    if need_d || data.len() % 8 != 0 || data.len() > 24 || (offset32.is_none() && data.len() > 16) {
        return Err(bad(&format!(
            "ZIP64 extra field of {} bytes does not fit the header's placeholders",
            data.len()
        )));
    }
    let slots: [(&str, bool, u64); 3] = [
        ("uncompressed size", need_u, u),
        ("compressed size", need_c, c),
        ("offset", need_o, o.unwrap_or(0)),
    ];
    let mut out = [u, c, o.unwrap_or(0)];
    for (i, (what, needed, v32)) in slots.iter().enumerate().take(data.len() / 8) {
        let v = f.u64().ok_or_else(|| bad("ZIP64 extra too short"))?;
        if !needed && v != *v32 {
            return Err(bad(&format!(
                "ZIP64 extra {what} {v} differs from the header's {v32}"
            )));
        }
        out[i] = v;
    }
    if (need_u && data.len() < 8) || (need_c && data.len() < 16) || (need_o && data.len() < 24) {
        return Err(bad("ZIP64 extra field lacks a value the header needs"));
    }
    Ok((out[0], out[1], o.map(|_| out[2])))
}

/// The Info-ZIP Unicode path extra, if present, must name the same path.
fn check_unicode_path(extras: &Extras<'_>, raw_name: &[u8], name: &str) -> Result<(), Problem> {
    if let Some(d) = extras.get(EXTRA_UNICODE_PATH) {
        let ok = d.len() >= 5
            && d[0] == 1
            && u32::from_le_bytes([d[1], d[2], d[3], d[4]]) == crc32fast::hash(raw_name)
            && &d[5..] == raw_name;
        if !ok {
            return Err(Problem::at(
                Code::ZipUnicodePathMismatch,
                name,
                "Unicode path extra field names a different path than the header",
            ));
        }
    }
    Ok(())
}

/// Read and check the end records and the central directory. Per-entry problems that do not
/// stop reading (bad names, duplicates, unsupported methods…) go to `problems`.
pub fn read_directory<R: Read + Seek>(
    r: &mut R,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> Result<Directory, Fatal> {
    let file_size = r.seek(SeekFrom::End(0))?;
    if file_size < EOCD_LEN {
        return Err(fatal(
            Code::ZipNoEocd,
            format!("file is {file_size} bytes, too small to be a ZIP archive"),
        ));
    }
    // The end record is within the last 22 + 65535 bytes; ZIP64 records sit just before it.
    let tail_len = file_size.min(EOCD_LEN + MAX_COMMENT + Z64_LOCATOR_LEN + Z64_EOCD_LEN);
    let tail_start = file_size - tail_len;
    let tail = read_at(r, tail_start, usize::try_from(tail_len).unwrap_or(0))?;
    let candidates = find_all(&tail, SIG_EOCD);
    let exact: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| {
            tail.len() - i >= 22 && {
                let clen = usize::from(u16::from_le_bytes([tail[i + 20], tail[i + 21]]));
                i + 22 + clen == tail.len()
            }
        })
        .collect();
    let eocd_in_tail = match exact.as_slice() {
        [one] => *one,
        [] if candidates.is_empty() => {
            return Err(fatal(Code::ZipNoEocd, "no end of central directory record"))
        }
        [] => {
            let last = candidates.last().copied().unwrap_or(0);
            if tail.len() - last < 22 {
                return Err(fatal(
                    Code::ZipTruncated,
                    format!(
                        "the file ends {} bytes into the 22-byte end of central directory record",
                        tail.len() - last
                    ),
                ));
            }
            let clen = usize::from(u16::from_le_bytes([tail[last + 20], tail[last + 21]]));
            let after = tail.len() - last - 22;
            if after < clen {
                return Err(fatal(Code::ZipTruncated, format!("the end record declares a {clen}-byte comment but the file ends {after} bytes into it")));
            }
            let extra = after - clen;
            let nul = tail[tail.len() - extra..].iter().all(|b| *b == 0);
            return Err(fatal(
                Code::ZipTrailingData,
                format!(
                    "{extra} bytes{} after the end of central directory record and its comment",
                    if nul { " of NUL padding" } else { "" }
                ),
            ));
        }
        _ => {
            return Err(fatal(
                Code::ZipMultipleEocd,
                "more than one end of central directory record fits the end of the file",
            ))
        }
    };
    let eocd_pos = tail_start + eocd_in_tail as u64;
    let mut f = Fields::new(&tail[eocd_in_tail + 4..]);
    let trunc = || {
        fatal(
            Code::ZipTruncated,
            "truncated end of central directory record",
        )
    };
    let disk = f.u16().ok_or_else(trunc)?;
    let cd_disk = f.u16().ok_or_else(trunc)?;
    let entries_disk = f.u16().ok_or_else(trunc)?;
    let entries_total = f.u16().ok_or_else(trunc)?;
    let cd_size32 = f.u32().ok_or_else(trunc)?;
    let cd_offset32 = f.u32().ok_or_else(trunc)?;
    let comment_len = f.u16().ok_or_else(trunc)?;
    let comment = &tail[eocd_in_tail + 22..];
    debug_assert_eq!(comment.len(), usize::from(comment_len));
    for sig in [SIG_EOCD, SIG_Z64_EOCD, SIG_Z64_LOCATOR] {
        if !find_all(comment, sig).is_empty() {
            return Err(fatal(
                Code::ZipMultipleEocd,
                "the archive comment contains an end record signature",
            ));
        }
    }
    if disk != 0 || cd_disk != 0 {
        return Err(fatal(
            Code::ZipMultiDisk,
            format!("multi-disk archive (disk {disk}, central directory on disk {cd_disk})"),
        ));
    }
    if entries_disk != entries_total {
        return Err(fatal(
            Code::ZipCountMismatch,
            format!(
                "end record says {entries_disk} entries on this disk but {entries_total} in total"
            ),
        ));
    }

    // ZIP64: a locator immediately before the end record, pointing at a record immediately
    // before the locator.
    let mut end = EndRecords {
        zip64_record: None,
        zip64_locator: None,
        eocd: eocd_pos,
    };
    let (mut count, mut cd_size, mut cd_offset) = (
        u64::from(entries_total),
        u64::from(cd_size32),
        u64::from(cd_offset32),
    );
    let has_locator = eocd_pos >= Z64_LOCATOR_LEN && {
        let p = usize::try_from(eocd_pos - Z64_LOCATOR_LEN - tail_start).ok();
        p.and_then(|p| tail.get(p..p + 4)) == Some(&SIG_Z64_LOCATOR.to_le_bytes()[..])
    };
    let cd_end_expected;
    if has_locator {
        let loc_pos = eocd_pos - Z64_LOCATOR_LEN;
        let loc = read_at(r, loc_pos, Z64_LOCATOR_LEN as usize)?;
        let mut lf = Fields::new(&loc[4..]);
        let bad = |m: &str| fatal(Code::Zip64Inconsistent, m.to_string());
        let z64_disk = lf.u32().ok_or_else(|| bad("short locator"))?;
        let rec_pos = lf.u64().ok_or_else(|| bad("short locator"))?;
        let disks = lf.u32().ok_or_else(|| bad("short locator"))?;
        if z64_disk != 0 || disks != 1 {
            return Err(fatal(
                Code::ZipMultiDisk,
                format!("ZIP64 locator names disk {z64_disk} of {disks}"),
            ));
        }
        if rec_pos.checked_add(Z64_EOCD_LEN) != Some(loc_pos) {
            return Err(bad(
                "ZIP64 locator does not point at a ZIP64 end record right before it",
            ));
        }
        let rec = read_at(r, rec_pos, Z64_EOCD_LEN as usize)?;
        let mut rf = Fields::new(&rec);
        if rf.u32() != Some(SIG_Z64_EOCD) {
            return Err(bad("no ZIP64 end record where the locator points"));
        }
        let rec_size = rf.u64().ok_or_else(|| bad("short ZIP64 end record"))?;
        if rec_size != Z64_EOCD_LEN - 12 {
            return Err(bad("ZIP64 end record has extensible data (not supported)"));
        }
        let _versions = rf.u32();
        let (d1, d2) = (rf.u32().unwrap_or(1), rf.u32().unwrap_or(1));
        let (n_disk, n_total) = (rf.u64().unwrap_or(0), rf.u64().unwrap_or(0));
        let (z_size, z_offset) = (rf.u64().unwrap_or(0), rf.u64().unwrap_or(0));
        if d1 != 0 || d2 != 0 {
            return Err(fatal(
                Code::ZipMultiDisk,
                "ZIP64 end record names another disk",
            ));
        }
        if n_disk != n_total {
            return Err(fatal(
                Code::ZipCountMismatch,
                "ZIP64 end record entry counts disagree",
            ));
        }
        let agree = |v32: u64, sentinel: u64, v64: u64| v32 == sentinel || v32 == v64;
        if !agree(count, 0xFFFF, n_total)
            || !agree(cd_size, 0xFFFF_FFFF, z_size)
            || !agree(cd_offset, 0xFFFF_FFFF, z_offset)
        {
            return Err(bad("end record and ZIP64 end record disagree"));
        }
        count = n_total;
        cd_size = z_size;
        cd_offset = z_offset;
        end.zip64_record = Some(rec_pos);
        end.zip64_locator = Some(loc_pos);
        cd_end_expected = rec_pos;
    } else {
        if entries_total == 0xFFFF || cd_size32 == u32::MAX || cd_offset32 == u32::MAX {
            return Err(fatal(
                Code::Zip64Inconsistent,
                "end record uses ZIP64 placeholders but there is no ZIP64 locator",
            ));
        }
        cd_end_expected = eocd_pos;
    }
    if count > limits.max_entries {
        return Err(fatal(
            Code::LimitEntries,
            format!("{count} entries; the limit is {}", limits.max_entries),
        ));
    }
    if cd_size > limits.max_central_directory {
        return Err(fatal(
            Code::LimitCentralDirectory,
            format!(
                "central directory is {cd_size} bytes; the limit is {}",
                limits.max_central_directory
            ),
        ));
    }
    let cd_end = cd_offset
        .checked_add(cd_size)
        .ok_or_else(|| fatal(Code::ZipCdBounds, "central directory offset overflows"))?;
    if cd_end > cd_end_expected {
        return Err(fatal(Code::ZipCdBounds, format!("central directory ({cd_offset}+{cd_size}) runs past the end records at {cd_end_expected}")));
    }
    if cd_end < cd_end_expected {
        // Another end record in between is a second archive's (or a forged) end record.
        let between = read_at(
            r,
            cd_end,
            usize::try_from(cd_end_expected - cd_end)
                .unwrap_or(0)
                .min(1 << 20),
        )?;
        if [SIG_EOCD, SIG_Z64_EOCD, SIG_Z64_LOCATOR]
            .iter()
            .any(|sig| !find_all(&between, *sig).is_empty())
        {
            return Err(fatal(Code::ZipMultipleEocd, "another end record signature lies between the central directory and the end record"));
        }
        return Err(fatal(Code::ZipCdBounds, format!("the central directory ({cd_offset}+{cd_size}) ends {} bytes before the end records", cd_end_expected - cd_end)));
    }
    // The whole tail (central directory through end of file) is kept: it is small (bounded
    // above) and it is what `embed` rewrites and the file digest covers.
    let tail_all = read_at(
        r,
        cd_offset,
        usize::try_from(file_size - cd_offset)
            .map_err(|_| fatal(Code::ZipCdBounds, "central directory too large"))?,
    )?;
    let cd = &tail_all[..usize::try_from(cd_size).unwrap_or(0)];
    let entries = parse_central(cd, count, limits, problems)?;
    check_layout(&entries, cd_offset, problems)?;
    Ok(Directory {
        entries,
        cd_offset,
        cd_size,
        file_size,
        tail: tail_all,
        end,
    })
}

fn parse_central(
    cd: &[u8],
    count: u64,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> Result<Vec<Entry>, Fatal> {
    let mut f = Fields::new(cd);
    let mut entries = Vec::with_capacity(usize::try_from(count.min(100_000)).unwrap_or(0));
    while f.rest() > 0 {
        let start = f.pos;
        let bad = || {
            fatal(
                Code::ZipBadHeader,
                format!(
                    "malformed central directory record at offset {start} of the central directory"
                ),
            )
        };
        if f.u32() != Some(SIG_CENTRAL) {
            return Err(bad());
        }
        let made_by = f.u16().ok_or_else(bad)?;
        let _needed = f.u16().ok_or_else(bad)?;
        let flags = f.u16().ok_or_else(bad)?;
        let method = f.u16().ok_or_else(bad)?;
        let _time = f.u32().ok_or_else(bad)?;
        let crc32 = f.u32().ok_or_else(bad)?;
        let csize32 = f.u32().ok_or_else(bad)?;
        let usize32 = f.u32().ok_or_else(bad)?;
        let name_len = usize::from(f.u16().ok_or_else(bad)?);
        let extra_len = usize::from(f.u16().ok_or_else(bad)?);
        let comment_len = usize::from(f.u16().ok_or_else(bad)?);
        let disk = f.u16().ok_or_else(bad)?;
        let _internal = f.u16().ok_or_else(bad)?;
        let external = f.u32().ok_or_else(bad)?;
        let offset32 = f.u32().ok_or_else(bad)?;
        let raw_name = f.take(name_len).ok_or_else(bad)?.to_vec();
        let extra = f.take(extra_len).ok_or_else(bad)?;
        let comment = f.take(comment_len).ok_or_else(bad)?;
        if entries.len() as u64 >= count {
            return Err(fatal(Code::ZipCountMismatch, format!("the central directory holds more records than the {count} the end record declares")));
        }
        if name_len > limits.max_name_length {
            return Err(fatal(
                Code::LimitNameLength,
                format!(
                    "a member name is {name_len} bytes; the limit is {}",
                    limits.max_name_length
                ),
            ));
        }
        let name = String::from_utf8_lossy(&raw_name).into_owned();
        if let Err(why) = check_member_name(&raw_name, flags & FLAG_UTF8 != 0) {
            problems.push(Problem::at(Code::ZipBadName, name.clone(), why));
        }
        // docs/STRICTNESS.md rule 10. PyPI refuses these on upload ("Comment in central
        // directory", pypi/warehouse#18846); no build backend writes one.
        if !comment.is_empty() && limits.entry_comments == EntryComments::Reject {
            problems.push(Problem::at(
                Code::ZipEntryComment,
                name.clone(),
                format!("its central directory record carries a {comment_len}-byte file comment"),
            ));
        }
        let extras = parse_extras(extra, &name)?;
        check_unicode_path(&extras, &raw_name, &name)?;
        let (usize64, csize64, offset) =
            resolve_zip64(&extras, usize32, csize32, Some(offset32), Some(disk), &name)?;
        if disk != 0 && disk != u16::MAX {
            return Err(Fatal::Problem(Problem::at(
                Code::ZipMultiDisk,
                name,
                format!("entry starts on disk {disk}"),
            )));
        }
        let local_offset = offset.unwrap_or(0);
        let is_dir = name.ends_with('/');
        let mut readable = true;
        if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION) != 0 {
            problems.push(Problem::at(
                Code::ZipEncrypted,
                name.clone(),
                "entry is encrypted",
            ));
            readable = false;
        }
        if method != 0 && method != 8 {
            problems.push(Problem::at(
                Code::ZipUnsupportedMethod,
                name.clone(),
                format!("compression method {method} (only stored and deflate are allowed)"),
            ));
            readable = false;
        }
        // Unix hosts keep the file type in the high 16 bits of the external attributes.
        if made_by >> 8 == 3 {
            let kind = (external >> 16) & 0o170000;
            let ok = match kind {
                0 => true,
                0o100000 => !is_dir,
                0o040000 => is_dir,
                _ => false,
            };
            if !ok {
                problems.push(Problem::at(
                    Code::ZipNotRegularFile,
                    name.clone(),
                    format!(
                        "Unix file type {:o} (only regular files and directories)",
                        kind >> 12
                    ),
                ));
            }
        }
        if is_dir && usize64 != 0 {
            problems.push(Problem::at(
                Code::ZipBadDirectory,
                name.clone(),
                format!("directory entry declares {usize64} bytes of content"),
            ));
        }
        entries.push(Entry {
            name,
            raw_name,
            flags,
            method,
            crc32,
            compressed_size: csize64,
            uncompressed_size: usize64,
            local_offset,
            is_dir,
            cd_range: (start, f.pos),
            readable,
        });
    }
    if entries.len() as u64 != count {
        return Err(fatal(
            Code::ZipCountMismatch,
            format!(
                "the end record declares {count} entries but the central directory holds {}",
                entries.len()
            ),
        ));
    }
    Ok(entries)
}

/// Names unique and non-colliding; local headers in the same order as central records.
fn check_layout(
    entries: &[Entry],
    cd_offset: u64,
    problems: &mut Vec<Problem>,
) -> Result<(), Fatal> {
    let mut raw: HashSet<&[u8]> = HashSet::new();
    let mut folded: HashMap<String, &str> = HashMap::new();
    for e in entries {
        if !raw.insert(&e.raw_name) {
            problems.push(Problem::at(
                Code::ZipDuplicateName,
                e.name.clone(),
                "name appears more than once",
            ));
            continue;
        }
        let key = collision_key(e.name.trim_end_matches('/'));
        if let Some(other) = folded.get(&key) {
            problems.push(Problem::at(
                Code::ZipNameCollision,
                e.name.clone(),
                format!("collides with {other:?} on case-insensitive or normalizing file systems"),
            ));
        } else {
            folded.insert(key, &e.name);
        }
    }
    // A file whose path is also a directory prefix of another member.
    let files: HashSet<String> = entries
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| collision_key(&e.name))
        .collect();
    for e in entries {
        let key = collision_key(&e.name);
        let mut prefix = key.as_str();
        while let Some(i) = prefix.rfind('/') {
            prefix = &prefix[..i];
            if files.contains(prefix) {
                problems.push(Problem::at(
                    Code::ZipNameCollision,
                    e.name.clone(),
                    format!("its parent {prefix:?} is also a file"),
                ));
                break;
            }
        }
    }
    let mut prev: Option<&Entry> = None;
    for e in entries {
        match prev {
            None if e.local_offset != 0 => {
                return Err(fatal(
                    Code::ZipPrefixData,
                    format!("{} bytes before the first local header", e.local_offset),
                ));
            }
            Some(p) if e.local_offset == p.local_offset => {
                return Err(Fatal::Problem(Problem::at(
                    Code::ZipOverlap,
                    e.name.clone(),
                    format!("shares its local header with {:?}", p.name),
                )));
            }
            Some(p) if e.local_offset < p.local_offset => {
                return Err(Fatal::Problem(Problem::at(
                    Code::ZipEntryOrder,
                    e.name.clone(),
                    "central directory order differs from the order of entries in the file",
                )));
            }
            _ => {}
        }
        if e.local_offset >= cd_offset {
            return Err(Fatal::Problem(Problem::at(
                Code::ZipCdBounds,
                e.name.clone(),
                "local header offset is inside or past the central directory",
            )));
        }
        prev = Some(e);
    }
    if entries.is_empty() && cd_offset != 0 {
        return Err(fatal(
            Code::ZipPrefixData,
            format!("{cd_offset} bytes before the central directory of an empty archive"),
        ));
    }
    Ok(())
}

/// A running digest of one of RECORD's algorithms.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-384.
    Sha384(Sha384),
    /// SHA-512.
    Sha512(Sha512),
}

impl Hasher {
    /// A fresh hasher for `alg`.
    pub fn new(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha256 => Hasher::Sha256(Sha256::new()),
            HashAlg::Sha384 => Hasher::Sha384(Sha384::new()),
            HashAlg::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }
    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }
    /// The final digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// What reading one member's data produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberData {
    /// Uncompressed bytes actually produced.
    pub size: u64,
    /// Digest, when one was asked for and the data read cleanly.
    pub digest: Option<Vec<u8>>,
    /// Whether inflate, size and CRC checks all passed.
    pub intact: bool,
}

/// Reads sequentially, counting the position and optionally hashing every byte consumed.
struct Stream<R> {
    inner: R,
    pos: u64,
    file_hash: Option<Sha256>,
    /// The inflater and output buffer, reused from member to member (a wheel has thousands
    /// of small members; allocating and zeroing them for each one costs more than inflating).
    scratch: Scratch,
    /// [`ScanSink::pipeline_min`] (the pipelined inflate runs on native threads only).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    pipeline_min: u64,
}

#[derive(Default)]
struct Scratch {
    inflater: Option<Decompress>,
    out: Vec<u8>,
}

impl<R: BufRead> Stream<R> {
    fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, Fatal> {
        let mut buf = vec![0u8; n];
        self.inner.read_exact(&mut buf)?;
        self.pos += n as u64;
        if let Some(h) = &mut self.file_hash {
            h.update(&buf);
        }
        Ok(buf)
    }

    /// Peek up to `n` bytes without consuming (may return fewer at EOF).
    fn peek(&mut self, n: usize) -> Result<Vec<u8>, Fatal> {
        let buf = self.inner.fill_buf()?;
        if buf.len() >= n {
            return Ok(buf[..n].to_vec());
        }
        Ok(buf.to_vec())
    }

    /// Call `f` on successive chunks covering exactly `n` bytes.
    fn for_chunks(
        &mut self,
        mut n: u64,
        mut f: impl FnMut(&[u8], bool) -> Result<usize, Fatal>,
    ) -> Result<(), Fatal> {
        while n > 0 {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Err(fatal(Code::ZipTruncated, "file ends inside member data"));
            }
            let take = buf
                .len()
                .min(usize::try_from(n).unwrap_or(usize::MAX))
                .min(CHUNK);
            let last = take as u64 == n;
            let chunk = &buf[..take];
            let used = f(chunk, last)?;
            debug_assert!(used <= take);
            if let Some(h) = &mut self.file_hash {
                h.update(&chunk[..used]);
            }
            self.inner.consume(used);
            self.pos += used as u64;
            n -= used as u64;
            if used == 0 && !last {
                return Err(fatal(Code::ZipBadDeflate, "inflate made no progress"));
            }
            if used == 0 {
                break;
            }
        }
        Ok(())
    }
}

/// Progress and output sink for [`scan`].
pub trait ScanSink {
    /// Which digest to compute for entry `index`, if any.
    fn digest_for(&mut self, index: usize) -> Option<HashAlg>;
    /// Whether entry `index` (declared `size` bytes), which needs `alg`, is digested elsewhere:
    /// its content then goes to [`ScanSink::content`] and its [`MemberData::digest`] stays
    /// `None`. Every other check (inflate, sizes, CRC-32) still happens here.
    fn external(&mut self, _index: usize, _size: u64, _alg: HashAlg) -> bool {
        false
    }
    /// The next chunk of an external member's content (at most its declared size in all).
    fn content(&mut self, _index: usize, _chunk: &[u8]) {}
    /// Entry `index` was read.
    fn member(&mut self, index: usize, data: MemberData);
    /// `done` of the file's bytes have been read.
    fn progress(&mut self, done: u64);
    /// Members at least this big (and at least 16 MiB) are hashed on a second thread while
    /// this one inflates, on a machine with more than one core; `u64::MAX`: never.
    fn pipeline_min(&mut self) -> u64 {
        0
    }
}

/// Declared sizes within limits, checked before any data is read. Actual sizes are then
/// enforced while inflating: a member never yields more than it declares (inflating stops one
/// chunk past it, and the member is a `zip-size-mismatch`), so these bounds on declared sizes
/// also bound the bytes actually inflated, in total and in ratio to the file's size.
pub(crate) fn check_declared_sizes(dir: &Directory, limits: &Limits) -> Result<(), Fatal> {
    let mut total: u64 = 0;
    for e in &dir.entries {
        if e.uncompressed_size > limits.max_member_size {
            return Err(Fatal::Problem(Problem::at(
                Code::LimitMemberSize,
                e.name.clone(),
                format!(
                    "declares {} bytes; the limit is {}",
                    e.uncompressed_size, limits.max_member_size
                ),
            )));
        }
        total = total.saturating_add(e.uncompressed_size);
        if total > limits.max_total_size {
            return Err(fatal(
                Code::LimitTotalSize,
                format!(
                    "members declare more than {total} bytes in total; the limit is {}",
                    limits.max_total_size
                ),
            ));
        }
    }
    // docs/STRICTNESS.md rule 11, PyPI's upload rule (pypi/warehouse,
    // warehouse/forklift/legacy.py): reject when the total uncompressed size is over 64 MiB
    // and that total over the size of the whole file is over 50. Like PyPI, the ratio is
    // taken over the file's size (headers included), not over the sum of compressed sizes.
    let file_size = dir.file_size.max(1);
    if total > limits.compression_ratio_floor
        && u128::from(total) > u128::from(limits.max_compression_ratio) * u128::from(file_size)
    {
        return Err(fatal(
            Code::LimitCompressionRatio,
            format!(
                "members declare {total} bytes in total, {}:1 over the file's {file_size} bytes; above {} bytes the limit is {}:1",
                total / file_size,
                limits.compression_ratio_floor,
                limits.max_compression_ratio
            ),
        ));
    }
    Ok(())
}

/// Cut the entries into contiguous units for verifying on `parts` threads or workers: about
/// equal cost each (declared size plus compressed span: inflating and hashing scale with the
/// one, reading with the other), and every member costing at least a unit's share alone in
/// its unit, so a huge member drags no neighbours along. Always at least one unit (an empty
/// archive has the empty one: it still checks that nothing precedes the central directory).
/// The CLI's threads and the browser's workers both cut archives here.
pub(crate) fn plan_units(dir: &Directory, parts: usize) -> Vec<std::ops::Range<usize>> {
    let n = dir.entries.len();
    let costs: Vec<u64> = (0..n).map(|i| unit_cost(dir, i)).collect();
    let total: u64 = costs.iter().sum();
    let target = (total / parts.max(1) as u64).max(1);
    let mut units = Vec::new();
    let (mut start, mut acc) = (0, 0u64);
    for (i, &c) in costs.iter().enumerate() {
        if c >= target && acc > 0 {
            units.push(start..i);
            (start, acc) = (i, 0);
        }
        acc += c;
        if acc >= target {
            units.push(start..i + 1);
            (start, acc) = (i + 1, 0);
        }
    }
    if start < n || units.is_empty() {
        units.push(start..n);
    }
    units
}

/// The cost model of [`plan_units`] for entry `i`: its declared size plus the bytes from its
/// local header to the next entry (or the central directory).
pub(crate) fn unit_cost(dir: &Directory, i: usize) -> u64 {
    let e = &dir.entries[i];
    let next = dir
        .entries
        .get(i + 1)
        .map_or(dir.cd_offset, |n| n.local_offset);
    e.uncompressed_size
        .saturating_add(next.saturating_sub(e.local_offset))
}

/// Stream the entries in `range` front to back: check every local header against its
/// central record, inflate and CRC-check every member, hash the ones `sink` asks for, and
/// account for every byte from the range's first local header to where the next range (or
/// the central directory) begins. `reader` must be positioned at that first local header.
/// With `file_digest` and the full range, also returns the SHA-256 of the whole file.
pub(crate) fn scan<R: Read>(
    reader: R,
    dir: &Directory,
    range: std::ops::Range<usize>,
    file_digest: bool,
    sink: &mut dyn ScanSink,
    problems: &mut Vec<Problem>,
) -> Result<Option<[u8; 32]>, Fatal> {
    let whole = range.start == 0 && range.end == dir.entries.len();
    let start = dir.entries.get(range.start).map_or(0, |e| e.local_offset);
    let end = dir
        .entries
        .get(range.end)
        .map_or(dir.cd_offset, |e| e.local_offset);
    let mut s = Stream {
        inner: io::BufReader::with_capacity(512 * 1024, reader),
        pos: start,
        file_hash: (file_digest && whole).then(Sha256::new),
        scratch: Scratch::default(),
        pipeline_min: sink.pipeline_min(),
    };
    let mut last_progress = start;
    let next_unit = range.end;
    for index in range {
        let e = &dir.entries[index];
        check_position(s.pos, e)?;
        let zip64_local = read_local_header(&mut s, e)?;
        let alg = if e.readable {
            sink.digest_for(index)
        } else {
            None
        };
        let data = if e.readable {
            match alg {
                Some(a) if sink.external(index, e.uncompressed_size, a) => {
                    let mut feed = |chunk: &[u8]| sink.content(index, chunk);
                    read_data(&mut s, e, None, Some(&mut feed), problems)?
                }
                _ => read_data(&mut s, e, alg.map(Hasher::new), None, problems)?,
            }
        } else {
            s.for_chunks(e.compressed_size, |c, _| Ok(c.len()))?;
            MemberData {
                size: 0,
                digest: None,
                intact: false,
            }
        };
        if e.flags & FLAG_DESCRIPTOR != 0 {
            read_descriptor(&mut s, e, zip64_local, problems)?;
        }
        sink.member(index, data);
        if s.pos - last_progress >= 4 << 20 {
            last_progress = s.pos;
            sink.progress(s.pos);
        }
    }
    // Where the next unit begins: the same check, with the same problem, as a scan through
    // both units would make at that entry, so the report does not depend on the cut.
    if let Some(e) = dir.entries.get(next_unit) {
        check_position(s.pos, e)?;
    } else if s.pos != end {
        return Err(if s.pos < end {
            fatal(
                Code::ZipGap,
                format!(
                    "{} bytes that belong to no entry before offset {end}",
                    end - s.pos
                ),
            )
        } else {
            fatal(
                Code::ZipOverlap,
                format!(
                    "an entry runs past offset {end} into the next entry or the central directory"
                ),
            )
        });
    }
    if whole {
        sink.progress(dir.file_size);
    }
    Ok(s.file_hash.map(|mut h| {
        h.update(&dir.tail);
        h.finalize().into()
    }))
}

/// The stream must be exactly at `e`'s local header: no gap, no overlap with what came before.
fn check_position(pos: u64, e: &Entry) -> Result<(), Fatal> {
    match pos.cmp(&e.local_offset) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Less => Err(Fatal::Problem(Problem::at(
            Code::ZipGap,
            e.name.clone(),
            format!(
                "{} bytes that belong to no entry before this entry",
                e.local_offset - pos
            ),
        ))),
        std::cmp::Ordering::Greater => Err(Fatal::Problem(Problem::at(
            Code::ZipOverlap,
            e.name.clone(),
            format!(
                "local header at {} overlaps the previous entry, which ends at {pos}",
                e.local_offset
            ),
        ))),
    }
}

/// Read and check a local header against its central record. Returns whether the local
/// header carries a ZIP64 extra (which makes a data descriptor use 8-byte sizes).
fn read_local_header<R: BufRead>(s: &mut Stream<R>, e: &Entry) -> Result<bool, Fatal> {
    let at = |code: Code, m: String| Fatal::Problem(Problem::at(code, e.name.clone(), m));
    let fixed = s.read_exact(30)?;
    let mut f = Fields::new(&fixed);
    if f.u32() != Some(SIG_LOCAL) {
        return Err(at(
            Code::ZipBadHeader,
            format!("no local header signature at offset {}", e.local_offset),
        ));
    }
    let _needed = f.u16();
    let flags = f.u16().unwrap_or(0);
    let method = f.u16().unwrap_or(0);
    let _time = f.u32();
    let crc = f.u32().unwrap_or(0);
    let csize32 = f.u32().unwrap_or(0);
    let usize32 = f.u32().unwrap_or(0);
    let name_len = usize::from(f.u16().unwrap_or(0));
    let extra_len = usize::from(f.u16().unwrap_or(0));
    let name = s.read_exact(name_len)?;
    let extra = s.read_exact(extra_len)?;
    let mismatch = |field: &str, local: String, central: String| {
        at(
            Code::ZipHeaderMismatch,
            format!("local header {field} {local} differs from central directory {central}"),
        )
    };
    if name != e.raw_name {
        return Err(mismatch(
            "name",
            format!("{:?}", String::from_utf8_lossy(&name)),
            format!("{:?}", e.name),
        ));
    }
    if flags != e.flags {
        return Err(mismatch(
            "flags",
            format!("0x{flags:04x}"),
            format!("0x{:04x}", e.flags),
        ));
    }
    if method != e.method {
        return Err(mismatch("method", method.to_string(), e.method.to_string()));
    }
    let extras = parse_extras(&extra, &e.name)?;
    check_unicode_path(&extras, &name, &e.name)?;
    let zip64_local = extras.get(EXTRA_ZIP64).is_some();
    if flags & FLAG_DESCRIPTOR != 0 {
        // CRC and sizes follow the data; the local fields must be zero or agree.
        let zeroes = crc == 0 && csize32 == 0 && usize32 == 0 && !zip64_local;
        if !zeroes {
            let (u, c, _) = resolve_zip64(&extras, usize32, csize32, None, None, &e.name)?;
            if crc != e.crc32 || u != e.uncompressed_size || c != e.compressed_size {
                return Err(at(Code::ZipDataDescriptorMismatch, "local header with a data descriptor declares CRC/sizes that differ from the central directory".into()));
            }
        }
        return Ok(zip64_local);
    }
    let (u, c, _) = resolve_zip64(&extras, usize32, csize32, None, None, &e.name)?;
    if crc != e.crc32 {
        return Err(mismatch(
            "CRC",
            format!("{crc:08x}"),
            format!("{:08x}", e.crc32),
        ));
    }
    if c != e.compressed_size {
        return Err(mismatch(
            "compressed size",
            c.to_string(),
            e.compressed_size.to_string(),
        ));
    }
    if u != e.uncompressed_size {
        return Err(mismatch(
            "uncompressed size",
            u.to_string(),
            e.uncompressed_size.to_string(),
        ));
    }
    Ok(zip64_local)
}

fn read_descriptor<R: BufRead>(
    s: &mut Stream<R>,
    e: &Entry,
    zip64: bool,
    problems: &mut Vec<Problem>,
) -> Result<(), Fatal> {
    let size_len = if zip64 { 8 } else { 4 };
    let head = s.peek(4)?;
    let with_sig = head == SIG_DESCRIPTOR.to_le_bytes();
    let len = if with_sig { 4 } else { 0 } + 4 + 2 * size_len;
    let d = s.read_exact(len)?;
    let mut f = Fields::new(&d[if with_sig { 4 } else { 0 }..]);
    let crc = f.u32().unwrap_or(0);
    let (c, u) = if zip64 {
        (f.u64().unwrap_or(0), f.u64().unwrap_or(0))
    } else {
        (
            u64::from(f.u32().unwrap_or(0)),
            u64::from(f.u32().unwrap_or(0)),
        )
    };
    if crc != e.crc32 || c != e.compressed_size || u != e.uncompressed_size {
        problems.push(Problem::at(
            Code::ZipDataDescriptorMismatch,
            e.name.clone(),
            format!("data descriptor (crc {crc:08x}, {c} → {u} bytes) differs from the central directory (crc {:08x}, {} → {} bytes)", e.crc32, e.compressed_size, e.uncompressed_size),
        ));
    }
    Ok(())
}

/// Where a member's content goes when the caller needs it.
type Feed<'a> = &'a mut dyn FnMut(&[u8]);

/// Stream one member's compressed bytes: inflate (or copy), count, CRC, hash. Output past
/// the declared size is never produced beyond one chunk, so a lying header cannot make this
/// run away; `out` receives the content (at most the declared size) when the caller needs it.
fn read_data<R: BufRead>(
    s: &mut Stream<R>,
    e: &Entry,
    hasher: Option<Hasher>,
    mut out: Option<Feed<'_>>,
    problems: &mut Vec<Problem>,
) -> Result<MemberData, Fatal> {
    #[cfg(not(target_arch = "wasm32"))]
    if out.is_none()
        && e.uncompressed_size >= PIPELINE_MIN.max(s.pipeline_min)
        && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
    {
        let (inflated, crc, hasher) = read_data_pipelined(s, e, hasher)?;
        return Ok(finish_member(e, inflated, crc, hasher, problems));
    }
    let mut crc = crc32fast::Hasher::new();
    let mut hasher = hasher;
    let inflated = inflate_member(s, e, &mut |chunk: &[u8]| {
        crc.update(chunk);
        if let Some(h) = &mut hasher {
            h.update(chunk);
        }
        if let Some(o) = &mut out {
            o(chunk);
        }
    })?;
    Ok(finish_member(e, inflated, crc.finalize(), hasher, problems))
}

/// Members at least this large are hashed on a second thread while this one inflates.
#[cfg(not(target_arch = "wasm32"))]
const PIPELINE_MIN: u64 = 16 << 20;

/// Inflate on this thread; CRC-32 and the RECORD digest on another, fed through a bounded
/// channel of reused buffers (at most 8 chunks in flight: memory stays bounded).
#[cfg(not(target_arch = "wasm32"))]
fn read_data_pipelined<R: BufRead>(
    s: &mut Stream<R>,
    e: &Entry,
    hasher: Option<Hasher>,
) -> Result<(Inflated, u32, Option<Hasher>), Fatal> {
    use std::sync::mpsc::sync_channel;
    std::thread::scope(|scope| {
        let (full, filled) = sync_channel::<Vec<u8>>(8);
        let (give_back, spare) = sync_channel::<Vec<u8>>(10);
        let worker = scope.spawn(move || {
            let mut crc = crc32fast::Hasher::new();
            let mut hasher = hasher;
            for buf in filled {
                crc.update(&buf);
                if let Some(h) = &mut hasher {
                    h.update(&buf);
                }
                let _ = give_back.try_send(buf);
            }
            (crc.finalize(), hasher)
        });
        let inflated = inflate_member(s, e, &mut |out: &[u8]| {
            let mut buf = spare
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
            buf.clear();
            buf.extend_from_slice(out);
            // The worker only stops when this sender is dropped, so a send cannot fail.
            let _ = full.send(buf);
        });
        drop(full);
        let (crc, hasher) = worker
            .join()
            .map_err(|_| Fatal::Io(io::Error::other("the hashing thread failed")))?;
        Ok((inflated?, crc, hasher))
    })
}

/// What inflating one member produced, before its checks.
struct Inflated {
    produced: u64,
    over: bool,
    problem: Option<Problem>,
}

/// Stream one member's data through inflate (or copy it, when stored), passing at most the
/// declared size of content to `feed`.
fn inflate_member<R: BufRead>(
    s: &mut Stream<R>,
    e: &Entry,
    feed: &mut dyn FnMut(&[u8]),
) -> Result<Inflated, Fatal> {
    let declared = e.uncompressed_size;
    let mut produced: u64 = 0;
    let mut over = false;
    let mut emit = |out: &[u8], produced: &mut u64, over: &mut bool| {
        let room = declared.saturating_sub(*produced);
        let keep = out.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        *over |= keep < out.len();
        if keep > 0 {
            feed(&out[..keep]);
        }
        *produced += keep as u64;
    };
    let mut problem: Option<Problem> = None;
    let at = |code: Code, m: &str| Some(Problem::at(code, e.name.clone(), m.to_string()));
    if e.method == 0 {
        s.for_chunks(e.compressed_size, |c, _| {
            emit(c, &mut produced, &mut over);
            Ok(c.len())
        })?;
    } else {
        // zlib-rs through flate2: a pure-Rust port of zlib-ng (about twice miniz_oxide's
        // inflate speed here), raw deflate as in ZIP, and it compiles to wasm.
        let mut inflater = match s.scratch.inflater.take() {
            Some(mut d) => {
                d.reset(false);
                d
            }
            None => Decompress::new(false),
        };
        let mut out = std::mem::take(&mut s.scratch.out);
        out.resize(CHUNK, 0);
        let mut ended = false;
        let step = |inflater: &mut Decompress, input: &[u8], out: &mut [u8]| {
            let (in0, out0) = (inflater.total_in(), inflater.total_out());
            let status = inflater.decompress(input, out, FlushDecompress::None);
            let consumed = usize::try_from(inflater.total_in() - in0).unwrap_or(usize::MAX);
            let written = usize::try_from(inflater.total_out() - out0).unwrap_or(usize::MAX);
            (status, consumed, written)
        };
        s.for_chunks(e.compressed_size, |chunk, last| {
            if ended || over || problem.is_some() {
                return Ok(chunk.len());
            }
            let mut used = 0;
            loop {
                let (status, consumed, written) = step(&mut inflater, &chunk[used..], &mut out);
                used += consumed;
                emit(&out[..written], &mut produced, &mut over);
                match status {
                    Ok(Status::StreamEnd) => {
                        ended = true;
                        if used < chunk.len() || !last {
                            problem = at(
                                Code::ZipCompressedSizeMismatch,
                                "the deflate stream ends before the declared compressed size",
                            );
                        }
                        return Ok(chunk.len());
                    }
                    Ok(_) if used == chunk.len() && written < out.len() => return Ok(used),
                    Ok(Status::Ok) => {}
                    Ok(Status::BufError) => {
                        problem = at(Code::ZipBadDeflate, "inflate stalled with input left");
                        return Ok(chunk.len());
                    }
                    Err(err) => {
                        problem = at(
                            Code::ZipBadDeflate,
                            &format!("corrupt deflate data ({err})"),
                        );
                        return Ok(chunk.len());
                    }
                }
                if over {
                    return Ok(chunk.len());
                }
            }
        })?;
        // Drain output still buffered inside the inflater after the last input byte.
        while !ended && !over && problem.is_none() {
            let (status, _, written) = step(&mut inflater, &[], &mut out);
            emit(&out[..written], &mut produced, &mut over);
            match status {
                Ok(Status::StreamEnd) => ended = true,
                Ok(_) if written > 0 => {}
                Err(err) => {
                    problem = at(
                        Code::ZipBadDeflate,
                        &format!("corrupt deflate data ({err})"),
                    )
                }
                Ok(_) => {
                    problem = at(
                        Code::ZipCompressedSizeMismatch,
                        "the deflate stream continues past the declared compressed size",
                    )
                }
            }
        }
        s.scratch = Scratch {
            inflater: Some(inflater),
            out,
        };
    }
    Ok(Inflated {
        produced,
        over,
        problem,
    })
}

/// The member's checks: inflate problems, the declared size, then the CRC-32.
fn finish_member(
    e: &Entry,
    inflated: Inflated,
    crc: u32,
    hasher: Option<Hasher>,
    problems: &mut Vec<Problem>,
) -> MemberData {
    let Inflated {
        produced,
        over,
        problem,
    } = inflated;
    let declared = e.uncompressed_size;
    let mut intact = problem.is_none();
    if let Some(p) = problem {
        problems.push(p);
    } else if over || produced != declared {
        let got = if over {
            format!("more than {declared}")
        } else {
            produced.to_string()
        };
        problems.push(Problem::at(
            Code::ZipSizeMismatch,
            e.name.clone(),
            format!("content is {got} bytes, the headers declare {declared}"),
        ));
        intact = false;
    } else if crc != e.crc32 {
        problems.push(Problem::at(
            Code::ZipCrcMismatch,
            e.name.clone(),
            format!("CRC-32 is {crc:08x}, the headers declare {:08x}", e.crc32),
        ));
        intact = false;
    }
    MemberData {
        size: produced,
        digest: if intact {
            hasher.map(Hasher::finish)
        } else {
            None
        },
        intact,
    }
}

/// Read one small member fully into memory (RECORD, RECORD.jws), bounded by `max`; `code`
/// is the limit's problem code. Every check of [`scan`] applies; the first problem found
/// is the error.
pub(crate) fn read_member<R: Read + Seek>(
    r: &mut R,
    e: &Entry,
    max: u64,
    code: Code,
) -> Result<Vec<u8>, Fatal> {
    if e.uncompressed_size > max {
        return Err(Fatal::Problem(Problem::at(
            code,
            e.name.clone(),
            format!("{} bytes; the limit is {max}", e.uncompressed_size),
        )));
    }
    if !e.readable {
        return Err(Fatal::Problem(Problem::at(
            Code::ZipUnsupportedMethod,
            e.name.clone(),
            "cannot be read (encrypted or unsupported method)",
        )));
    }
    r.seek(SeekFrom::Start(e.local_offset))?;
    let mut s = Stream {
        inner: io::BufReader::new(&mut *r),
        pos: e.local_offset,
        file_hash: None,
        scratch: Scratch::default(),
        pipeline_min: 0,
    };
    read_local_header(&mut s, e)?;
    let mut problems = Vec::new();
    let mut content = Vec::new();
    read_data(
        &mut s,
        e,
        None,
        Some(&mut |chunk: &[u8]| content.extend_from_slice(chunk)),
        &mut problems,
    )?;
    match problems.into_iter().next() {
        Some(p) => Err(Fatal::Problem(p)),
        None => Ok(content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extra(values: &[u64]) -> Vec<u8> {
        let mut x = vec![1, 0];
        x.extend_from_slice(&((values.len() * 8) as u16).to_le_bytes());
        for v in values {
            x.extend_from_slice(&v.to_le_bytes());
        }
        x
    }

    fn resolve(x: &[u8], u: u32, c: u32, o: Option<u32>) -> Result<(u64, u64, Option<u64>), Code> {
        let e = parse_extras(x, "m").map_err(|p| p.code)?;
        resolve_zip64(&e, u, c, o, o.map(|_| 0), "m").map_err(|p| p.code)
    }

    #[test]
    fn zip64_by_the_book() {
        assert_eq!(
            resolve(&extra(&[5_000_000_000]), u32::MAX, 10, Some(0)),
            Ok((5_000_000_000, 10, Some(0)))
        );
        assert_eq!(
            resolve(&extra(&[7, 8, 9]), u32::MAX, u32::MAX, Some(u32::MAX)),
            Ok((7, 8, Some(9)))
        );
        assert_eq!(resolve(&[], 1, 2, Some(3)), Ok((1, 2, Some(3))));
        assert_eq!(
            resolve(&[], u32::MAX, 2, Some(3)),
            Err(Code::Zip64Inconsistent)
        );
        assert_eq!(
            resolve(&extra(&[7]), u32::MAX, u32::MAX, Some(0)),
            Err(Code::Zip64Inconsistent)
        );
    }

    fn sized(sizes: &[u64], file_size: u64) -> Directory {
        let entry = |(i, &u): (usize, &u64)| Entry {
            name: format!("m{i}"),
            raw_name: format!("m{i}").into_bytes(),
            flags: 0,
            method: 8,
            crc32: 0,
            compressed_size: 0,
            uncompressed_size: u,
            local_offset: 0,
            is_dir: false,
            cd_range: (0, 0),
            readable: true,
        };
        Directory {
            entries: sizes.iter().enumerate().map(entry).collect(),
            cd_offset: 0,
            cd_size: 0,
            file_size,
            tail: Vec::new(),
            end: EndRecords {
                zip64_record: None,
                zip64_locator: None,
                eocd: 0,
            },
        }
    }

    fn ratio_check(sizes: &[u64], file_size: u64, limits: &Limits) -> Result<(), Code> {
        check_declared_sizes(&sized(sizes, file_size), limits).map_err(|f| match f {
            Fatal::Problem(p) => p.code,
            Fatal::Io(e) => panic!("{e}"),
        })
    }

    #[test]
    fn compression_ratio_as_pypi_states_it() {
        let l = Limits::default();
        const MIB: u64 = 1 << 20;
        // At or under 64 MiB in total, any ratio passes (PyPI: `decompressed_size > 64 MiB`).
        assert_eq!(ratio_check(&[64 * MIB], 1, &l), Ok(()));
        assert_eq!(ratio_check(&[32 * MIB, 32 * MIB], 1000, &l), Ok(()));
        // Over it, the total over the file's size may be 50 but not more.
        let total = 50 * 1_400_000; // 70,000,000 > 64 MiB
        assert_eq!(ratio_check(&[total], 1_400_000, &l), Ok(()));
        assert_eq!(
            ratio_check(&[total], 1_399_999, &l),
            Err(Code::LimitCompressionRatio)
        );
        assert_eq!(
            ratio_check(&[200 * MIB, 56 * MIB], 256 * MIB / 1000, &l),
            Err(Code::LimitCompressionRatio),
            "summed over members"
        );
        // torch-shaped: 1.1 GB over 540 MB.
        assert_eq!(ratio_check(&[800 << 20, 300 << 20], 540 << 20, &l), Ok(()));
        // Configurable, and both parts are needed.
        let loose = Limits {
            max_compression_ratio: u64::MAX,
            ..Limits::default()
        };
        assert_eq!(ratio_check(&[256 * MIB], 1, &loose), Ok(()));
        let low_floor = Limits {
            compression_ratio_floor: 0,
            ..Limits::default()
        };
        assert_eq!(
            ratio_check(&[1000], 10, &low_floor),
            Err(Code::LimitCompressionRatio)
        );
        // The size limits still come first.
        assert_eq!(ratio_check(&[9 << 30], 1, &l), Err(Code::LimitMemberSize));
    }

    #[test]
    fn entry_comments_follow_the_policy() {
        let whl =
            include_bytes!("../../tests/vectors/fail_zip_entry_comment/demo-1.0-py3-none-any.whl");
        let read = |limits: &Limits| {
            let mut problems = Vec::new();
            read_directory(&mut io::Cursor::new(&whl[..]), limits, &mut problems)
                .map(|_| {
                    problems
                        .iter()
                        .map(|p| (p.code, p.path.clone()))
                        .collect::<Vec<_>>()
                })
                .map_err(|_| ())
        };
        assert_eq!(
            read(&Limits::default()),
            Ok(vec![(
                Code::ZipEntryComment,
                Some("demo/__init__.py".to_string())
            )])
        );
        assert_eq!(
            read(&Limits {
                entry_comments: EntryComments::Allow,
                ..Limits::default()
            }),
            Ok(vec![])
        );
    }

    #[test]
    fn zip64_repeating_values_must_agree() {
        // protobuf's local headers: both sizes repeated next to ordinary 32-bit fields.
        assert_eq!(
            resolve(&extra(&[421_992, 163_187]), 421_992, 163_187, None),
            Ok((421_992, 163_187, None))
        );
        assert_eq!(
            resolve(&extra(&[421_992, 999]), 421_992, 163_187, None),
            Err(Code::Zip64Inconsistent)
        );
        assert_eq!(
            resolve(&extra(&[1, 2, 3]), 1, 2, None),
            Err(Code::Zip64Inconsistent),
            "no offset in a local header"
        );
        assert_eq!(
            resolve(&extra(&[1, 2, 3]), 1, 2, Some(3)),
            Ok((1, 2, Some(3)))
        );
        assert_eq!(
            resolve(&extra(&[1, 2, 4]), 1, 2, Some(3)),
            Err(Code::Zip64Inconsistent)
        );
        let mut odd = extra(&[1]);
        odd.extend_from_slice(&[0, 0, 0, 0]);
        odd[2] = 12;
        assert_eq!(resolve(&odd, 1, 2, Some(3)), Err(Code::Zip64Inconsistent));
    }
}
