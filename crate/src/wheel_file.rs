//! (PEP 427.) The file name's build tag and compatibility tags must be the ones WHEEL says the
//! wheel was built with (docs/STRICTNESS.md rule 9).
//!
//! RECORD, and so a signature over RECORD, covers WHEEL but not the file name. Without this
//! check a wheel signed as `demo-1.0-py3-none-any.whl` verifies under any name with the same
//! project and version, such as `demo-1.0-7-cp312-cp312-manylinux_2_17_x86_64.whl`, which an
//! installer then prefers for a platform it was never built for.
//!
//! WHEEL is RFC 822-style headers, which pip and pypa `installer` read with Python's
//! `email` parser. To leave no room for a reader that splits lines or headers differently,
//! this parser accepts only the plain form every build backend writes: UTF-8 without a BOM,
//! `Name: value` lines ending in LF or CRLF, no continuation lines, no control characters,
//! optionally followed by blank lines and nothing else.

use std::collections::BTreeSet;

use crate::names::WheelName;

/// What the verifier uses from a WHEEL file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelFile {
    /// The `Wheel-Version` value.
    pub wheel_version: String,
    /// The `Build` value, if present.
    pub build: Option<String>,
    /// Every `Tag` value, in file order (possibly compressed, like `py2.py3-none-any`).
    pub tags: Vec<String>,
}

/// Parse a WHEEL file. `Err` says precisely why it is not one.
pub fn parse_wheel_file(bytes: &[u8]) -> Result<WheelFile, String> {
    if bytes.starts_with(b"\xef\xbb\xbf") {
        return Err("WHEEL starts with a UTF-8 byte order mark".into());
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("WHEEL is not valid UTF-8 (at byte {})", e.valid_up_to()))?;
    let mut wheel_version: Option<String> = None;
    let mut build: Option<String> = None;
    let mut tags = Vec::new();
    let mut in_body = false;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let n = i + 1;
        let Some(line) = raw.strip_suffix('\n') else {
            return Err(format!("line {n} does not end with a line feed"));
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        // Python's email parser splits lines wherever `str.splitlines` does (CR, VT, FF,
        // U+001C–U+001E, U+0085, U+2028, U+2029), so none of those may hide inside a line.
        if let Some(c) = line
            .chars()
            .find(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            return Err(format!(
                "line {n} contains the control or line-separator character U+{:04X}",
                u32::from(c)
            ));
        }
        if line.is_empty() {
            in_body = true;
            continue;
        }
        if in_body {
            return Err(format!(
                "line {n} follows the blank line that ends the headers"
            ));
        }
        if line.starts_with([' ', '\t']) {
            return Err(format!(
                "line {n} is a continuation line (folded headers are not accepted)"
            ));
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("line {n} is not a `Name: value` header"));
        };
        // RFC 5322 field names: printable ASCII other than the colon, no spaces.
        if name.is_empty() || !name.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(format!("line {n} has an invalid header name {name:?}"));
        }
        // As in Python's email parser: leading spaces go, trailing ones stay (and then fail
        // the value checks below, since a reader would keep them).
        let value = value.trim_start_matches(' ');
        match name.to_ascii_lowercase().as_str() {
            "wheel-version" => {
                let previous = wheel_version.replace(value.to_string());
                if previous.is_some() {
                    return Err("more than one Wheel-Version header".into());
                }
            }
            "build" => {
                if !is_build_tag(value) {
                    return Err(format!("Build {value:?} is not a build tag (a digit, then letters, digits, `.` or `_`)"));
                }
                if build.replace(value.to_string()).is_some() {
                    return Err("more than one Build header".into());
                }
            }
            "tag" => {
                expand_tag(value).map_err(|why| format!("Tag {value:?}: {why}"))?;
                tags.push(value.to_string());
            }
            _ => {}
        }
    }
    let wheel_version = wheel_version.ok_or("no Wheel-Version header")?;
    let (major, minor) = wheel_version
        .split_once('.')
        .unwrap_or((&wheel_version, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return Err(format!(
            "Wheel-Version {wheel_version:?} is not <major>.<minor>"
        ));
    }
    if major.trim_start_matches('0') != "1" {
        return Err(format!(
            "Wheel-Version {wheel_version} is not 1.x (installers refuse other major versions)"
        ));
    }
    Ok(WheelFile {
        wheel_version,
        build,
        tags,
    })
}

