//! Names: project normalization (PEP 503), wheel file names (PEP 427) and archive member paths.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Normalize a project name per PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize_project(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

/// Whether `name` is a valid project name (PEP 508: ASCII letters, digits, `.`, `_`, `-`,
/// starting and ending with a letter or digit).
pub fn is_valid_project(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 200
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
}

/// The parts of a wheel file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WheelName {
    /// The distribution part as written (escaped: `-` replaced by `_`).
    pub distribution: String,
    /// Normalized project name (PEP 503).
    pub project: String,
    /// Version as written.
    pub version: String,
    /// Optional build tag.
    pub build: Option<String>,
    /// Python tag(s).
    pub python: String,
    /// ABI tag(s).
    pub abi: String,
    /// Platform tag(s).
    pub platform: String,
}

/// Parse `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
pub fn parse_wheel_filename(file_name: &str) -> Result<WheelName, String> {
    let stem = file_name
        .strip_suffix(".whl")
        .ok_or_else(|| format!("{file_name:?} does not end in .whl"))?;
    if file_name.len() > 255 {
        return Err("file name longer than 255 bytes".into());
    }
    let parts: Vec<&str> = stem.split('-').collect();
    let (dist, version, build, tags) = match parts.as_slice() {
        [d, v, py, abi, plat] => (*d, *v, None, [*py, *abi, *plat]),
        [d, v, b, py, abi, plat] => (*d, *v, Some(*b), [*py, *abi, *plat]),
        _ => {
            return Err(format!(
                "{file_name:?} has {} dash-separated parts; a wheel name has 5 or 6",
                parts.len()
            ))
        }
    };
    if !is_valid_project(dist) {
        return Err(format!("distribution {dist:?} is not a valid project name"));
    }
    let ok_part = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'+' | b'!'))
    };
    if !ok_part(version) || !version.as_bytes()[0].is_ascii_alphanumeric() {
        return Err(format!("version {version:?} is not valid"));
    }
    if let Some(b) = build {
        if !ok_part(b) || !b.as_bytes()[0].is_ascii_digit() {
            return Err(format!("build tag {b:?} must start with a digit"));
        }
    }
    for t in tags {
        if t.is_empty()
            || !t
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_'))
        {
            return Err(format!("tag {t:?} is not valid"));
        }
        if t.split('.').any(str::is_empty) {
            return Err(format!("tag {t:?} has an empty component"));
        }
    }
    Ok(WheelName {
        distribution: dist.to_string(),
        project: normalize_project(dist),
        version: version.to_string(),
        build: build.map(str::to_string),
        python: tags[0].to_string(),
        abi: tags[1].to_string(),
        platform: tags[2].to_string(),
    })
}

/// Check an archive member name (docs/STRICTNESS.md rule 4). `utf8_flag` is general-purpose bit 11.
/// Returns the name as a string, or why it is rejected.
pub fn check_member_name(raw: &[u8], utf8_flag: bool) -> Result<String, String> {
    if !utf8_flag && !raw.is_ascii() {
        return Err(
            "non-ASCII name without the UTF-8 flag (readers would decode it as CP437)".into(),
        );
    }
    let name = std::str::from_utf8(raw).map_err(|_| "name is not valid UTF-8".to_string())?;
    if name.is_empty() {
        return Err("empty name".into());
    }
    if let Some(c) = name.chars().find(|c| is_forbidden_char(*c)) {
        return Err(format!(
            "name contains forbidden character U+{:04X}",
            u32::from(c)
        ));
    }
    if name.contains('\\') {
        return Err("name contains a backslash".into());
    }
    if name.starts_with('/') {
        return Err("absolute path".into());
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        return Err("name starts with a drive letter".into());
    }
    let body = name.strip_suffix('/').unwrap_or(name);
    for comp in body.split('/') {
        match comp {
            "" => return Err("empty path component".into()),
            "." | ".." => return Err(format!("{comp:?} path component")),
            _ => {}
        }
    }
    Ok(name.to_string())
}

/// Control characters, DEL, and the line separators Python's `str.splitlines` honours.
fn is_forbidden_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

/// Key under which two names collide on case-insensitive or normalization-insensitive file
/// systems (macOS, Windows): NFC, then lowercase, then NFC again.
pub fn collision_key(name: &str) -> String {
    let lowered: String = name.nfc().collect::<String>().to_lowercase();
    lowered.nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_pep_503() {
        assert_eq!(normalize_project("Foo.Bar__baz--Qux"), "foo-bar-baz-qux");
        assert_eq!(normalize_project("zope.interface"), "zope-interface");
    }

    #[test]
    fn parses_wheel_names() {
        let w = parse_wheel_filename("torch-2.5.1+cu121-cp312-cp312-linux_x86_64.whl").unwrap();
        assert_eq!(
            (w.project.as_str(), w.version.as_str()),
            ("torch", "2.5.1+cu121")
        );
        let w = parse_wheel_filename("Zope.Interface-6.0-1-py3-none-any.whl").unwrap();
        assert_eq!(w.project, "zope-interface");
        assert_eq!(w.build.as_deref(), Some("1"));
        assert!(parse_wheel_filename("demo-1.0.whl").is_err());
        assert!(parse_wheel_filename("demo-1.0-py3-none-any.zip").is_err());
        assert!(
            parse_wheel_filename("demo-1.0-x-py3-none-any.whl").is_err(),
            "build tag must start with digit"
        );
        assert!(parse_wheel_filename("-1.0-py3-none-any.whl").is_err());
        assert!(parse_wheel_filename("de mo-1.0-py3-none-any.whl").is_err());
        assert!(
            parse_wheel_filename("demo-1.0-py3.-none-any.whl").is_err(),
            "empty tag component"
        );
        assert!(
            parse_wheel_filename("demo-1.0-py2..py3-none-any.whl").is_err(),
            "empty tag component"
        );
    }

    #[test]
    fn member_names() {
        assert!(check_member_name(b"demo/__init__.py", false).is_ok());
        assert!(check_member_name(b"demo/", false).is_ok());
        assert!(check_member_name("d\u{e9}mo.py".as_bytes(), true).is_ok());
        for bad in [
            &b"demo\\x.py"[..],
            b"/etc/passwd",
            b"C:/x",
            b"a//b",
            b"a/./b",
            b"../x",
            b"a/\x01b",
            b"a\x7f",
            b"",
            "a\u{2028}b".as_bytes(),
            "a\u{85}b".as_bytes(),
        ] {
            assert!(check_member_name(bad, true).is_err(), "{bad:?} accepted");
        }
        assert!(check_member_name("d\u{e9}mo".as_bytes(), false).is_err());
        assert!(check_member_name(b"\xff", true).is_err());
    }

    #[test]
    fn collisions() {
        assert_eq!(collision_key("Demo/A.py"), collision_key("demo/a.py"));
        assert_eq!(collision_key("caf\u{e9}"), collision_key("cafe\u{301}"));
        assert_ne!(collision_key("a"), collision_key("b"));
    }
}
