//! The one thing wheelsig reads from a wheel's METADATA (core metadata, an RFC 822-style
//! header block): the publisher's key URL hint, `Project-URL: Signing keys, <url>`, which
//! `[project.urls] "Signing keys" = "…"` in pyproject.toml puts there. Like a signature's
//! `jku`, it is only a hint: shown, offered as a first-use choice, never trusted by itself.

/// Largest METADATA read for the hint (long descriptions live in the body, after the headers;
/// a bigger file just gives no hint).
pub const MAX_METADATA_READ: u64 = 4 << 20;

/// PEP 753's label normalization: lowercase, punctuation and whitespace removed.
fn normalize_label(label: &str) -> String {
    label
        .chars()
        .filter(|c| !c.is_ascii_punctuation() && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The first `Project-URL` labelled "Signing keys" (any case or punctuation, PEP 753) whose URL
/// passes the key URL rule (`urls::check_jku`: https, or http on loopback; no fragment).
pub fn signing_keys_url(metadata: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(metadata);
    // Headers end at the first blank line; a line starting with whitespace continues the last.
    let mut headers: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
            continue;
        }
        headers.push(line.to_string());
    }
    headers.iter().find_map(|h| {
        let (name, value) = h.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("project-url") {
            return None;
        }
        let (label, url) = value.split_once(',')?;
        let url = url.trim();
        (normalize_label(label) == "signingkeys" && crate::urls::check_jku(url).is_ok())
            .then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_signing_keys_url() {
        let m = b"Metadata-Version: 2.4\nName: demo\nProject-URL: Homepage, https://example.org/\nProject-URL: Signing Keys,\n  https://alice.github.io/keys/keys.json\n\nProject-URL: Signing keys, https://body.example/not-a-header\n";
        assert_eq!(
            signing_keys_url(m).as_deref(),
            Some("https://alice.github.io/keys/keys.json")
        );
        assert_eq!(
            signing_keys_url(b"Project-URL: signing-keys, https://a.example/k.json\r\n").as_deref(),
            Some("https://a.example/k.json")
        );
        // Not a key URL (plain http off loopback, a fragment, not a URL), or in the body: none.
        for bad in [
            &b"Project-URL: Signing keys, http://a.example/k.json\n"[..],
            b"Project-URL: Signing keys, https://a.example/k.json#x\n",
            b"Project-URL: Signing keys, nonsense\n",
            b"Name: x\n\nProject-URL: Signing keys, https://a.example/k.json\n",
            b"Project-URL: Source, https://a.example/k.json\n",
        ] {
            assert_eq!(
                signing_keys_url(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
