//! RECORD parsing (PEP 376 / 427), strictly (docs/STRICTNESS.md rule 6).

use crate::encoding::b64url_decode;
use crate::names::check_member_name;
use crate::report::{Code, Problem};

/// Hash algorithms RECORD may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(HashAlg::Sha256),
            "sha384" => Some(HashAlg::Sha384),
            "sha512" => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Name as written in RECORD.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }
}

/// One RECORD row for a member other than RECORD itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// Path, byte-equal to the member name it describes.
    pub path: String,
    /// Hash algorithm.
    pub alg: HashAlg,
    /// Expected digest.
    pub digest: Vec<u8>,
    /// Expected size, when given.
    pub size: Option<u64>,
}

/// A parsed RECORD: the rows that must match members, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Rows other than RECORD's own, in order.
    pub entries: Vec<RecordEntry>,
}

/// Parse RECORD's bytes. `record_path` is `<dist-info>/RECORD`. Row-level problems are
/// collected into `problems` (each with the row's path); rows with problems are left out of
/// the returned entries so that they are not also reported as missing.
pub fn parse_record(bytes: &[u8], record_path: &str, problems: &mut Vec<Problem>) -> Record {
    let mut record = Record::default();
    if bytes.starts_with(b"\xef\xbb\xbf") {
        problems.push(Problem::at(
            Code::RecordEncoding,
            record_path,
            "RECORD starts with a byte order mark",
        ));
        return record;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem::at(
                Code::RecordEncoding,
                record_path,
                format!(
                    "RECORD is not UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            ));
            return record;
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut self_row = false;
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() {
        problems.push(Problem::at(
            Code::RecordSelfRow,
            record_path,
            "RECORD is empty",
        ));
        return record;
    }
    for (i, raw_line) in body.split('\n').enumerate() {
        let line_no = i + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let fields = match split_csv(line) {
            Ok(f) => f,
            Err(msg) => {
                problems.push(Problem::at(
                    Code::RecordSyntax,
                    record_path,
                    format!("line {line_no}: {msg}"),
                ));
                continue;
            }
        };
        if fields.len() != 3 {
            problems.push(Problem::at(
                Code::RecordSyntax,
                record_path,
                format!(
                    "line {line_no}: {} fields, expected 3 (path,hash,size)",
                    fields.len()
                ),
            ));
            continue;
        }
        let (path, hash, size) = (&fields[0], &fields[1], &fields[2]);
        if !seen.insert(path.clone()) {
            problems.push(Problem::at(
                Code::RecordDuplicate,
                path.clone(),
                format!("line {line_no}: path listed twice"),
            ));
            continue;
        }
        // The same rules as member names: a RECORD path must name a member byte for byte.
        if let Err(why) = check_member_name(path.as_bytes(), true) {
            problems.push(Problem::at(
                Code::RecordBadPath,
                path.clone(),
                format!("line {line_no}: {why}"),
            ));
            continue;
        }
        if path == record_path {
            self_row = true;
            if !hash.is_empty() || !size.is_empty() {
                problems.push(Problem::at(
                    Code::RecordSelfRow,
                    path.clone(),
                    format!("line {line_no}: RECORD's own row must be exactly `{record_path},,`"),
                ));
            }
            continue;
        }
        if hash.is_empty() {
            problems.push(Problem::at(
                Code::RecordMissingHash,
                path.clone(),
                format!("line {line_no}: no hash"),
            ));
            continue;
        }
        let Some((alg_name, digest_b64)) = hash.split_once('=') else {
            problems.push(Problem::at(
                Code::RecordBadHash,
                path.clone(),
                format!("line {line_no}: hash {hash:?} is not <algorithm>=<digest>"),
            ));
            continue;
        };
        let Some(alg) = HashAlg::parse(alg_name) else {
            problems.push(Problem::at(
                Code::RecordHashAlgorithm,
                path.clone(),
                format!("line {line_no}: hash algorithm {alg_name:?} not allowed (sha256, sha384, sha512)"),
            ));
            continue;
        };
        let digest = match b64url_decode(digest_b64) {
            Some(d) if d.len() == alg.digest_len() => d,
            Some(d) => {
                problems.push(Problem::at(
                    Code::RecordBadHash,
                    path.clone(),
                    format!(
                        "line {line_no}: {alg_name} digest is {} bytes, expected {}",
                        d.len(),
                        alg.digest_len()
                    ),
                ));
                continue;
            }
            None => {
                problems.push(Problem::at(
                    Code::RecordBadHash,
                    path.clone(),
                    format!("line {line_no}: digest is not canonical unpadded base64url"),
                ));
                continue;
            }
        };
        let size = if size.is_empty() {
            None
        } else if size.len() <= 20 && size.bytes().all(|b| b.is_ascii_digit()) {
            match size.parse::<u64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(Problem::at(
                        Code::RecordBadSize,
                        path.clone(),
                        format!("line {line_no}: size {size:?} out of range"),
                    ));
                    continue;
                }
            }
        } else {
            problems.push(Problem::at(
                Code::RecordBadSize,
                path.clone(),
                format!("line {line_no}: size {size:?} is not plain digits"),
            ));
            continue;
        };
        record.entries.push(RecordEntry {
            path: path.clone(),
            alg,
            digest,
            size,
        });
    }
    if !self_row {
        problems.push(Problem::at(
            Code::RecordSelfRow,
            record_path,
            format!("RECORD does not list itself as `{record_path},,`"),
        ));
    }
    record
}

/// Split one CSV line (RFC 4180 quoting, as Python's `csv` module writes it).
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut at_field_start = true;
    loop {
        match chars.next() {
            None => {
                fields.push(std::mem::take(&mut cur));
                return Ok(fields);
            }
            Some('"') if at_field_start => {
                // Quoted field: runs to the closing quote; "" is a literal quote.
                loop {
                    match chars.next() {
                        None => return Err("unterminated quoted field".into()),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cur.push('"');
                        }
                        Some('"') => break,
                        Some(c) => cur.push(c),
                    }
                }
                match chars.next() {
                    None => {
                        fields.push(std::mem::take(&mut cur));
                        return Ok(fields);
                    }
                    Some(',') => {
                        fields.push(std::mem::take(&mut cur));
                        at_field_start = true;
                    }
                    Some(c) => return Err(format!("character {c:?} after a closing quote")),
                }
            }
            Some(',') => {
                fields.push(std::mem::take(&mut cur));
                at_field_start = true;
            }
            Some('"') => return Err("quote inside an unquoted field".into()),
            Some(c) => {
                cur.push(c);
                at_field_start = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RP: &str = "demo-1.0.dist-info/RECORD";
    const H: &str = "sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU";

    fn parse(text: &str) -> (Record, Vec<Problem>) {
        let mut p = Vec::new();
        let r = parse_record(text.as_bytes(), RP, &mut p);
        (r, p)
    }

    fn codes(p: &[Problem]) -> Vec<Code> {
        p.iter().map(|p| p.code).collect()
    }

    #[test]
    fn good_record() {
        let (r, p) = parse(&format!(
            "demo/x.py,{H},0\r\n\"demo/a,b.py\",{H},\n{RP},,\n"
        ));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.entries[1].path, "demo/a,b.py");
        assert_eq!(r.entries[0].size, Some(0));
    }

    #[test]
    fn bad_rows() {
        let cases: &[(&str, Code)] = &[
            ("demo/x.py,sha256=abc", Code::RecordSyntax),
            (
                "demo/x.py,md5=1B2M2Y8AsgTpgAmY7PhCfg,0",
                Code::RecordHashAlgorithm,
            ),
            (
                "demo/x.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=,0",
                Code::RecordBadHash,
            ),
            (
                "demo/x.py,sha256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU,0",
                Code::RecordBadHash,
            ),
            ("demo/x.py,sha256=AAAA,0", Code::RecordBadHash),
            ("demo/x.py,,", Code::RecordMissingHash),
            (
                "/etc/x,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0",
                Code::RecordBadPath,
            ),
            (
                "../x,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0",
                Code::RecordBadPath,
            ),
            (
                "a\\x,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0",
                Code::RecordBadPath,
            ),
            (
                "demo/x.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,+1",
                Code::RecordBadSize,
            ),
            (
                "demo/x.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU, 1",
                Code::RecordBadSize,
            ),
            ("demo/x.py,\"sha\"256,1", Code::RecordSyntax),
        ];
        for (row, code) in cases {
            let (_, p) = parse(&format!("{row}\n{RP},,\n"));
            assert_eq!(codes(&p), vec![*code], "row {row:?}");
        }
    }

    #[test]
    fn duplicates_self_row_and_encoding() {
        let (_, p) = parse(&format!("demo/x.py,{H},0\ndemo/x.py,{H},0\n{RP},,\n"));
        assert_eq!(codes(&p), vec![Code::RecordDuplicate]);
        let (_, p) = parse(&format!("demo/x.py,{H},0\n"));
        assert_eq!(codes(&p), vec![Code::RecordSelfRow]);
        let (_, p) = parse(&format!("{RP},{H},0\n"));
        assert_eq!(codes(&p), vec![Code::RecordSelfRow]);
        let mut p = Vec::new();
        parse_record(b"\xef\xbb\xbfx", RP, &mut p);
        assert_eq!(codes(&p), vec![Code::RecordEncoding]);
        let mut p = Vec::new();
        parse_record(b"x\xff,,\n", RP, &mut p);
        assert_eq!(codes(&p), vec![Code::RecordEncoding]);
    }
}
