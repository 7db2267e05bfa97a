// Display escaping for everything a signer or an archive controls (member names, `jku`,
// problem messages, file names, stored key URLs): C0 controls, DEL, C1 controls, the bidi
// controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line/paragraph
// separators (U+2028, U+2029) are shown as `\u{hex}` (lowercase, no leading zeros), so a
// name cannot reorder (U+202E) or break up what the card says. Everything else is unchanged.
// Same rule and same vectors (tests/vectors/escape.json) as the Rust core's display::escape.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** `text` with every unsafe character written as `\u{hex}`. */
export function escapeControls(text) {
  return String(text).replace(UNSAFE, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}
