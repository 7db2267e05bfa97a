//! The reading half of a Python package index: the Simple Repository API's project page, as
//! PEP 691 JSON (`application/vnd.pypi.simple.v1+json`) or PEP 503 HTML (`text/html`,
//! `application/vnd.pypi.simple.v1+html`), with PEP 592 yanking, PEP 700's `upload-time` and
//! `size`, and PEP 503's project URLs. Pure: the caller fetches the page (the CLI's
//! `cli/index.rs`) and passes its bytes, its `Content-Type` and the URL it came from.
//!
//! Strict and bounded: a page over [`MAX_PAGE_BYTES`] or listing more than [`MAX_FILES`] files
//! is refused, and so is any entry that is not clearly one file: a file name that is not a
//! plain file name ([`check_file_name`]; wheel names must also parse as PEP 427 names), a
//! sha256 that is not 64 hex digits, a URL that is not https (http only from a loopback page to
//! a loopback host), a file name listed twice. Each error names the entry and what is wrong.
//!
//! HTML is read with `html5gum`, a WHATWG tokenizer: it has no dependencies, no unsafe code,
//! builds for wasm32, passes html5lib's tokenizer tests and decodes character references in
//! text and attributes exactly as browsers do (`&amp;`, `&#x2F;`, `&sol;`, a missing `;`…).
//! The alternatives fit less well: `tl` is a fast DOM parser that returns attribute values
//! raw (no entity decoding) and is not spec-driven, and `quick-xml`/`xmlparser` are XML
//! parsers that reject or misread ordinary HTML. A tokenizer is all a project page needs: a
//! sequence of `<a href>` elements and their text. Its state is switched after `<script>`,
//! `<style>`, `<title>`, `<textarea>` and friends, as a browser would, so a link written
//! inside a `<title>` is text, not a file.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};
use url::Url;

use crate::display::escape;
use crate::names::{is_valid_project, normalize_project, parse_wheel_filename, WheelName};
use crate::urls::{is_loopback, MAX_URL_BYTES};

/// Largest project page accepted, in bytes (64 MiB). PyPI's largest pages (nightly builds with
/// tens of thousands of files) are a few MiB of JSON.
pub const MAX_PAGE_BYTES: usize = 64 << 20;

/// Most files one project page may list.
pub const MAX_FILES: usize = 200_000;

/// Longest file name accepted, in bytes (the common file-system limit).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The `Accept` header for a project page: PEP 691 JSON first, then the HTML forms.
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Why a project page (or a request for one) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexError {
    /// The page as a whole: its size, media type, encoding, syntax, API version or file count.
    Page(String),
    /// One entry of the page. `file` names it: its file name, or its position when the name
    /// itself is what is wrong.
    File {
        /// Which entry.
        file: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The same file name listed twice on one page.
    Duplicate(String),
    /// The project name or the index URL given to [`project_url`].
    Request(String),
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndexError::Page(m) | IndexError::Request(m) => f.write_str(m),
            IndexError::File { file, problem } => write!(f, "{}: {problem}", escape(file)),
            IndexError::Duplicate(name) => write!(
                f,
                "the page lists {} twice: an index lists each file name once",
                escape(name)
            ),
        }
    }
}

impl std::error::Error for IndexError {}

/// A yanked file (PEP 592): yanked, with or without a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yanked {
    /// Yanked, no reason given (JSON `true`, an empty `data-yanked`).
    Yes,
    /// Yanked, with the index's reason.
    Reason(String),
}

impl Serialize for Yanked {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Yanked::Yes => s.serialize_bool(true),
            Yanked::Reason(r) => s.serialize_str(r),
        }
    }
}

/// One file a project page lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexFile {
    /// The file name: a plain file name ([`check_file_name`]).
    pub filename: String,
    /// Where to fetch it: absolute (resolved against the page, or its `<base href>`), http(s),
    /// without the fragment (a `#sha256=` fragment goes to `sha256`).
    #[serde(serialize_with = "url_str")]
    pub url: Url,
    /// The sha256 digest the index publishes, lowercase hex, when it publishes one.
    pub sha256: Option<String>,
    /// PEP 700 `upload-time` (JSON), or PyPI's `data-upload-time` (HTML), as given; checked to
    /// be an RFC 3339 date-time.
    pub upload_time: Option<String>,
    /// PEP 592: yanked, and why.
    pub yanked: Option<Yanked>,
    /// `requires-python` / `data-requires-python`, as given (entities decoded); empty is none.
    pub requires_python: Option<String>,
    /// PEP 700 `size` in bytes (JSON only).
    pub size: Option<u64>,
    /// The parsed wheel name for a `.whl` file; `None` for an sdist or any other file.
    pub wheel: Option<WheelName>,
}

impl IndexFile {
    /// Whether this is a wheel (`.whl`).
    pub fn is_wheel(&self) -> bool {
        self.wheel.is_some()
    }
}

fn url_str<S: Serializer>(url: &Url, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(url.as_str())
}

/// The file named `filename` on a page, if it lists it.
pub fn find<'a>(files: &'a [IndexFile], filename: &str) -> Option<&'a IndexFile> {
    files.iter().find(|f| f.filename == filename)
}

/// The project page URL: `<index>/<normalized project>/` (PEP 503), the index URL's query and
/// fragment dropped. The project must be a valid project name and the index an http(s) URL.
pub fn project_url(index: &Url, project: &str) -> Result<Url, IndexError> {
    if !is_valid_project(project) {
        return Err(IndexError::Request(format!(
            "{:?} is not a project name (ASCII letters, digits, '.', '_', '-', starting and ending with a letter or digit)",
            escape(project)
        )));
    }
    if !matches!(index.scheme(), "https" | "http") {
        return Err(IndexError::Request(format!(
            "{}: an index URL is https (or http on loopback)",
            escape(index.as_str())
        )));
    }
    let mut url = index.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| {
            IndexError::Request(format!("{} cannot be a base URL", escape(index.as_str())))
        })?
        .pop_if_empty()
        .push(&normalize_project(project))
        .push("");
    Ok(url)
}

/// Whether `index` may be asked at all: https, or plain http on a loopback host, without
/// credentials (the rule of every index client: the CLI's and the template's audit tool).
pub fn check_index_url(index: &Url) -> Result<(), String> {
    match index.scheme() {
        "https" => {}
        "http" if is_loopback(index) => {}
        "http" => {
            return Err(format!(
                "{}: an index URL must be https (plain http only on loopback)",
                escape(index.as_str())
            ))
        }
        other => {
            return Err(format!(
                "{}: scheme {:?} is not allowed for an index; use https",
                escape(index.as_str()),
                escape(other)
            ))
        }
    }
    if !index.username().is_empty() || index.password().is_some() {
        return Err(format!(
            "{}: credentials in an index URL are not supported",
            index.host_str().unwrap_or("")
        ));
    }
    Ok(())
}