/// Whether `s` is a build tag as PEP 427 writes them: a digit, then letters, digits, `.` or `_`.
fn is_build_tag(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_'))
}

/// Expand a (possibly compressed) `python-abi-platform` tag into its tags: each part is split
/// on `.` and the parts are multiplied out, as PEP 425 and `packaging.tags.parse_tag` do.
pub fn expand_tag(tag: &str) -> Result<BTreeSet<String>, String> {
    let parts: Vec<&str> = tag.split('-').collect();
    let [python, abi, platform] = parts.as_slice() else {
        return Err(format!(
            "{} dash-separated parts, not python-abi-platform",
            parts.len()
        ));
    };
    expand(python, abi, platform)
}

/// The expanded tag set of `python` × `abi` × `platform`, each split on `.`.
fn expand(python: &str, abi: &str, platform: &str) -> Result<BTreeSet<String>, String> {
    let split = |what: &str, part: &str| -> Result<Vec<String>, String> {
        part.split('.')
            .map(|c| {
                if c.is_empty() || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                    Err(format!(
                        "{what} tag {part:?} has an empty or invalid component {c:?}"
                    ))
                } else {
                    Ok(c.to_string())
                }
            })
            .collect()
    };
    let (py, ab, pl) = (
        split("python", python)?,
        split("abi", abi)?,
        split("platform", platform)?,
    );
    let mut out = BTreeSet::new();
    for p in &py {
        for a in &ab {
            for f in &pl {
                out.insert(format!("{p}-{a}-{f}"));
            }
        }
    }
    Ok(out)
}

/// How the file name disagrees with WHEEL: one precise message per disagreement (build tag,
/// compatibility tags), empty when they agree.
pub fn compare(name: &WheelName, wheel: &WheelFile) -> Vec<String> {
    let mut out = Vec::new();
    match (&name.build, &wheel.build) {
        (None, None) => {}
        (Some(a), Some(b)) if a == b => {}
        (Some(a), Some(b)) => out.push(format!(
            "the file name's build tag is {a:?}, WHEEL's Build is {b:?}"
        )),
        (Some(a), None) => out.push(format!(
            "the file name has build tag {a:?}, WHEEL has no Build header"
        )),
        (None, Some(b)) => out.push(format!(
            "WHEEL says Build {b:?}, the file name has no build tag"
        )),
    }
    let named = match expand(&name.python, &name.abi, &name.platform) {
        Ok(t) => t,
        Err(why) => {
            out.push(format!("the file name's tags cannot be expanded: {why}"));
            return out;
        }
    };
    // Each Tag value parsed already; a compressed one counts as the tags it expands to.
    let listed: BTreeSet<String> = wheel
        .tags
        .iter()
        .filter_map(|t| expand_tag(t).ok())
        .flatten()
        .collect();
    if listed.is_empty() {
        out.push(format!(
            "WHEEL has no Tag lines; the file name's tags are {}",
            list(named.iter())
        ));
        return out;
    }
    if named != listed {
        // Name the part that differs (python, abi or platform) when the sets differ there.
        let part = |set: &BTreeSet<String>, i: usize| -> BTreeSet<String> {
            set.iter()
                .filter_map(|t| t.split('-').nth(i).map(str::to_string))
                .collect()
        };
        let mut parts = Vec::new();
        for (i, what) in ["python", "abi", "platform"].iter().enumerate() {
            let (a, b) = (part(&named, i), part(&listed, i));
            if a != b {
                parts.push(format!(
                    "{what} tags differ (file name: {}; WHEEL: {})",
                    list(a.iter()),
                    list(b.iter())
                ));
            }
        }
        let only_name: Vec<&String> = named.difference(&listed).collect();
        let only_wheel: Vec<&String> = listed.difference(&named).collect();
        let mut msg = if parts.is_empty() {
            String::from("the file name's tag set differs from WHEEL's Tag lines")
        } else {
            parts.join("; ")
        };
        if !only_name.is_empty() {
            msg.push_str(&format!(
                "; in the file name but not in WHEEL: {}",
                list(only_name.into_iter())
            ));
        }
        if !only_wheel.is_empty() {
            msg.push_str(&format!(
                "; in WHEEL but not in the file name: {}",
                list(only_wheel.into_iter())
            ));
        }
        out.push(msg);
    }
    out
}

