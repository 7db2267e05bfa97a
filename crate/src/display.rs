//! Escaping for display. Everything a signer or an archive controls (member names, `jku`,
//! payload fields, METADATA, problem messages quoting them, stored key URLs) passes through
//! [`escape`] before it reaches a terminal, so a name such as `demo/\e[1A\r\e[2Ktrusted` cannot
//! redraw the screen and U+202E cannot reorder it. The JSON report is not escaped: JSON string
//! escaping already makes it exact. The widget applies the same rule (`www/escape.js`); both
//! run the cases in `tests/vectors/escape.json`.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not be shown raw: C0 controls, DEL, C1 controls, bidi controls and
/// embeddings (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and
/// paragraph separators (U+2028, U+2029).
pub fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [`is_unsafe`] character written as `\u{hex}` (lowercase, no leading
/// zeros); borrowed when nothing needed escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_vectors() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/escape.json")).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let (input, want) = (case[0].as_str().unwrap(), case[1].as_str().unwrap());
            assert_eq!(escape(input), want, "input {input:?}");
        }
    }
}