/// Whether `name` is a plain file name, safe to create in a directory on any system and to
/// show: 1 to [`MAX_FILE_NAME_BYTES`] bytes, not starting with `.`, no `/` or `\`, no
/// whitespace, control or bidirectional-control characters, none of `<>:"|?*`.
pub fn check_file_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an empty file name".into());
    }
    if name.len() > MAX_FILE_NAME_BYTES {
        return Err(format!(
            "a file name of {} bytes; the limit is {MAX_FILE_NAME_BYTES}",
            name.len()
        ));
    }
    if name.starts_with('.') {
        return Err("a file name starting with '.' (hidden, or a path like ..)".into());
    }
    if let Some(c) = name.chars().find(|&c| matches!(c, '/' | '\\')) {
        return Err(format!(
            "a file name containing {c:?}: a plain file name has no path separators"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| c.is_whitespace() || c.is_control() || crate::display::is_unsafe(c))
    {
        let shown = if crate::display::is_unsafe(c) {
            escape(&c.to_string()).into_owned()
        } else {
            c.escape_debug().to_string()
        };
        return Err(format!(
            "a file name containing {shown}: no whitespace or control characters"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|&c| matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
    {
        return Err(format!(
            "a file name containing {c:?}, which some file systems refuse"
        ));
    }
    Ok(())
}

/// The two forms of a project page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageFormat {
    /// PEP 691 JSON.
    Json,
    /// PEP 503 HTML.
    Html,
}

/// Which form a `Content-Type` announces. Parameters other than `charset` are ignored; a
/// charset other than UTF-8 is refused (both forms are UTF-8).
pub fn page_format(content_type: &str) -> Result<PageFormat, IndexError> {
    let mut parts = content_type.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    let format = match essence.as_str() {
        "application/vnd.pypi.simple.v1+json" | "application/vnd.pypi.simple.latest+json" => PageFormat::Json,
        "application/vnd.pypi.simple.v1+html" | "application/vnd.pypi.simple.latest+html" | "text/html" => PageFormat::Html,
        "" => return Err(IndexError::Page("the index sent no Content-Type".into())),
        other => {
            return Err(IndexError::Page(format!(
                "Content-Type {:?} is not a project page (application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html or text/html)",
                escape(other)
            )))
        }
    };
    for param in parts {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if name.trim().eq_ignore_ascii_case("charset") {
            let value = value.trim().trim_matches('"');
            if !value.eq_ignore_ascii_case("utf-8") && !value.eq_ignore_ascii_case("utf8") {
                return Err(IndexError::Page(format!(
                    "charset {:?}: a project page is UTF-8",
                    escape(value)
                )));
            }
        }
    }
    Ok(format)
}

/// Parse a project page into the files it lists, in page order. `content_type` is the
/// response's `Content-Type`; `page_url` is the URL the page was finally fetched from (after
/// redirects): relative URLs resolve against it, and it decides whether plain http is
/// acceptable (only when it is itself http on a loopback host).
pub fn parse_project_page(
    body: &[u8],
    content_type: &str,
    page_url: &Url,
) -> Result<Vec<IndexFile>, IndexError> {
    let (format, text) = page_text(body, content_type, MAX_PAGE_BYTES, "a project page")?;
    let files = match format {
        PageFormat::Json => parse_json(text, page_url)?,
        PageFormat::Html => parse_html(text, page_url)?,
    };
    let mut seen = HashSet::with_capacity(files.len());
    for f in &files {
        if !seen.insert(f.filename.as_str()) {
            return Err(IndexError::Duplicate(f.filename.clone()));
        }
    }
    Ok(files)
}

/// A Simple API page's form and text: at most `limit` bytes, its media type one of the API's,
/// UTF-8 (a leading byte-order mark dropped).
fn page_text<'a>(
    body: &'a [u8],
    content_type: &str,
    limit: usize,
    what: &str,
) -> Result<(PageFormat, &'a str), IndexError> {
    if body.len() > limit {
        return Err(IndexError::Page(format!(
            "{what} of {} bytes; the limit is {limit}",
            body.len()
        )));
    }
    let format = page_format(content_type)?;
    let text = std::str::from_utf8(body).map_err(|e| {
        IndexError::Page(format!(
            "the page is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    Ok((format, text.strip_prefix('\u{feff}').unwrap_or(text)))
}

/// Most projects an index's root page may list (PyPI lists about 700,000).
pub const MAX_PROJECTS: usize = 4_000_000;

/// Largest root page accepted, in bytes (512 MiB; PyPI's JSON root is about 60 MiB).
pub const MAX_LIST_BYTES: usize = 512 << 20;

/// One project an index's root page (`<index>/`) lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedProject {
    /// Its normalized name (PEP 503).
    pub name: String,
    /// The index's change serial for it (PyPI's `_last-serial`), when the index gives one: a
    /// follower need not fetch a project page whose serial it has already read.
    pub serial: Option<u64>,
}

/// Parse an index's root page (PEP 691 JSON `projects`, with `_last-serial` where given, or
/// PEP 503 HTML anchors) into its projects, normalized, sorted and deduplicated (a name listed
/// twice, as `Foo` and `foo`, is one project with the larger serial). A name that is not a
/// valid project name refuses the page, naming its position.
pub fn parse_project_list(
    body: &[u8],
    content_type: &str,
    page_url: &Url,
) -> Result<Vec<ListedProject>, IndexError> {
    let (format, text) = page_text(body, content_type, MAX_LIST_BYTES, "a root page")?;
    let listed: Vec<(String, Option<u64>, String)> = match format {
        PageFormat::Json => {
            let page: JsonRoot = serde_json::from_str(text)
                .map_err(|e| IndexError::Page(format!("the JSON root page is malformed: {e}")))?;
            check_api_version(&page.meta.api_version)?;
            page.projects
                .0
                .into_iter()
                .enumerate()
                .map(|(i, p)| (p.name, p.serial, format!("projects[{i}]")))
                .collect()
        }
        PageFormat::Html => html_anchors(text, page_url, MAX_PROJECTS, "projects")?
            .1
            .into_iter()
            .map(|a| {
                let name = a
                    .text
                    .trim_matches(|c: char| c.is_ascii_whitespace())
                    .to_string();
                (name, None, format!("the <a> at byte {}", a.offset))
            })
            .collect(),
    };
    let mut out: std::collections::BTreeMap<String, Option<u64>> = Default::default();
    for (name, serial, at) in listed {
        if !is_valid_project(&name) {
            return Err(IndexError::File {
                file: at,
                problem: format!("{:?} is not a project name", escape(&name)),
            });
        }
        let slot = out.entry(normalize_project(&name)).or_insert(serial);
        *slot = (*slot).max(serial);
    }
    Ok(out
        .into_iter()
        .map(|(name, serial)| ListedProject { name, serial })
        .collect())
}

#[derive(Deserialize)]
struct JsonRoot {
    meta: JsonMeta,
    projects: Bounded<JsonProject, MAX_PROJECTS>,
}

#[derive(Deserialize)]
struct JsonProject {
    name: String,
    #[serde(rename = "_last-serial")]
    serial: Option<u64>,
}

// ---- JSON (PEP 691, PEP 700) ----

#[derive(Deserialize)]
struct JsonPage {
    meta: JsonMeta,
    files: Bounded<JsonFile, MAX_FILES>,
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: String,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    hashes: JsonHashes,
    #[serde(rename = "upload-time")]
    upload_time: Option<String>,
    yanked: Option<JsonYanked>,
    size: Option<u64>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
}

/// `hashes`: only sha256 is read. A second `sha256` key is a duplicate-field error.
#[derive(Deserialize)]
struct JsonHashes {
    sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum JsonYanked {
    Flag(bool),
    Reason(String),
}

/// An array of at most `N` items, refused while it is read (not after allocating them all).
struct Bounded<T, const N: usize>(Vec<T>);

/// What an array's items are called in its errors.
trait Noun {
    const NOUN: &'static str;
}

impl Noun for JsonFile {
    const NOUN: &'static str = "files";
}

impl Noun for JsonProject {
    const NOUN: &'static str = "projects";
}

impl<'de, T: Deserialize<'de> + Noun, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const N: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Noun, const N: usize> serde::de::Visitor<'de> for V<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "an array of at most {N} {}", T::NOUN)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Bounded<T, N>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<T>()? {
                    if out.len() == N {
                        return Err(serde::de::Error::custom(format!(
                            "more than {N} {}",
                            T::NOUN
                        )));
                    }
                    out.push(item);
                }
                Ok(Bounded(out))
            }
        }
        d.deserialize_seq(V::<T, N>(std::marker::PhantomData))
    }
}

fn parse_json(text: &str, page_url: &Url) -> Result<Vec<IndexFile>, IndexError> {
    let page: JsonPage = serde_json::from_str(text)
        .map_err(|e| IndexError::Page(format!("the JSON project page is malformed: {e}")))?;
    check_api_version(&page.meta.api_version)?;
    let mut out = Vec::with_capacity(page.files.0.len());
    for (i, f) in page.files.0.into_iter().enumerate() {
        let entry = |problem: String| IndexError::File {
            file: format!("files[{i}] ({})", f.filename),
            problem,
        };
        check_file_name(&f.filename).map_err(|p| IndexError::File {
            file: format!("files[{i}]"),
            problem: p,
        })?;
        let wheel = wheel_name(&f.filename).map_err(entry)?;
        let (url, fragment_hash) = file_url(&f.url, page_url, page_url).map_err(entry)?;
        let listed = f
            .hashes
            .sha256
            .as_deref()
            .map(check_sha256)
            .transpose()
            .map_err(|p| entry(format!("hashes.sha256: {p}")))?;
        let sha256 = one_hash(listed, fragment_hash).map_err(entry)?;
        if let Some(t) = &f.upload_time {
            check_rfc3339(t).map_err(|p| entry(format!("upload-time: {p}")))?;
        }
        let yanked = match f.yanked {
            None | Some(JsonYanked::Flag(false)) => None,
            Some(JsonYanked::Flag(true)) => Some(Yanked::Yes),
            // PEP 691 wants a reason non-empty; an empty one still means yanked.
            Some(JsonYanked::Reason(r)) if r.is_empty() => Some(Yanked::Yes),
            Some(JsonYanked::Reason(r)) => Some(Yanked::Reason(r)),
        };
        out.push(IndexFile {
            filename: f.filename,
            url,
            sha256,
            upload_time: f.upload_time,
            yanked,
            requires_python: f.requires_python.filter(|s| !s.is_empty()),
            size: f.size,
            wheel,
        });
    }
    Ok(out)
}

/// `meta.api-version` must be `1.<minor>` (PEP 629: a major version we do not know is refused;
/// a newer minor version is read as 1.0).
fn check_api_version(v: &str) -> Result<(), IndexError> {
    let ok = v.split_once('.').is_some_and(|(major, minor)| {
        major == "1"
            && !minor.is_empty()
            && minor.len() <= 9
            && minor.bytes().all(|b| b.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(IndexError::Page(format!(
            "meta.api-version {:?}: only version 1.x of the Simple API is understood",
            escape(v)
        )))
    }
}

// ---- HTML (PEP 503, PEP 592) ----

/// An `<a href>` being read: its attributes, its text so far, where it started.
struct Anchor {
    href: String,
    yanked: Option<String>,
    requires_python: Option<String>,
    upload_time: Option<String>,
    text: String,
    offset: usize,
}

fn attr(tag: &html5gum::StartTag<usize>, name: &str) -> Option<String> {
    tag.attributes
        .get(name.as_bytes())
        .map(|v| String::from_utf8_lossy(&v.value.0).into_owned())
}

fn parse_html(text: &str, page_url: &Url) -> Result<Vec<IndexFile>, IndexError> {
    let (base, anchors) = html_anchors(text, page_url, MAX_FILES, "files")?;
    let base = base.as_ref().unwrap_or(page_url);
    anchors
        .into_iter()
        .map(|a| html_file(a, base, page_url))
        .collect()
}

/// The `<a href>` elements of a Simple API HTML page (at most `max`, each `what`), and its
/// first `<base href>`, read as a browser would; a page that readers could read two ways (a
/// repeated attribute, a link in a comment or `<title>`, a malformed comment, markup in a
/// link's text, a truncated tag) is refused.
fn html_anchors(
    text: &str,
    page_url: &Url,
    max: usize,
    what: &str,
) -> Result<(Option<Url>, Vec<Anchor>), IndexError> {
    use html5gum::{DefaultEmitter, Token, Tokenizer};

    let mut emitter = DefaultEmitter::<usize>::new_with_span();
    emitter.naively_switch_states(true);
    let mut base: Option<Url> = None;
    let mut anchors: Vec<Anchor> = Vec::new();
    let mut open: Option<Anchor> = None;
    // An `<a>` without href is no file; its end tag closes it all the same.
    let mut open_without_href: Option<usize> = None;
    // Inside <title>, <textarea>, <script>, <style>, <noscript>… (read as text): its name and
    // where it started.
    let mut raw: Option<(Vec<u8>, usize)> = None;
    let tag_err = |offset: usize, problem: String| IndexError::File {
        file: format!("the <a> at byte {offset}"),
        problem,
    };
    for token in Tokenizer::new_with_emitter(text, emitter) {
        let token = match token {
            Ok(t) => t,
            Err(never) => match never {},
        };
        match token {
            Token::Error(e) => {
                let code = e.value.as_str();
                if code == "duplicate-attribute" {
                    // Readers disagree on which one counts (browsers: the first; Python's
                    // html.parser, hence pip: the last), so neither is taken.
                    return Err(IndexError::Page(format!(
                        "a tag at byte {} repeats an attribute",
                        e.span.start
                    )));
                }
                if code.starts_with("eof-") {
                    return Err(IndexError::Page(format!(
                        "the page ends inside a tag or comment ({code} at byte {}): truncated?",
                        e.span.start
                    )));
                }
                if matches!(
                    code,
                    "abrupt-closing-of-empty-comment"
                        | "incorrectly-closed-comment"
                        | "nested-comment"
                ) {
                    // `<!-->`, `--!>`, `<!-- <!--`: where such a comment ends is where HTML
                    // parsers have disagreed (Python's html.parser among them).
                    return Err(IndexError::Page(format!("a malformed comment at byte {} ({code}): readers disagree on where it ends", e.span.start)));
                }
            }
            Token::StartTag(tag) => {
                let offset = tag.span.start;
                if let Some(a) = open.as_ref().map(|a| a.offset).or(open_without_href) {
                    return Err(tag_err(
                        a,
                        format!(
                            "its text holds a <{}> tag: a link's text is a name alone",
                            String::from_utf8_lossy(&tag.name.0)
                        ),
                    ));
                }
                if html5gum::naive_next_state(&tag.name.0).is_some() {
                    raw = Some((tag.name.0.clone(), offset));
                }
                match tag.name.0.as_slice() {
                    b"a" => match attr(&tag, "href") {
                        Some(href) => {
                            if anchors.len() == max {
                                return Err(IndexError::Page(format!(
                                    "the page lists more than {max} {what}"
                                )));
                            }
                            open = Some(Anchor {
                                href,
                                yanked: attr(&tag, "data-yanked"),
                                requires_python: attr(&tag, "data-requires-python"),
                                upload_time: attr(&tag, "data-upload-time"),
                                text: String::new(),
                                offset,
                            });
                        }
                        None => open_without_href = Some(offset),
                    },
                    // The first <base href> sets the document's base URL (HTML, and pip).
                    b"base" if base.is_none() => {
                        if let Some(href) = attr(&tag, "href") {
                            let b = page_url.join(&href).map_err(|e| {
                                IndexError::Page(format!(
                                    "<base href={:?}> at byte {offset} is not a URL: {e}",
                                    escape(&href)
                                ))
                            })?;
                            if !matches!(b.scheme(), "https" | "http") {
                                return Err(IndexError::Page(format!(
                                    "<base href={:?}> at byte {offset}: not an http(s) URL",
                                    escape(&href)
                                )));
                            }
                            base = Some(b);
                        }
                    }
                    _ => {}
                }
            }
            Token::EndTag(tag) => {
                if raw.as_ref().is_some_and(|(name, _)| *name == tag.name.0) {
                    raw = None;
                }
                if let Some(a) = open.as_ref().map(|a| a.offset).or(open_without_href) {
                    if tag.name.0 != b"a" {
                        return Err(tag_err(
                            a,
                            format!(
                                "its text holds a </{}> tag: a link's text is a name alone",
                                String::from_utf8_lossy(&tag.name.0)
                            ),
                        ));
                    }
                    if let Some(done) = open.take() {
                        anchors.push(done);
                    }
                    open_without_href = None;
                }
            }
            Token::String(s) => {
                if let Some((name, at)) = &raw {
                    // A browser reads this as text, Python's html.parser (pip) may read links in
                    // it (<noscript>, <title> before 3.14…): a page with one reading only.
                    if looks_like_link(&s.value.0) {
                        return Err(IndexError::Page(format!("the <{}> at byte {at} holds what looks like a link: readers disagree on whether it is one", String::from_utf8_lossy(name))));
                    }
                } else if let Some(a) = open.as_mut() {
                    a.text.push_str(&String::from_utf8_lossy(&s.value.0));
                }
            }
            Token::Comment(c) => {
                if looks_like_link(&c.value.0) {
                    return Err(IndexError::Page(format!("the comment at byte {} holds what looks like a link: readers disagree on whether it is one", c.span.start)));
                }
            }
            Token::Doctype(_) => {}
        }
    }
    if let Some(a) = open.as_ref().map(|a| a.offset).or(open_without_href) {
        return Err(tag_err(a, "it is never closed (no </a>)".into()));
    }
    Ok((base, anchors))
}

/// Whether `text` holds `<a` followed by whitespace, `/`, `>` or its end (ASCII case-insensitive).
fn looks_like_link(text: &[u8]) -> bool {
    text.windows(2).enumerate().any(|(i, w)| {
        w[0] == b'<'
            && w[1].eq_ignore_ascii_case(&b'a')
            && text
                .get(i + 2)
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>'))
    })
}

fn html_file(a: Anchor, base: &Url, page_url: &Url) -> Result<IndexFile, IndexError> {
    let filename = a
        .text
        .trim_matches(|c: char| c.is_ascii_whitespace())
        .to_string();
    let at = a.offset;
    check_file_name(&filename).map_err(|p| IndexError::File {
        file: format!("the <a> at byte {at}"),
        problem: format!("its text: {p}"),
    })?;
    let entry = |problem: String| IndexError::File {
        file: filename.clone(),
        problem: format!("{problem} (the <a> at byte {at})"),
    };
    let wheel = wheel_name(&filename).map_err(entry)?;
    let (url, sha256) = file_url(&a.href, base, page_url).map_err(entry)?;
    // PEP 503: "The text of the anchor tag MUST match the final path component (the filename)
    // of the URL." A link showing one name and fetching another is refused.
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(last).decode_utf8_lossy();
    if decoded != filename {
        return Err(entry(format!(
            "the link's URL ends in {:?}, not in the file name it shows",
            escape(&decoded)
        )));
    }
    if let Some(t) = &a.upload_time {
        check_rfc3339(t).map_err(|p| entry(format!("data-upload-time: {p}")))?;
    }
    Ok(IndexFile {
        filename,
        url,
        sha256,
        upload_time: a.upload_time,
        yanked: a.yanked.map(|r| {
            if r.is_empty() {
                Yanked::Yes
            } else {
                Yanked::Reason(r)
            }
        }),
        requires_python: a.requires_python.filter(|s| !s.is_empty()),
        size: None,
        wheel,
    })
}

// ---- shared checks ----

fn wheel_name(filename: &str) -> Result<Option<WheelName>, String> {
    if filename.to_ascii_lowercase().ends_with(".whl") {
        if !filename.ends_with(".whl") {
            return Err("a wheel's name ends in \".whl\" (lowercase)".into());
        }
        return parse_wheel_filename(filename)
            .map(Some)
            .map_err(|e| format!("not a valid wheel file name: {e}"));
    }
    Ok(None)
}

/// Resolve a file's URL against `base` and check it: http(s) with a host, no user name or
/// password, at most [`MAX_URL_BYTES`]; https, or http when `page_url` is http on loopback and
/// the file is on loopback too. Returns it without its fragment, and the fragment's sha256.
fn file_url(text: &str, base: &Url, page_url: &Url) -> Result<(Url, Option<String>), String> {
    if text.len() > MAX_URL_BYTES {
        return Err(format!(
            "a URL of {} bytes; the limit is {MAX_URL_BYTES}",
            text.len()
        ));
    }
    let shown = escape(text);
    let mut url = base
        .join(text)
        .map_err(|e| format!("{shown:?} is not a URL: {e}"))?;
    match url.scheme() {
        "https" => {}
        "http" if page_url.scheme() == "http" && is_loopback(page_url) && is_loopback(&url) => {}
        "http" if page_url.scheme() == "http" && is_loopback(page_url) => {
            return Err(format!(
                "{shown:?}: plain http to a host other than loopback; use https"
            ))
        }
        "http" => return Err(format!("{shown:?}: plain http; a file URL must be https")),
        other => {
            return Err(format!(
                "{shown:?}: scheme {:?} is not allowed; a file URL is https",
                escape(other)
            ))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{shown:?} has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "{shown:?}: a file URL must not carry a user name or password"
        ));
    }
    let sha256 = match url.fragment() {
        None | Some("") => None,
        Some(frag) => fragment_hash(frag)?,
    };
    url.set_fragment(None);
    Ok((url, sha256))
}

/// A URL fragment `<hash name>=<hex digest>` (PEP 503): the sha256 when it names sha256,
/// `None` for another hash, an error for anything else.
fn fragment_hash(frag: &str) -> Result<Option<String>, String> {
    let shown = escape(frag);
    let (name, value) = frag
        .split_once('=')
        .ok_or_else(|| format!("fragment {shown:?} is not <hash name>=<hex digest>"))?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(format!(
            "fragment {shown:?} is not <hash name>=<hex digest>"
        ));
    }
    if name == "sha256" {
        return check_sha256(value)
            .map(Some)
            .map_err(|p| format!("the #sha256 fragment: {p}"));
    }
    Ok(None)
}

/// 64 hex digits, returned lowercase.
fn check_sha256(hex: &str) -> Result<String, String> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        let shown = if hex.len() > 80 {
            format!("{} bytes", hex.len())
        } else {
            format!("{:?}", escape(hex))
        };
        return Err(format!("{shown} is not a sha256 digest (64 hex digits)"));
    }
    Ok(hex.to_ascii_lowercase())
}