/// At most five items, then how many more.
fn list<'a>(items: impl ExactSizeIterator<Item = &'a String>) -> String {
    let n = items.len();
    let mut shown: Vec<&str> = items.take(5).map(String::as_str).collect();
    if n > 5 {
        shown.push("…");
        return format!("{} ({n} in all)", shown.join(", "));
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::parse_wheel_filename;

    const PURE: &[u8] = b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n";

    fn check(file: &str, wheel: &[u8]) -> Vec<String> {
        compare(
            &parse_wheel_filename(file).unwrap(),
            &parse_wheel_file(wheel).unwrap(),
        )
    }

    #[test]
    fn parses_what_backends_write() {
        let w = parse_wheel_file(PURE).unwrap();
        assert_eq!(
            (w.wheel_version.as_str(), w.build, w.tags),
            ("1.0", None, vec!["py3-none-any".to_string()])
        );
        let crlf = b"Wheel-Version: 1.0\r\nGenerator: maturin (1.8.1)\r\nRoot-Is-Purelib: false\r\nTag: cp312-cp312-manylinux_2_17_x86_64\r\nTag: cp312-cp312-manylinux2014_x86_64\r\n";
        assert_eq!(parse_wheel_file(crlf).unwrap().tags.len(), 2);
        let built = parse_wheel_file(b"Wheel-Version: 1.0\nBuild: 7\nTag: py3-none-any\n").unwrap();
        assert_eq!(built.build.as_deref(), Some("7"));
        // Header names are case-insensitive, as in Python's email parser.
        assert_eq!(
            parse_wheel_file(b"wheel-version: 1.0\ntag: py3-none-any\n")
                .unwrap()
                .tags,
            ["py3-none-any"]
        );
    }

    #[test]
    fn rejects_what_readers_could_read_differently() {
        for (bad, why) in [
            (
                &b"\xef\xbb\xbfWheel-Version: 1.0\nTag: py3-none-any\n"[..],
                "byte order mark",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none-any",
                "does not end with a line feed",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none-any\rTag: cp312-cp312-win_amd64\n",
                "U+000D",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none-any\x0bTag: x-y-z\n",
                "U+000B",
            ),
            (
                "Wheel-Version: 1.0\nTag: py3-none-any\u{2028}Tag: x-y-z\n".as_bytes(),
                "U+2028",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none-any\n\nTag: cp312-cp312-win_amd64\n",
                "follows the blank line",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none-any\n cp312-cp312-win_amd64\n",
                "continuation",
            ),
            (
                b"Wheel-Version: 1.0\nTag py3-none-any\n",
                "not a `Name: value`",
            ),
            (
                b"Wheel-Version: 1.0\nTag : py3-none-any\n",
                "invalid header name",
            ),
            (
                b"Wheel-Version: 1.0\nWheel-Version: 2.0\nTag: py3-none-any\n",
                "more than one Wheel-Version",
            ),
            (
                b"Wheel-Version: 1.0\nBuild: 1\nBuild: 2\nTag: py3-none-any\n",
                "more than one Build",
            ),
            (
                b"Wheel-Version: 1.0\nBuild: x1\nTag: py3-none-any\n",
                "not a build tag",
            ),
            (b"Tag: py3-none-any\n", "no Wheel-Version"),
            (b"Wheel-Version: 2.0\nTag: py3-none-any\n", "not 1.x"),
            (
                b"Wheel-Version: 1\nTag: py3-none-any\n",
                "not <major>.<minor>",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none\n",
                "2 dash-separated parts",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3..py2-none-any\n",
                "empty or invalid component",
            ),
            (
                b"Wheel-Version: 1.0\nTag: py3-none-any linux\n",
                "empty or invalid component",
            ),
            (b"Wheel-Version: 1.0\n\xff\n", "not valid UTF-8"),
        ] {
            let err = parse_wheel_file(bad).expect_err(why);
            assert!(err.contains(why), "{bad:?}: {err:?} does not say {why:?}");
        }
    }

    #[test]
    fn binds_the_file_names_tags() {
        assert!(check("demo-1.0-py3-none-any.whl", PURE).is_empty());
        let m = check("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", PURE);
        assert_eq!(m.len(), 1);
        assert!(
            m[0].contains("python tags differ (file name: cp312; WHEEL: py3)"),
            "{m:?}"
        );
        assert!(
            m[0].contains("platform tags differ (file name: manylinux_2_17_x86_64; WHEEL: any)"),
            "{m:?}"
        );
        let m = check("demo-1.0-py3-none-win_amd64.whl", PURE);
        assert!(
            m[0].starts_with("platform tags differ") && !m[0].contains("python"),
            "{m:?}"
        );
    }

    #[test]
    fn binds_the_build_tag() {
        let m = check("demo-1.0-7-py3-none-any.whl", PURE);
        assert_eq!(
            m,
            ["the file name has build tag \"7\", WHEEL has no Build header"]
        );
        let built = b"Wheel-Version: 1.0\nBuild: 7\nTag: py3-none-any\n";
        assert!(check("demo-1.0-7-py3-none-any.whl", built).is_empty());
        assert_eq!(
            check("demo-1.0-8-py3-none-any.whl", built),
            ["the file name's build tag is \"8\", WHEEL's Build is \"7\""]
        );
        assert_eq!(
            check("demo-1.0-py3-none-any.whl", built),
            ["WHEEL says Build \"7\", the file name has no build tag"]
        );
        // The renamed-wheel attack: both the build tag and the tags are reported.
        assert_eq!(
            check("demo-1.0-7-cp312-cp312-manylinux_2_17_x86_64.whl", PURE).len(),
            2
        );
    }

    #[test]
    fn compressed_tag_sets_on_either_side() {
        // six: `py2.py3-none-any` in the name, one expanded Tag line per python tag in WHEEL.
        let six = b"Wheel-Version: 1.0\nGenerator: bdist_wheel (0.45.1)\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n\n";
        assert!(check("six-1.17.0-py2.py3-none-any.whl", six).is_empty());
        // A WHEEL that writes the compressed form denotes the same set.
        assert!(check(
            "six-1.17.0-py2.py3-none-any.whl",
            b"Wheel-Version: 1.0\nTag: py2.py3-none-any\n"
        )
        .is_empty());
        // A tag set that is only a subset either way is a mismatch.
        let m = check(
            "six-1.17.0-py2.py3-none-any.whl",
            b"Wheel-Version: 1.0\nTag: py3-none-any\n",
        );
        assert!(
            m[0].contains("in the file name but not in WHEEL: py2-none-any")
                && !m[0].contains("in WHEEL but not"),
            "{m:?}"
        );
        let many = b"Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_x86_64\nTag: cp312-cp312-manylinux2014_x86_64\n";
        assert!(check(
            "x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            many
        )
        .is_empty());
        let m = check("x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", many);
        assert!(
            m[0].contains("in WHEEL but not in the file name: cp312-cp312-manylinux2014_x86_64"),
            "{m:?}"
        );
        // Same parts, but WHEEL is not the full product the file name claims.
        let m = check(
            "x-1.0-py2.py3-none-any.linux_x86_64.whl",
            b"Wheel-Version: 1.0\nTag: py2-none-any\nTag: py3-none-linux_x86_64\n",
        );
        assert!(m[0].starts_with("the file name's tag set differs"), "{m:?}");
    }

    #[test]
    fn no_tag_lines_is_a_mismatch() {
        let m = check(
            "demo-1.0-py3-none-any.whl",
            b"Wheel-Version: 1.0\nGenerator: x\n",
        );
        assert_eq!(
            m,
            ["WHEEL has no Tag lines; the file name's tags are py3-none-any"]
        );
    }
}
