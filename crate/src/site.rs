//! A publisher's key site: check its sources and render its pages.
//!
//! Pure like the rest of the core: the caller reads `site.json`, `keys.json` and every
//! `releases/<project>/<wheel>.jws` and passes the bytes in. The native CLI (`wheelsig site
//! build`) and the template's Node generator (this code compiled to wasm) call the same
//! [`build`], so both produce byte-identical pages.
//!
//! A site is refused, with every problem listed, when `keys.json` is not a valid public JWK
//! Set or any signature under `releases/` would not verify for a visitor: malformed, for a
//! different file than its name says, signed by a key `keys.json` does not list (revoked),
//! by a key not listed for that project, or after the key's retirement date.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::encoding::parse_json;
use crate::jws;
use crate::keys::{KeySet, ListedKey};
use crate::limits::Limits;
use crate::names::{is_valid_project, normalize_project, parse_wheel_filename};
use crate::report::SigFormat;
use crate::time;

/// Largest `site.json` accepted.
pub const MAX_CONFIG_BYTES: usize = 64 << 10;
/// Most signature files a site may hold.
pub const MAX_RELEASES: usize = 100_000;
/// Longest publisher name.
const MAX_NAME: usize = 200;

/// The stylesheet every generated site links (`site.css`).
pub const SITE_CSS: &str = include_str!("site.css");

/// `site.json`: who publishes, where the site lives, which projects it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Human name shown as the page title.
    pub publisher: String,
    /// The site's https root URL, ending in `/`; the key URL is `<site_url>keys.json`.
    pub site_url: String,
    /// Normalized project names this site signs.
    pub projects: Vec<String>,
}

impl Config {
    /// Parse `site.json` strictly: only `publisher`, `site_url` and `projects`.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(format!("{} bytes; the limit is {MAX_CONFIG_BYTES}", bytes.len()));
        }
        let v = parse_json(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
        let obj = v.as_object().ok_or("expected a JSON object")?;
        if let Some(k) = obj.keys().find(|k| !["publisher", "site_url", "projects"].contains(&k.as_str())) {
            return Err(format!("unexpected member {k:?} (allowed: publisher, site_url, projects)"));
        }
        let text = |name: &str| -> Result<String, String> {
            obj.get(name).and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("`{name}` must be a string"))
        };
        let publisher = text("publisher")?.trim().to_string();
        if publisher.is_empty() || publisher.chars().count() > MAX_NAME || publisher.chars().any(char::is_control) {
            return Err(format!("`publisher` must be 1 to {MAX_NAME} printable characters"));
        }
        let site_url = check_site_url(&text("site_url")?)?;
        let list = obj.get("projects").and_then(Value::as_array).ok_or("`projects` must be an array of project names")?;
        let mut projects = Vec::with_capacity(list.len());
        for p in list {
            let name = p.as_str().filter(|s| is_valid_project(s)).ok_or_else(|| format!("`projects` entry {p} is not a valid project name"))?;
            let n = normalize_project(name);
            if projects.contains(&n) {
                return Err(format!("`projects` lists {n} twice"));
            }
            projects.push(n);
        }
        Ok(Config { publisher, site_url, projects })
    }

    /// The JWK Set's URL: `<site_url>keys.json`.
    pub fn key_url(&self) -> String {
        format!("{}keys.json", self.site_url)
    }

    /// `site.json` text (pretty JSON, a trailing newline).
    pub fn to_json(&self) -> String {
        let v = json!({"publisher": self.publisher, "site_url": self.site_url, "projects": self.projects});
        crate::keys::pretty(&v)
    }
}