/// A JSON entry's `hashes.sha256` and its URL's `#sha256=` fragment, when both are given,
/// must agree.
fn one_hash(listed: Option<String>, fragment: Option<String>) -> Result<Option<String>, String> {
    match (listed, fragment) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "hashes.sha256 is {a} but the URL's #sha256 fragment says {b}"
        )),
        (a, b) => Ok(a.or(b)),
    }
}

/// An RFC 3339 `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, every field in range
/// (the day for its month, a leap second allowed).
fn check_rfc3339(text: &str) -> Result<(), String> {
    let bad = |why: &str| format!("{:?} is not an RFC 3339 date-time: {why}", escape(text));
    if text.len() > 64 {
        return Err(bad("too long"));
    }
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let s = b.get(range)?;
        if s.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(s).ok()?.parse().ok()
        } else {
            None
        }
    };
    let sep = |i: usize, c: &[u8]| b.get(i).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    }
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = (
        num(0..4),
        num(5..7),
        num(8..10),
        num(11..13),
        num(14..16),
        num(17..19),
    ) else {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad("month out of range")),
    };
    if d == 0 || d > days {
        return Err(bad("day out of range"));
    }
    if h > 23 || mi > 59 || s > 60 {
        return Err(bad("time out of range"));
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad("a '.' without fraction digits"));
        }
        i += 1 + digits;
    }
    match &b[i..] {
        [b'Z' | b'z'] => Ok(()),
        [b'+' | b'-', ..] if b.len() == i + 6 && sep(i + 3, b":") => {
            match (num(i + 1..i + 3), num(i + 4..i + 6)) {
                (Some(oh), Some(om)) if oh <= 23 && om <= 59 => Ok(()),
                _ => Err(bad("time zone offset out of range")),
            }
        }
        _ => Err(bad("expected a time zone (Z or ±HH:MM)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = "application/vnd.pypi.simple.v1+json";
    const HTML: &str = "text/html; charset=utf-8";
    const A: &str = "4f3c1d3b7f0b1e3a6b0f2e8c5d9a7b6c4e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b";
    const B: &str = "0c52570e2d94111508e7d7468118d6c5cf8de2d0297d9eca8b19da139217c5a5";

    fn pypi() -> Url {
        Url::parse("https://pypi.org/simple/sampleproject/").unwrap()
    }

    fn parse(body: &str, ct: &str) -> Result<Vec<IndexFile>, IndexError> {
        parse_project_page(body.as_bytes(), ct, &pypi())
    }

    fn err(body: &str, ct: &str) -> String {
        match parse(body, ct) {
            Ok(f) => panic!("accepted: {f:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn json_page(files: &str) -> String {
        format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "sampleproject", "versions": ["4.0.0"], "files": [{files}]}}"#
        )
    }

    fn json_file(filename: &str, url: &str, sha: &str) -> String {
        format!(r#"{{"filename": "{filename}", "url": "{url}", "hashes": {{"sha256": "{sha}"}}}}"#)
    }

    fn html_page(links: &str) -> String {
        format!("<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Links for sampleproject</title>\n  </head>\n  <body>\n    <h1>Links for sampleproject</h1>\n{links}\n  </body>\n</html>\n<!--SERIAL 25476960-->\n")
    }

    fn link(href: &str, text: &str) -> String {
        format!("    <a href=\"{href}\">{text}</a><br />\n")
    }

    #[test]
    fn pep691_example_and_pypi_shaped_json() {
        // PEP 691's example, with PEP 700 fields as PyPI serves them.
        let body = format!(
            r#"{{
  "meta": {{"api-version": "1.1", "_last-serial": 25476960}},
  "name": "holygrail",
  "versions": ["1.0"],
  "files": [
    {{"filename": "holygrail-1.0.tar.gz", "url": "https://example.com/files/holygrail-1.0.tar.gz",
      "hashes": {{"sha256": "{A}", "blake2b": "abcd"}}, "requires-python": ">=3.7", "yanked": "Had a vulnerability",
      "size": 11, "upload-time": "2024-04-22T18:16:26.235436Z"}},
    {{"filename": "holygrail-1.0-py3-none-any.whl", "url": "/files/holygrail-1.0-py3-none-any.whl",
      "hashes": {{"sha256": "{up}"}}, "requires-python": ">=3.7", "dist-info-metadata": true,
      "core-metadata": {{"sha256": "{B}"}}, "provenance": null, "yanked": false, "size": 4662,
      "upload-time": "2024-04-22T18:16:26Z", "data-dist-info-metadata": {{"sha256": "{B}"}}}},
    {{"filename": "holygrail-0.9.zip", "url": "../../files/holygrail-0.9.zip", "hashes": {{}}, "yanked": true}}
  ]
}}"#,
            up = B.to_ascii_uppercase()
        );
        let files = parse(&body, "application/vnd.pypi.simple.v1+json").unwrap();
        assert_eq!(files.len(), 3);
        let sdist = &files[0];
        assert_eq!(sdist.filename, "holygrail-1.0.tar.gz");
        assert_eq!(
            sdist.url.as_str(),
            "https://example.com/files/holygrail-1.0.tar.gz"
        );
        assert_eq!(sdist.sha256.as_deref(), Some(A));
        assert_eq!(
            sdist.yanked,
            Some(Yanked::Reason("Had a vulnerability".into()))
        );
        assert_eq!(sdist.requires_python.as_deref(), Some(">=3.7"));
        assert_eq!(sdist.size, Some(11));
        assert_eq!(
            sdist.upload_time.as_deref(),
            Some("2024-04-22T18:16:26.235436Z")
        );
        assert!(!sdist.is_wheel());
        let wheel = &files[1];
        assert_eq!(
            wheel.url.as_str(),
            "https://pypi.org/files/holygrail-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.sha256.as_deref(), Some(B), "lowercased");
        assert_eq!(wheel.yanked, None);
        assert_eq!(wheel.wheel.as_ref().unwrap().project, "holygrail");
        assert!(wheel.is_wheel());
        assert_eq!(
            files[2].url.as_str(),
            "https://pypi.org/files/holygrail-0.9.zip"
        );
        assert_eq!(files[2].sha256, None);
        assert_eq!(files[2].yanked, Some(Yanked::Yes));
        assert_eq!(find(&files, "holygrail-0.9.zip").unwrap().url, files[2].url);
        assert!(find(&files, "holygrail-0.8.zip").is_none());
        let json = serde_json::to_value(&files).unwrap();
        assert_eq!(json[0]["yanked"], "Had a vulnerability");
        assert_eq!(json[2]["yanked"], true);
        assert_eq!(
            json[1]["url"],
            "https://pypi.org/files/holygrail-1.0-py3-none-any.whl"
        );
        // Parameters and the `latest` alias; the version is in meta.
        assert!(parse(
            &body,
            "application/vnd.pypi.simple.latest+json; charset=UTF-8"
        )
        .is_ok());
        // A BOM is not a reason to refuse.
        assert!(parse(&format!("\u{feff}{body}"), JSON).is_ok());
    }

    /// Two entries of PyPI's real sampleproject page, as it serves both forms (2026), plus a
    /// yanked pip release from pip's page: both forms must give the same files.
    #[test]
    fn pypi_real_pages_agree() {
        let json = r#"{"files": [{"filename": "sampleproject-1.3.0.tar.gz", "hashes": {"sha256": "ee67ab9c8b445767203e7d9523d029287f737c60524a3c0e0c36cc504e0f24d7"}, "requires-python": ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, <4", "size": 5913, "upload-time": "2019-05-28T20:23:13.940627Z", "url": "https://files.pythonhosted.org/packages/a6/aa/0090d487d204f5de30035c00f6c71b53ec7f613138d8653eebac50f47f45/sampleproject-1.3.0.tar.gz", "yanked": false}, {"filename": "sampleproject-4.0.0-py3-none-any.whl", "hashes": {"sha256": "c23e447ea90d796d1e645c35c4b2de125040add12a845825546f91c93f391b6b"}, "requires-python": ">=3.9", "size": 4661, "upload-time": "2024-11-06T22:37:09.220617Z", "url": "https://files.pythonhosted.org/packages/d7/73/c16e5f3f0d37c60947e70865c255a58dc408780a6474de0523afd0ec553a/sampleproject-4.0.0-py3-none-any.whl", "yanked": false}, {"filename": "pip-20.0.tar.gz", "hashes": {"sha256": "5128e9a9401f1d16c1d15b2ed766a79d7813db1538428d0b0ce74838249e3a41"}, "requires-python": ">=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*,!=3.4.*", "size": 1433834, "upload-time": "2020-01-21T11:42:59.282402Z", "url": "https://files.pythonhosted.org/packages/8c/5c/c18d58ab5c1a702bf670e0bd6a77cd4645e4aeca021c6118ef850895cc96/pip-20.0.tar.gz", "yanked": true}], "meta": {"api-version": "1.1", "_last-serial": "25862117"}, "name": "sampleproject", "versions": ["1.0", "1.2.0", "1.3.0", "1.3.1", "2.0.0", "3.0.0", "4.0.0"]}"#;
        let html = r#"<!DOCTYPE html>
<html>
<head><title>Links for sampleproject</title></head>
<body>
<h1>Links for sampleproject</h1>
<a href="https://files.pythonhosted.org/packages/a6/aa/0090d487d204f5de30035c00f6c71b53ec7f613138d8653eebac50f47f45/sampleproject-1.3.0.tar.gz#sha256=ee67ab9c8b445767203e7d9523d029287f737c60524a3c0e0c36cc504e0f24d7" data-requires-python="&gt;=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, &lt;4" data-upload-time="2019-05-28T20:23:13.940627Z">sampleproject-1.3.0.tar.gz</a><br/>
<a href="https://files.pythonhosted.org/packages/d7/73/c16e5f3f0d37c60947e70865c255a58dc408780a6474de0523afd0ec553a/sampleproject-4.0.0-py3-none-any.whl#sha256=c23e447ea90d796d1e645c35c4b2de125040add12a845825546f91c93f391b6b" data-requires-python="&gt;=3.9" data-upload-time="2024-11-06T22:37:09.220617Z">sampleproject-4.0.0-py3-none-any.whl</a><br/>
<a href="https://files.pythonhosted.org/packages/8c/5c/c18d58ab5c1a702bf670e0bd6a77cd4645e4aeca021c6118ef850895cc96/pip-20.0.tar.gz#sha256=5128e9a9401f1d16c1d15b2ed766a79d7813db1538428d0b0ce74838249e3a41" data-requires-python="&gt;=2.7,!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*,!=3.4.*" data-upload-time="2020-01-21T11:42:59.282402Z" data-yanked="">pip-20.0.tar.gz</a><br/>
</body>
</html>
<!--SERIAL 25862117-->
"#;
        let from_json = parse(json, JSON).unwrap();
        let from_html = parse(html, "text/html").unwrap();
        assert_eq!(from_json.len(), 3);
        for (j, h) in from_json.iter().zip(&from_html) {
            assert_eq!(
                IndexFile {
                    size: None,
                    ..j.clone()
                },
                *h
            );
        }
        assert_eq!(
            from_json[0].requires_python.as_deref(),
            Some(">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, <4")
        );
        assert_eq!(from_json[1].size, Some(4661));
        assert_eq!(from_json[1].wheel.as_ref().unwrap().version, "4.0.0");
        assert_eq!(from_html[2].yanked, Some(Yanked::Yes));
        assert!(err(
            &html.replace("2019-05-28T20:23:13", "2019-05-28T25:23:13"),
            HTML
        )
        .contains("data-upload-time"));
    }

    #[test]
    fn json_page_structure() {
        let f = json_file("a-1.0.tar.gz", "https://files.example/a-1.0.tar.gz", A);
        assert!(parse(&json_page(&f), JSON).is_ok());
        assert!(parse(&json_page(""), JSON).unwrap().is_empty());
        for v in ["2.0", "1", "1.", "v1.0", "1.0.1", "01.0", " 1.0"] {
            let body = format!(r#"{{"meta": {{"api-version": "{v}"}}, "files": [{f}]}}"#);
            assert!(err(&body, JSON).contains("api-version"), "{v}");
        }
        assert!(err(&format!(r#"{{"files": [{f}]}}"#), JSON).contains("missing field `meta`"));
        assert!(err(r#"{"meta": {"api-version": "1.0"}}"#, JSON).contains("missing field `files`"));
        assert!(
            err(r#"{"meta": {"api-version": "1.0"}, "files": {}}"#, JSON)
                .contains("an array of at most")
        );
        assert!(err(
            &json_page(r#"{"filename": "a-1.tar.gz", "url": "https://x.test/a-1.tar.gz"}"#),
            JSON
        )
        .contains("missing field `hashes`"));
        let two = format!(
            r#"{{"filename": "a-1.tar.gz", "url": "https://x.test/a-1.tar.gz", "hashes": {{"sha256": "{A}", "sha256": "{B}"}}}}"#
        );
        assert!(err(&json_page(&two), JSON).contains("duplicate field `sha256`"));
        let twice = r#"{"filename": "a-1.tar.gz", "filename": "b-1.tar.gz", "url": "https://x.test/a-1.tar.gz", "hashes": {}}"#;
        assert!(err(&json_page(twice), JSON).contains("duplicate field `filename`"));
        assert!(err(&json_page(&f)[..40], JSON).contains("malformed"));
        let neg = r#"{"filename": "a-1.tar.gz", "url": "https://x.test/a-1.tar.gz", "hashes": {}, "size": -1}"#;
        assert!(err(&json_page(neg), JSON).contains("malformed"));
        let yank = r#"{"filename": "a-1.tar.gz", "url": "https://x.test/a-1.tar.gz", "hashes": {}, "yanked": 1}"#;
        assert!(err(&json_page(yank), JSON).contains("malformed"));
    }

    #[test]
    fn json_entries_are_checked() {
        let one = |filename: &str, url: &str, sha: &str| {
            err(&json_page(&json_file(filename, url, sha)), JSON)
        };
        let ok_url = "https://files.example/x";
        assert!(one("a-1.0.tar.gz", ok_url, &A[..63]).contains("hashes.sha256"));
        assert!(
            one("a-1.0.tar.gz", ok_url, &format!("{}g", &A[..63])).contains("not a sha256 digest")
        );
        assert!(one("a-1.0.tar.gz", ok_url, "").contains("not a sha256 digest"));
        assert!(one("a-1.0.tar.gz", "javascript:alert(1)", A).contains("scheme \"javascript\""));
        assert!(one("a-1.0.tar.gz", "data:text/plain,hi", A).contains("scheme \"data\""));
        assert!(one("a-1.0.tar.gz", "file:///etc/passwd", A).contains("scheme \"file\""));
        assert!(one("a-1.0.tar.gz", "http://files.example/a-1.0.tar.gz", A).contains("plain http"));
        assert!(
            one("a-1.0.tar.gz", "http://127.0.0.1:8080/a-1.0.tar.gz", A).contains("plain http"),
            "an https page must not point at loopback http"
        );
        assert!(
            one("a-1.0.tar.gz", "https://u:p@files.example/a", A).contains("user name or password")
        );
        assert!(one(
            "a-1.0.tar.gz",
            &format!("https://x.test/{}", "a".repeat(MAX_URL_BYTES)),
            A
        )
        .contains("limit"));
        assert!(one("../a-1.0.tar.gz", ok_url, A).contains("'.'"));
        assert!(one("dir/a-1.0.tar.gz", ok_url, A).contains("path separators"));
        assert!(one("dir\\\\a-1.0.tar.gz", ok_url, A).contains("path separators"));
        assert!(one("a-1.0\\u202e.tar.gz", ok_url, A).contains("control characters"));
        assert!(one("a-1.0\\n.tar.gz", ok_url, A).contains("control characters"));
        assert!(one("a 1.0.tar.gz", ok_url, A).contains("whitespace"));
        assert!(one("", ok_url, A).contains("empty"));
        assert!(one("nota-wheel.whl", ok_url, A).contains("not a valid wheel file name"));
        assert!(one("a-1.0-py3-none-any.WHL", ok_url, A).contains("lowercase"));
        // The fragment and hashes.sha256 must agree when both are there.
        assert!(one("a-1.0.tar.gz", &format!("{ok_url}#sha256={B}"), A).contains("fragment says"));
        let agree = parse(
            &json_page(&json_file(
                "a-1.0.tar.gz",
                &format!("{ok_url}#sha256={A}"),
                A,
            )),
            JSON,
        )
        .unwrap();
        assert_eq!(agree[0].url.as_str(), ok_url, "fragment dropped");
        // Duplicates.
        let f = json_file("a-1.0.tar.gz", ok_url, A);
        assert_eq!(
            parse(&json_page(&format!("{f},{f}")), JSON),
            Err(IndexError::Duplicate("a-1.0.tar.gz".into()))
        );
        // upload-time.
        for (t, ok) in [
            ("2024-04-22T18:16:26.235436Z", true),
            ("2024-04-22T18:16:26Z", true),
            ("2024-04-22t18:16:26z", true),
            ("2024-04-22T18:16:26+02:00", true),
            ("2016-12-31T23:59:60Z", true),
            ("2000-02-29T00:00:00Z", true),
            ("1900-02-29T00:00:00Z", false),
            ("2024-04-31T00:00:00Z", false),
            ("2024-04-22 18:16:26Z", false),
            ("2024-04-22T18:16:26", false),
            ("2024-04-22T24:00:00Z", false),
            ("2024-04-22T18:16:26.Z", false),
            ("2024-04-22T18:16:26+2:00", false),
            ("2024-04-22T18:16:26+24:00", false),
            ("2024-4-22T18:16:26Z", false),
            ("yesterday", false),
        ] {
            let body = json_page(&format!(
                r#"{{"filename": "a-1.tar.gz", "url": "{ok_url}", "hashes": {{}}, "upload-time": "{t}"}}"#
            ));
            assert_eq!(parse(&body, JSON).is_ok(), ok, "{t}");
        }
    }

    #[test]
    fn http_only_from_loopback_to_loopback() {
        let page = Url::parse("http://127.0.0.1:8080/simple/demo/").unwrap();
        let body = |url: &str| json_page(&json_file("demo-1.0.tar.gz", url, A));
        let files =
            parse_project_page(body("/packages/demo-1.0.tar.gz").as_bytes(), JSON, &page).unwrap();
        assert_eq!(
            files[0].url.as_str(),
            "http://127.0.0.1:8080/packages/demo-1.0.tar.gz"
        );
        assert!(parse_project_page(
            body("http://localhost:9/demo-1.0.tar.gz").as_bytes(),
            JSON,
            &page
        )
        .is_ok());
        assert!(parse_project_page(
            body("https://files.example/demo-1.0.tar.gz").as_bytes(),
            JSON,
            &page
        )
        .is_ok());
        let e = parse_project_page(
            body("http://files.example/demo-1.0.tar.gz").as_bytes(),
            JSON,
            &page,
        )
        .unwrap_err();
        assert!(e.to_string().contains("other than loopback"), "{e}");
        let remote = Url::parse("http://index.example/simple/demo/").unwrap();
        assert!(
            parse_project_page(body("/packages/demo-1.0.tar.gz").as_bytes(), JSON, &remote)
                .unwrap_err()
                .to_string()
                .contains("must be https")
        );
    }

    #[test]
    fn pep503_example_and_pypi_shaped_html() {
        let body = html_page(&format!(
            "{}{}{}",
            link(&format!("https://files.pythonhosted.org/packages/ec/a8/5ec62d18adde/sampleproject-1.2.0-py2.py3-none-any.whl#sha256={A}"), "sampleproject-1.2.0-py2.py3-none-any.whl"),
            format_args!(
                "    <a href=\"https://files.pythonhosted.org/packages/c4/ab/sampleproject-4.0.0.tar.gz#sha256={B}\" data-requires-python=\"&gt;=3.8\" data-dist-info-metadata=\"sha256={A}\" data-core-metadata=\"sha256={A}\">sampleproject-4.0.0.tar.gz</a><br />\n"
            ),
            "    <a href=\"/packages/sampleproject-0.1.zip#md5=0123\" data-yanked=\"broken &amp; &lt;old&gt;\">\n      sampleproject-0.1.zip\n    </a><br />\n    <a href=\"/packages/sampleproject-0.2.zip\" data-yanked>sampleproject-0.2.zip</a>\n    <a name=\"bottom\">not a file</a>\n"
        ));
        let files = parse(&body, HTML).unwrap();
        assert_eq!(files.len(), 4);
        assert_eq!(
            files[0].filename,
            "sampleproject-1.2.0-py2.py3-none-any.whl"
        );
        assert_eq!(files[0].url.as_str(), "https://files.pythonhosted.org/packages/ec/a8/5ec62d18adde/sampleproject-1.2.0-py2.py3-none-any.whl");
        assert_eq!(files[0].sha256.as_deref(), Some(A));
        assert!(files[0].is_wheel());
        assert_eq!(files[1].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(files[1].sha256.as_deref(), Some(B));
        assert!(!files[1].is_wheel());
        assert_eq!(
            files[2].filename, "sampleproject-0.1.zip",
            "surrounding whitespace is not part of the name"
        );
        assert_eq!(
            files[2].url.as_str(),
            "https://pypi.org/packages/sampleproject-0.1.zip"
        );
        assert_eq!(files[2].sha256, None, "an md5 fragment gives no sha256");
        assert_eq!(
            files[2].yanked,
            Some(Yanked::Reason("broken & <old>".into()))
        );
        assert_eq!(files[3].yanked, Some(Yanked::Yes));
        for ct in [
            "application/vnd.pypi.simple.v1+html",
            "text/html",
            "TEXT/HTML;charset=\"UTF-8\"",
        ] {
            assert_eq!(parse(&body, ct).unwrap(), files, "{ct}");
        }
    }

    #[test]
    fn pypiserver_page() {
        // What pypiserver 2.4 serves (tests/interop/test_index.py runs the real one).
        let body = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n        <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n        <title>Links for demo</title>\n    </head>\n    <body>\n        <h1>Links for demo</h1>\n            <a href=\"/packages/demo-1.0-py3-none-any.whl#sha256={B}\">demo-1.0-py3-none-any.whl</a><br>\n            <a href=\"/packages/demo-1.0-1-py3-none-any.whl#sha256={A}\">demo-1.0-1-py3-none-any.whl</a><br>\n    </body>\n</html>\n    "
        );
        let page = Url::parse("http://127.0.0.1:8080/simple/demo/").unwrap();
        let files = parse_project_page(body.as_bytes(), "text/html; charset=UTF-8", &page).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[1].url.as_str(),
            "http://127.0.0.1:8080/packages/demo-1.0-1-py3-none-any.whl"
        );
        assert_eq!(files[1].wheel.as_ref().unwrap().build.as_deref(), Some("1"));
    }

    #[test]
    fn html_base_and_context() {
        let l = link(&format!("a-1.0.tar.gz#sha256={A}"), "a-1.0.tar.gz");
        let with_base = format!("<html><head><base href=\"https://mirror.example/files/\"><base href=\"https://second.example/\"></head><body>{l}</body></html>");
        assert_eq!(
            parse(&with_base, HTML).unwrap()[0].url.as_str(),
            "https://mirror.example/files/a-1.0.tar.gz"
        );
        assert!(
            err(&format!("<base href=\"javascript:x()\">{l}"), HTML).contains("not an http(s) URL")
        );
        // Inside <title>, <script>, <textarea>, <style>, <noscript> or a comment, a link is text
        // to a browser but may be a link to other readers: such a page is refused.
        for (open, close) in [
            ("<title>", "</title>"),
            ("<!-- ", " -->"),
            ("<script>document.write('", "')</script>"),
            ("<TEXTAREA>", "</textarea>"),
            ("<style>", "</style>"),
            ("<noscript>", "</noscript>"),
            ("<![CDATA[", "]]>"),
        ] {
            let page = format!("<html><head>{open}{l}{close}</head><body>{l}</body></html>");
            assert!(
                err(&page, HTML).contains("holds what looks like a link"),
                "{open}"
            );
        }
        let plain = "<html><head><title>Links for a &lt;b&gt; <abbr></title><style>a{color:red}</style><script>if (a<b) x()</script><!-- SERIAL 1 <ab> --></head><body>";
        assert_eq!(
            parse(&format!("{plain}{l}</body></html>"), HTML)
                .unwrap()
                .len(),
            1
        );
        for weird in ["<!-->", "<!--->", "<!-- x --!>", "<!-- <!-- -->"] {
            assert!(
                err(&format!("{weird}{l}"), HTML).contains("malformed comment"),
                "{weird}"
            );
        }
        // A page without links lists no files.
        assert!(parse(
            "<!DOCTYPE html><html><body><h1>Links for x</h1></body></html>",
            HTML
        )
        .unwrap()
        .is_empty());
        assert!(parse("", HTML).unwrap().is_empty());
    }

    #[test]
    fn hostile_html() {
        let h = |href: &str, text: &str| err(&html_page(&link(href, text)), HTML);
        let good = format!("/p/a-1.0.tar.gz#sha256={A}");
        assert!(h(
            &format!("/p/a-1.0.tar.gz#sha256={}", &A[..63]),
            "a-1.0.tar.gz"
        )
        .contains("not a sha256 digest"));
        assert!(h(
            &format!("/p/a-1.0.tar.gz#sha256={}", "z".repeat(64)),
            "a-1.0.tar.gz"
        )
        .contains("not a sha256 digest"));
        assert!(h("/p/a-1.0.tar.gz#sha256=", "a-1.0.tar.gz").contains("not a sha256 digest"));
        assert!(h("/p/a-1.0.tar.gz#egg", "a-1.0.tar.gz").contains("not <hash name>=<hex digest>"));
        assert!(
            h("/p/a-1.0.tar.gz#SHA256=00", "a-1.0.tar.gz").contains("not <hash name>=<hex digest>")
        );
        assert!(h("javascript:alert(1)//a-1.0.tar.gz", "a-1.0.tar.gz")
            .contains("scheme \"javascript\""));
        // Entities and whitespace do not smuggle a scheme past the check.
        assert!(h(
            "j&#97;vascript&colon;alert(1)//a-1.0.tar.gz",
            "a-1.0.tar.gz"
        )
        .contains("scheme \"javascript\""));
        assert!(h("java&#x0A;script:alert(1)//a-1.0.tar.gz", "a-1.0.tar.gz")
            .contains("scheme \"javascript\""));
        assert!(h("  JAVASCRIPT:alert(1)//a-1.0.tar.gz", "a-1.0.tar.gz")
            .contains("scheme \"javascript\""));
        assert!(h("vbscript:x", "a-1.0.tar.gz").contains("scheme \"vbscript\""));
        assert!(h("http://evil.example/a-1.0.tar.gz", "a-1.0.tar.gz").contains("plain http"));
        assert!(h("https://u@files.example/a-1.0.tar.gz", "a-1.0.tar.gz")
            .contains("user name or password"));
        // Scheme-relative URLs take the page's scheme (https here).
        let rel = parse(
            &html_page(&link(
                &format!("//cdn.example/a-1.0.tar.gz#sha256={A}"),
                "a-1.0.tar.gz",
            )),
            HTML,
        )
        .unwrap();
        assert_eq!(rel[0].url.as_str(), "https://cdn.example/a-1.0.tar.gz");
        // Names: entities decode first, then the plain-name rule applies.
        assert!(h(&good, "..&#x2F;a-1.0.tar.gz").contains("'.'"));
        assert!(h(&good, "x&#x2F;a-1.0.tar.gz").contains("path separators"));
        assert!(h(&good, "x&sol;a-1.0.tar.gz").contains("path separators"));
        assert!(h(&good, "x&bsol;a-1.0.tar.gz").contains("path separators"));
        assert!(h(&good, "a-1.0&#x202E;.tar.gz").contains("control characters"));
        assert!(
            h(&good, "a-1.0&#0;.tar.gz").contains("URL ends in"),
            "NUL becomes U+FFFD, which the URL does not end in"
        );
        assert!(h(&good, "a-1.0&#x1b;.tar.gz").contains("control characters"));
        assert!(h(&good, "a-1.0&#x0A;x.tar.gz").contains("whitespace"));
        assert!(h(&good, "").contains("empty"));
        assert!(h(&good, "a-1.0:x.tar.gz").contains("some file systems refuse"));
        assert!(h(&good, &"a".repeat(256)).contains("limit is 255"));
        assert!(h("/p/bad.whl", "bad.whl").contains("not a valid wheel file name"));
        // The text must be the URL's file name (PEP 503), percent-decoding the URL.
        assert!(h(&good, "b-1.0.tar.gz").contains("the link's URL ends in \"a-1.0.tar.gz\""));
        assert!(h("/p/a-1.0.tar.gz/", "a-1.0.tar.gz").contains("URL ends in \"\""));
        let plus = parse(
            &html_page(&link("/p/a-1.0%2Blocal.tar.gz", "a-1.0+local.tar.gz")),
            HTML,
        )
        .unwrap();
        assert_eq!(plus[0].filename, "a-1.0+local.tar.gz");
        // One reading only: repeated attributes, nested or unclosed links, a truncated page.
        let twice = format!(
            "<a href=\"{good}\" href=\"https://evil.example/a-1.0.tar.gz\">a-1.0.tar.gz</a>"
        );
        assert!(err(&twice, HTML).contains("repeats an attribute"));
        assert!(err(
            &format!("<a href=\"{good}\" data-yanked data-yanked=x>a-1.0.tar.gz</a>"),
            HTML
        )
        .contains("repeats an attribute"));
        assert!(err(
            &format!("<a href=\"{good}\"><a href=\"{good}\">a-1.0.tar.gz</a></a>"),
            HTML
        )
        .contains("holds a <a> tag"));
        assert!(
            err(&format!("<a href=\"{good}\"><b>a-1.0.tar.gz</b></a>"), HTML)
                .contains("holds a <b> tag")
        );
        assert!(
            err(&format!("<a href=\"{good}\">a-1.0.tar.gz</p></a>"), HTML)
                .contains("holds a </p> tag")
        );
        assert!(err(
            &format!("<a name=x><a href=\"{good}\">a-1.0.tar.gz</a></a>"),
            HTML
        )
        .contains("holds a <a> tag"));
        assert!(err(&format!("<a href=\"{good}\">a-1.0.tar.gz"), HTML).contains("never closed"));
        assert!(err(&format!("<a href=\"{good}\">a-1.0.tar.gz</a"), HTML).contains("truncated"));
        assert!(err(
            &format!(
                "{}<!-- {}",
                link(&good, "a-1.0.tar.gz"),
                link(&good, "a-1.0.tar.gz")
            ),
            HTML
        )
        .contains("eof-in-comment"));
        assert!(err(&format!("<a href=\"{good}"), HTML).contains("truncated"));
        // Duplicates, also when only entities differ in the source.
        let dup = format!(
            "{}{}",
            link(&good, "a-1.0.tar.gz"),
            link(&good.replace("a-1", "&#97;-1"), "&#97;-1.0.tar.gz")
        );
        assert_eq!(
            parse(&dup, HTML),
            Err(IndexError::Duplicate("a-1.0.tar.gz".into()))
        );
    }

    #[test]
    fn page_level_limits() {
        assert!(err("{}", "application/json").contains("is not a project page"));
        assert!(err("{}", "").contains("no Content-Type"));
        assert!(err("<html>", "text/html; charset=iso-8859-1").contains("charset \"iso-8859-1\""));
        assert!(err("<html>", "text/plain").contains("is not a project page"));
        assert!(err("{}", "application/vnd.pypi.simple.v2+json").contains("is not a project page"));
        let latin1 = b"<a href=\"/a-1.0.tar.gz\">\xe9</a>";
        assert!(parse_project_page(latin1, HTML, &pypi())
            .unwrap_err()
            .to_string()
            .contains("not UTF-8 (invalid byte at offset 24)"));
        let huge = vec![b' '; MAX_PAGE_BYTES + 1];
        assert!(parse_project_page(&huge, HTML, &pypi())
            .unwrap_err()
            .to_string()
            .contains("limit is 67108864"));
        assert!(parse_project_page(&huge, JSON, &pypi())
            .unwrap_err()
            .to_string()
            .contains("limit is 67108864"));
    }

    #[test]
    fn too_many_files() {
        let mut json = String::from(r#"{"meta": {"api-version": "1.0"}, "files": ["#);
        let mut html = String::new();
        for i in 0..=MAX_FILES {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&format!(
                r#"{{"filename":"a-{i}.zip","url":"a-{i}.zip","hashes":{{}}}}"#
            ));
            html.push_str(&format!("<a href=a-{i}.zip>a-{i}.zip</a>"));
        }
        json.push_str("]}");
        assert!(err(&json, JSON).contains("more than 200000 files"));
        assert!(err(&html, HTML).contains("more than 200000 files"));
        // Exactly the limit is fine.
        let end = html.rfind("<a ").unwrap();
        assert_eq!(parse(&html[..end], HTML).unwrap().len(), MAX_FILES);
    }

    #[test]
    fn project_urls() {
        let simple = Url::parse("https://pypi.org/simple/").unwrap();
        assert_eq!(
            project_url(&simple, "Sample.Project_x").unwrap().as_str(),
            "https://pypi.org/simple/sample-project-x/"
        );
        assert_eq!(
            project_url(&simple, "a__-.b").unwrap().as_str(),
            "https://pypi.org/simple/a-b/"
        );
        let bare = Url::parse("http://127.0.0.1:8080/simple?x=1#f").unwrap();
        assert_eq!(
            project_url(&bare, "demo").unwrap().as_str(),
            "http://127.0.0.1:8080/simple/demo/"
        );
        let root = Url::parse("https://index.example").unwrap();
        assert_eq!(
            project_url(&root, "demo").unwrap().as_str(),
            "https://index.example/demo/"
        );
        for bad in ["", "../x", "a/b", "-a", "a b", "é"] {
            assert!(
                matches!(project_url(&simple, bad), Err(IndexError::Request(_))),
                "{bad:?}"
            );
        }
        assert!(project_url(&Url::parse("file:///simple/").unwrap(), "demo").is_err());
        assert!(project_url(&Url::parse("mailto:x@y").unwrap(), "demo").is_err());
    }

    #[test]
    fn plain_file_names() {
        for ok in [
            "demo-1.0-py3-none-any.whl",
            "demo-1.0.tar.gz",
            "Demo_X-1.0+local.zip",
            "a",
        ] {
            assert!(check_file_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "..",
            ".hidden",
            "a/b",
            "a\\b",
            "a\u{0}",
            "a\u{7f}",
            "a\u{85}",
            "a\u{2066}",
            "a\tb",
            "a b",
            "a\u{3000}b",
            "c:x",
            "a*",
            "a?",
            "a|b",
            "a\"b",
            "<a>",
        ] {
            assert!(check_file_name(bad).is_err(), "{bad:?}");
        }
    }

    fn root() -> Url {
        Url::parse("https://pypi.org/simple/").unwrap()
    }

    #[test]
    fn project_list_json_with_serials() {
        let body = r#"{"meta": {"api-version": "1.1", "_last-serial": 99}, "projects": [
            {"name": "Zope.Interface", "_last-serial": 7}, {"name": "a"}, {"name": "zope-interface", "_last-serial": 9}]}"#;
        let got = parse_project_list(body.as_bytes(), JSON, &root()).unwrap();
        assert_eq!(
            got,
            vec![
                ListedProject {
                    name: "a".into(),
                    serial: None
                },
                ListedProject {
                    name: "zope-interface".into(),
                    serial: Some(9)
                },
            ]
        );
    }

    #[test]
    fn project_list_html() {
        let body = "<!DOCTYPE html><html><body><a href=\"/simple/frob/\">Frob</a>\n<a href=\"/simple/a-b/\"> A_B </a></body></html>";
        let got = parse_project_list(body.as_bytes(), HTML, &root()).unwrap();
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a-b", "frob"]);
        assert!(got.iter().all(|p| p.serial.is_none()));
    }

    #[test]
    fn project_list_refuses_what_is_not_a_list() {
        let bad = |body: &str, ct: &str| {
            parse_project_list(body.as_bytes(), ct, &root())
                .unwrap_err()
                .to_string()
        };
        assert!(bad("<a href=x>../etc</a>", HTML)
            .contains("the <a> at byte 0: \"../etc\" is not a project name"));
        assert!(bad(
            r#"{"meta":{"api-version":"1.0"},"projects":[{"name":"ok"},{"name":"-no"}]}"#,
            JSON
        )
        .contains("projects[1]: \"-no\" is not a project name"));
        assert!(bad(r#"{"meta":{"api-version":"2.0"},"projects":[]}"#, JSON)
            .contains("only version 1.x"));
        assert!(bad(
            r#"{"meta":{"api-version":"1.0"},"projects":[{"name":"a","_last-serial":-1}]}"#,
            JSON
        )
        .contains("malformed"));
        assert!(bad("<a href=x>a</a><!-- <a href=y>b</a> -->", HTML).contains("looks like a link"));
        assert!(bad("{}", "application/json").contains("is not a project page"));
    }
}