/// An https URL (http only for loopback hosts), no query or fragment, normalized to end in `/`.
fn check_site_url(text: &str) -> Result<String, String> {
    let bad = |why: &str| format!("`site_url` {text:?} {why}");
    let rest = if let Some(r) = text.strip_prefix("https://") {
        r
    } else if let Some(r) = text.strip_prefix("http://") {
        let host = r.split(['/', ':']).next().unwrap_or_default();
        if !["127.0.0.1", "localhost"].contains(&host) {
            return Err(bad("must be https (plain http only for 127.0.0.1 or localhost)"));
        }
        r
    } else {
        return Err(bad("must start with https://"));
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || text.len() > 2000 {
        return Err(bad("has no host or is too long"));
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '"' | '<' | '>' | '\\' | '@')) {
        return Err(bad("may not contain spaces, quotes, angle brackets, backslashes, '@', a query or a fragment"));
    }
    Ok(if text.ends_with('/') { text.to_string() } else { format!("{text}/") })
}

/// One file from the site's sources, as read by the caller.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the site root, with `/` separators (`releases/p/f.whl.jws`).
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A checked release: one detached signature under `releases/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    /// Normalized project name.
    pub project: String,
    /// Version from the wheel file name.
    pub version: String,
    /// The wheel's file name.
    pub filename: String,
    /// Hex SHA-256 of the whole wheel (what the signature binds).
    pub sha256: String,
    /// The signing key's id.
    pub kid: String,
    /// Signer-claimed signing time (Unix seconds).
    pub iat: Option<i64>,
    /// The signature's path in the site.
    pub signature: String,
}

/// What is wrong with one file of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteProblem {
    /// `site.json`, `keys.json` or the signature's path.
    pub path: String,
    /// What is wrong, and what to do about it.
    pub message: String,
}

impl std::fmt::Display for SiteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A site that passed every check: the generated files and what they describe.
#[derive(Debug, Clone)]
pub struct Site {
    /// The parsed configuration.
    pub config: Config,
    /// The key set.
    pub keys: KeySet,
    /// Releases, sorted by project, then file name.
    pub releases: Vec<Release>,
    /// Generated files: `index.html`, `releases.json`, `site.css`.
    pub files: Vec<(String, String)>,
}

/// Check a site's sources and render it. `signatures` are the files under `releases/`;
/// `version` is printed in the page footer.
pub fn build(config: &[u8], keys: &[u8], signatures: &[SourceFile], version: &str) -> Result<Site, Vec<SiteProblem>> {
    let mut problems = Vec::new();
    // Messages quote signer-controlled fields (payload file names): escaped once, here.
    let mut complain = |path: &str, message: String| problems.push(SiteProblem { path: crate::display::escape(path).into_owned(), message: crate::display::escape(&message).into_owned() });
    let config = Config::parse(config).map_err(|e| complain("site.json", e)).ok();
    let keys = KeySet::parse(keys).map_err(|e| complain("keys.json", e.to_string())).ok();
    if signatures.len() > MAX_RELEASES {
        complain("releases/", format!("{} signature files; the limit is {MAX_RELEASES}", signatures.len()));
        return Err(problems);
    }
    let (Some(config), Some(keys)) = (config, keys) else { return Err(problems) };
    for (i, k) in keys.keys.iter().enumerate() {
        for p in k.projects.iter().flatten() {
            if !config.projects.contains(p) {
                complain("keys.json", format!("keys[{i}] ({}) is listed for {p}, which site.json's `projects` does not name", k.key.kid()));
            }
        }
    }
    let mut releases = Vec::with_capacity(signatures.len());
    let mut seen = BTreeSet::new();
    for sig in signatures {
        match check_release(&config, &keys, sig) {
            Ok(r) if !seen.insert(r.filename.clone()) => complain(&sig.path, format!("a second signature for {}", r.filename)),
            Ok(r) => releases.push(r),
            Err(e) => complain(&sig.path, e),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    releases.sort_by(|a, b| (&a.project, &a.filename).cmp(&(&b.project, &b.filename)));
    let files = vec![
        ("index.html".to_string(), render_index(&config, &keys, &releases, version)),
        ("releases.json".to_string(), releases_json(&config, &releases)),
        ("site.css".to_string(), SITE_CSS.to_string()),
    ];
    Ok(Site { config, keys, releases, files })
}

/// Check one `releases/<project>/<wheel>.jws` as a visitor's verifier would.
fn check_release(config: &Config, keys: &KeySet, sig: &SourceFile) -> Result<Release, String> {
    let parts: Vec<&str> = sig.path.split('/').collect();
    let [root, dir, file] = parts.as_slice() else {
        return Err("expected releases/<project>/<wheel file name>.jws".into());
    };
    let filename = file.strip_suffix(".jws").filter(|_| *root == "releases").ok_or("expected releases/<project>/<wheel file name>.jws")?;
    let name = parse_wheel_filename(filename).map_err(|e| format!("not named after a wheel: {e}"))?;
    if *dir != name.project {
        return Err(format!("{filename} is a {} wheel: move the signature to releases/{}/", name.project, name.project));
    }
    if !config.projects.contains(&name.project) {
        return Err(format!("{} is not one of site.json's `projects`", name.project));
    }
    let limit = Limits::default().max_signature_size;
    if sig.bytes.len() as u64 > limit {
        return Err(format!("{} bytes; a signature is at most {limit}", sig.bytes.len()));
    }
    let at = Some(sig.path.clone());
    let parsed = jws::parse(&sig.bytes, &at).map_err(|p| p.message)?;
    let payload = parsed.payload().clone();
    match (&payload.filename, &payload.file_sha256) {
        (Some(f), Some(_)) if f == filename => {}
        (Some(f), Some(_)) => return Err(format!("the signature is for {f}, not {filename}")),
        _ => return Err("not a detached signature: the payload must bind `filename` and `file_sha256`".into()),
    }
    let sha256 = payload.file_sha256.clone().unwrap_or_default();
    // The same rule as every verifier: each entry present must verify, or visitors get
    // `invalid`; and one key per file (its RFC 7515 entry, plus a legacy twin if any).
    let mut checked_keys: Vec<crate::jws::CheckedSignature> = Vec::new();
    for outcome in parsed.check(&at) {
        let c = outcome.result.map_err(|p| format!("{}: {} (every signature entry must verify, or verifiers call the wheel invalid)", p.code, p.message))?;
        if !checked_keys.iter().any(|k| k.key == c.key) {
            checked_keys.push(c);
        }
    }
    if checked_keys.len() > 1 {
        return Err("signed by more than one key: publish one signature per file".into());
    }
    let checked = checked_keys.into_iter().find(|c| c.format != SigFormat::Legacy).ok_or("no RFC 7515 signature")?;
    let kid = checked.key.kid();
    let listed: &ListedKey = keys.keys.iter().find(|k| k.key == checked.key).ok_or_else(|| {
        format!("signed by key {kid}, which keys.json does not list (revoked?): sign the release again with a listed key, or delete this file")
    })?;
    if !listed.covers(&name.project) {
        return Err(format!("key {kid} is not listed for {} in keys.json: add it to the key's `projects`, or sign with the right key", name.project));
    }
    if let Some(exp) = listed.exp {
        match payload.iat {
            Some(iat) if iat <= exp => {}
            Some(iat) => return Err(format!("signed {} with key {kid}, after its retirement on {}", time::format(iat), time::format(exp))),
            None => return Err(format!("key {kid} is retired and the signature carries no signing time (`iat`)")),
        }
    }
    Ok(Release { project: name.project, version: name.version, filename: filename.to_string(), sha256, kid, iat: payload.iat, signature: sig.path.clone() })
}

/// Escape text for HTML element content and double-quoted attributes.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encode one URL path segment (file names are ASCII after PEP 427 checks, but be safe).
fn url_segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'!') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn key_status(k: &ListedKey) -> String {
    match k.exp {
        Some(exp) => format!("retired {}", time::date(exp)),
        None => "active".into(),
    }
}

fn render_index(config: &Config, keys: &KeySet, releases: &[Release], version: &str) -> String {
    let key_url = esc(&config.key_url());
    let publisher = esc(&config.publisher);
    let projects = if config.projects.is_empty() { "no projects yet".to_string() } else { esc(&config.projects.join(", ")) };
    let mut h = String::with_capacity(8192 + releases.len() * 512);
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https:; base-uri 'none'; form-action 'none'">
<title>{publisher}: wheel signing keys</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="site.css">
<link rel="alternate" type="application/jwk-set+json" href="keys.json">
<script type="module" src="wheelsig/wheel-verify.js"></script>
</head>
<body>
<header>
<h1>{publisher}</h1>
<p>Signing keys for the Python wheels of <strong>{projects}</strong>.</p>
<p class="key-url">Key URL: <a href="keys.json"><code>{key_url}</code></a></p>
</header>
<main>
<section id="verify">
<h2>Check a wheel</h2>
<p>Drop a <code>.whl</code> file here to check it against these keys, on your machine: the wheel is not uploaded.</p>
<wheel-verify key-url="{key_url}"></wheel-verify>
<noscript><p>The in-page checker needs JavaScript. From a terminal: <code>wheelsig verify --key-url {key_url} --require-trusted your.whl</code></p></noscript>
</section>
<section id="keys">
<h2>Keys</h2>
"#
    );
    if keys.keys.is_empty() {
        h.push_str("<p>No keys are listed yet.</p>\n");
    } else {
        h.push_str("<table>\n<thead><tr><th scope=\"col\">Key id</th><th scope=\"col\">Fingerprint</th><th scope=\"col\">Projects</th><th scope=\"col\">Status</th></tr></thead>\n<tbody>\n");
        for k in &keys.keys {
            let scope = match &k.projects {
                Some(p) => esc(&p.join(", ")),
                None => "all of this publisher’s projects".into(),
            };
            let status = key_status(k);
            let class = if k.exp.is_some() { "retired" } else { "active" };
            let _ = writeln!(
                h,
                "<tr id=\"key-{kid}\"><td><code>{kid}</code></td><td><code>{fp}</code></td><td>{scope}</td><td class=\"{class}\">{status}</td></tr>",
                kid = esc(&k.key.kid()),
                fp = esc(&k.key.fingerprint()),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("<p class=\"note\">A key that is not listed here is not valid: removing a key revokes it. A retired key stays listed so that releases signed before its retirement date still verify.</p>\n</section>\n<section id=\"releases\">\n<h2>Releases</h2>\n");
    if releases.is_empty() {
        h.push_str("<p>No signed releases yet.</p>\n");
    } else {
        h.push_str("<table>\n<thead><tr><th scope=\"col\">Project</th><th scope=\"col\">Version</th><th scope=\"col\">File</th><th scope=\"col\">SHA-256</th><th scope=\"col\">Signed by</th><th scope=\"col\">Signed</th></tr></thead>\n<tbody>\n");
        for r in releases {
            let link: String = r.signature.split('/').map(url_segment).collect::<Vec<_>>().join("/");
            let _ = writeln!(
                h,
                "<tr><td>{p}</td><td>{v}</td><td><a href=\"{link}\"><code>{f}</code></a></td><td><code class=\"digest\">{sha}</code></td><td><a href=\"#key-{kid}\"><code>{kid_short}…</code></a></td><td>{when}</td></tr>",
                p = esc(&r.project),
                v = esc(&r.version),
                link = esc(&link),
                f = esc(&r.filename),
                sha = esc(&r.sha256),
                kid = esc(&r.kid),
                kid_short = esc(&r.kid.chars().take(12).collect::<String>()),
                when = r.iat.map(time::date).unwrap_or_else(|| "–".into()),
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    let _ = write!(
        h,
        r#"<p class="note">Each file links to its detached signature (<code>.jws</code>); <a href="releases.json">releases.json</a> lists the same data for tools.</p>
</section>
<section id="cli">
<h2>From a terminal</h2>
<pre><code>wheelsig verify --key-url {key_url} --require-trusted dist/*.whl</code></pre>
</section>
</main>
<footer><p>Generated by wheelsig {version}. Only <a href="keys.json">keys.json</a> decides which keys are valid; this page describes it.</p></footer>
</body>
</html>
"#,
        version = esc(version),
    );
    h
}

fn releases_json(config: &Config, releases: &[Release]) -> String {
    let mut root = Map::new();
    root.insert("key_url".into(), Value::String(config.key_url()));
    root.insert("releases".into(), serde_json::to_value(releases).unwrap_or(Value::Null));
    crate::keys::pretty(&Value::Object(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jws::{sign, Compat, Payload};
    use crate::keys::PrivateKey;

    const SHA: &str = "0f0e0d0c0b0a09080706050403020100ffeeddccbbaa99887766554433221100";

    fn key(seed: u8) -> PrivateKey {
        PrivateKey::from_seed(&[seed; 32]).unwrap()
    }

    fn config() -> Vec<u8> {
        br#"{"publisher": "Alice <Example>", "site_url": "https://alice.example/keys", "projects": ["Demo_Pkg", "other"]}"#.to_vec()
    }

    /// (key seed, projects, exp) per listed key.
    type Entry<'a> = (u8, Option<&'a [&'a str]>, Option<i64>);

    fn keys(entries: &[Entry]) -> Vec<u8> {
        let set = KeySet {
            keys: entries
                .iter()
                .map(|(s, p, exp)| ListedKey { key: *key(*s).public(), projects: p.map(|p| p.iter().map(|s| s.to_string()).collect()), exp: *exp, key_url: None })
                .collect(),
        };
        set.to_json().into_bytes()
    }

    fn sig(seed: u8, filename: &str, iat: i64) -> Vec<u8> {
        let payload = Payload { hash: "sha256=AAAA".into(), iat: Some(iat), filename: Some(filename.into()), file_sha256: Some(SHA.into()) };
        sign(&key(seed), &payload, None, Compat::Rfc7515).into_bytes()
    }

    fn release(path: &str, bytes: Vec<u8>) -> SourceFile {
        SourceFile { path: path.into(), bytes }
    }

    const F: &str = "demo_pkg-1.0-py3-none-any.whl";
    const P: &str = "releases/demo-pkg/demo_pkg-1.0-py3-none-any.whl.jws";

    fn problems(keys_json: &[u8], sigs: &[SourceFile]) -> Vec<String> {
        build(&config(), keys_json, sigs, "test").err().unwrap_or_default().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_bad_legacy_entry_fails_the_build_as_it_fails_verifiers() {
        let payload = Payload { hash: "sha256=AAAA".into(), iat: Some(1_750_000_000), filename: Some(F.into()), file_sha256: Some(SHA.into()) };
        let doc = sign(&key(1), &payload, None, Compat::WithLegacy);
        let mut v: Value = serde_json::from_str(&doc).unwrap();
        let good = build(&config(), &keys(&[(1, None, None)]), &[release(P, v.to_string().into_bytes())], "t");
        assert!(good.is_ok(), "an intact legacy twin is fine: {:?}", good.err());
        // Flip the legacy entry's signature: verifiers say sig-bad-signature, so must the build.
        let s = v["recipients"][0]["signature"].as_str().unwrap().to_string();
        let mut raw = crate::encoding::b64url_decode(&s).unwrap();
        raw[3] ^= 1;
        v["recipients"][0]["signature"] = Value::String(crate::encoding::b64url(&raw));
        let p = problems(&keys(&[(1, None, None)]), &[release(P, v.to_string().into_bytes())]);
        assert!(p.len() == 1 && p[0].contains("sig-bad-signature"), "{p:?}");
    }

    #[test]
    fn renders_keys_and_releases_escaped() {
        let site = build(&config(), &keys(&[(1, Some(&["demo-pkg"]), None), (2, None, Some(1_700_000_000))]), &[release(P, sig(1, F, 1_750_000_000))], "9.9").unwrap();
        let (_, html) = &site.files[0];
        assert!(html.contains("<h1>Alice &lt;Example&gt;</h1>"), "publisher escaped");
        assert!(html.contains("https://alice.example/keys/keys.json"), "site_url normalized with a trailing slash");
        assert!(html.contains(&key(1).public().fingerprint()));
        assert!(html.contains("retired 2023-11-14"));
        assert!(html.contains(SHA) && html.contains("2025-06-15") && html.contains("href=\"releases/demo-pkg/demo_pkg-1.0-py3-none-any.whl.jws\""));
        assert_eq!(site.releases[0].kid, key(1).public().kid());
        let listing = &site.files[1].1;
        assert!(listing.contains("\"key_url\": \"https://alice.example/keys/keys.json\""));
        // Same input, same bytes: the Node generator is compared against this output.
        let again = build(&config(), &keys(&[(1, Some(&["demo-pkg"]), None), (2, None, Some(1_700_000_000))]), &[release(P, sig(1, F, 1_750_000_000))], "9.9").unwrap();
        assert_eq!(site.files, again.files);
    }

    #[test]
    fn revoked_key_fails_the_build() {
        let p = problems(&keys(&[(2, None, None)]), &[release(P, sig(1, F, 1))]);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("which keys.json does not list (revoked?)"), "{p:?}");
    }

    #[test]
    fn key_scoped_to_another_project_fails() {
        let p = problems(&keys(&[(1, Some(&["other"]), None)]), &[release(P, sig(1, F, 1))]);
        assert!(p[0].contains("is not listed for demo-pkg"), "{p:?}");
    }

    #[test]
    fn signature_after_retirement_fails_and_before_passes() {
        let k = keys(&[(1, None, Some(1000))]);
        assert!(problems(&k, &[release(P, sig(1, F, 1000))]).is_empty());
        let p = problems(&k, &[release(P, sig(1, F, 1001))]);
        assert!(p[0].contains("after its retirement"), "{p:?}");
    }

    #[test]
    fn wrong_place_or_wrong_file_or_garbage() {
        let k = keys(&[(1, None, None)]);
        let p = problems(&k, &[release("releases/other/demo_pkg-1.0-py3-none-any.whl.jws", sig(1, F, 1))]);
        assert!(p[0].contains("move the signature to releases/demo-pkg/"), "{p:?}");
        let p = problems(&k, &[release(P, sig(1, "demo_pkg-2.0-py3-none-any.whl", 1))]);
        assert!(p[0].contains("the signature is for demo_pkg-2.0"), "{p:?}");
        let p = problems(&k, &[release(P, b"{\"payload\":".to_vec())]);
        assert!(p[0].starts_with(P) && p[0].contains("JSON"), "{p:?}");
        let p = problems(&k, &[release("releases/x.jws", sig(1, F, 1))]);
        assert!(p[0].contains("expected releases/<project>/"), "{p:?}");
        let mut tampered = sig(1, F, 1);
        let n = tampered.len();
        tampered[n - 10] = if tampered[n - 10] == b'A' { b'B' } else { b'A' };
        assert_eq!(problems(&k, &[release(P, tampered)]).len(), 1);
    }

    #[test]
    fn config_is_strict() {
        for (text, want) in [
            (r#"{"publisher":"a","site_url":"http://example.com/","projects":[]}"#, "must be https"),
            (r#"{"publisher":"a","site_url":"https://x/?q","projects":[]}"#, "query"),
            (r#"{"publisher":"","site_url":"https://x/","projects":[]}"#, "publisher"),
            (r#"{"publisher":"a","site_url":"https://x/","projects":["a b"]}"#, "not a valid project"),
            (r#"{"publisher":"a","site_url":"https://x/","projects":[],"extra":1}"#, "unexpected member"),
            (r#"{"publisher":"a","publisher":"b","site_url":"https://x/","projects":[]}"#, "duplicate"),
        ] {
            let e = Config::parse(text.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
        let c = Config::parse(br#"{"publisher":"a","site_url":"http://127.0.0.1:8000/site","projects":["Foo.Bar"]}"#).unwrap();
        assert_eq!((c.key_url().as_str(), c.projects[0].as_str()), ("http://127.0.0.1:8000/site/keys.json", "foo-bar"));
        assert_eq!(Config::parse(c.to_json().as_bytes()).unwrap(), c);
    }

    #[test]
    fn key_for_a_project_the_site_does_not_name() {
        let p = problems(&keys(&[(1, Some(&["stranger"]), None)]), &[]);
        assert!(p[0].contains("site.json's `projects` does not name"), "{p:?}");
    }
}
