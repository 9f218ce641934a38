//! Bearer tokens: read from a file (`--auth-token-file`) or `KAFKA_GEN_AUTH_TOKENS`, and
//! checked in constant time. A token is never printed: an error names the file and line, or
//! the variable and the item, and `Debug` shows only how many there are.

use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context};
use axum::http::{header::AUTHORIZATION, HeaderMap};
use subtle::{Choice, ConstantTimeEq};

/// Shortest token taken: 16 characters, so a guessable word is refused at start-up.
pub const MIN_LEN: usize = 16;
/// Longest token taken.
pub const MAX_LEN: usize = 256;
/// Most tokens taken: a request is compared with every one of them.
pub const MAX_TOKENS: usize = 1000;
/// Largest token file read (1000 tokens of 256 characters, with comments, fit easily).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// What a token may be, as errors say it.
const ALLOWED: &str = "a token is 16 to 256 characters of A-Z, a-z, 0-9 and - . _ ~ + / \
                       (RFC 6750's b64token, with = padding at the end only); make one with \
                       `openssl rand -hex 32`";

/// One token's SHA-256 digest: every token is compared as these 32 bytes, so how long a
/// comparison takes says nothing about a token's length or content, and a request costs one
/// digest and 32 bytes a token (a zero-padded 256-byte block a token cost 600x the bare
/// router with 1000 tokens; `cargo bench --bench guard`).
struct Block([u8; 32]);

impl Block {
    /// `None` when `token` is longer than any token can be.
    fn new(token: &[u8]) -> Option<Self> {
        if token.len() > MAX_LEN {
            return None;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, token);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(digest.as_ref());
        Some(Self(bytes))
    }
}

/// The tokens a listener accepts.
pub struct Tokens {
    blocks: Vec<Block>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tokens({} redacted)", self.blocks.len())
    }
}

/// Whether `token` has the shape of a bearer token this service takes.
fn well_formed(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    (MIN_LEN..=MAX_LEN).contains(&token.len())
        && !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Why `item` is refused, without quoting it.
fn refusal(item: &str) -> &'static str {
    let lower = item.to_ascii_lowercase();
    if lower.starts_with("bearer ") || lower.starts_with("authorization:") {
        "write the token alone, without `Authorization:` or `Bearer `"
    } else if item.len() < MIN_LEN {
        "it is shorter than 16 characters"
    } else if item.len() > MAX_LEN {
        "it is longer than 256 characters"
    } else {
        "it holds a character a token may not have (a space, a quote, #...)"
    }
}

impl Tokens {
    /// Reads `path`: one token a line, blank lines and lines starting with `#` skipped.
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let name = path.display();
        let mut text = String::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_string(&mut text))
            .with_context(|| {
                format!("cannot read auth token file {name}; check --auth-token-file")
            })?;
        if text.len() as u64 > MAX_FILE_BYTES {
            bail!(
                "auth token file {name} is larger than 1 MiB; it should hold at most {MAX_TOKENS} \
                 tokens, one a line"
            );
        }
        let mut tokens = Self { blocks: Vec::new() };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("auth token file {name}, line {}", i + 1);
            tokens.push(line, at)?;
        }
        if tokens.blocks.is_empty() {
            bail!(
                "auth token file {name} holds no token (only blank lines and # comments); put \
                 one token a line ({ALLOWED})"
            );
        }
        Ok(tokens)
    }

    /// Reads `KAFKA_GEN_AUTH_TOKENS`: tokens separated by commas or newlines.
    pub fn from_list(text: &str, source: &str) -> anyhow::Result<Self> {
        let mut tokens = Self { blocks: Vec::new() };
        let items = text.split([',', '\n']).map(str::trim);
        for (i, item) in items.filter(|t| !t.is_empty()).enumerate() {
            tokens.push(item, || format!("{source}, token {}", i + 1))?;
        }
        if tokens.blocks.is_empty() {
            bail!(
                "{source} is set but holds no token; give one or more, separated by commas or \
                 newlines ({ALLOWED}), or unset it"
            );
        }
        Ok(tokens)
    }

    fn push(&mut self, token: &str, at: impl Fn() -> String) -> anyhow::Result<()> {
        if !well_formed(token) {
            bail!("{}: not a token: {}; {ALLOWED}", at(), refusal(token));
        }
        if self.blocks.len() == MAX_TOKENS {
            bail!(
                "{}: more than {MAX_TOKENS} tokens; keep at most {MAX_TOKENS}",
                at()
            );
        }
        // `well_formed` bounds the length, so the block always fits.
        self.blocks.extend(Block::new(token.as_bytes()));
        Ok(())
    }

    /// Both sets of tokens.
    pub fn merge(mut self, other: Self) -> anyhow::Result<Self> {
        if self.blocks.len() + other.blocks.len() > MAX_TOKENS {
            bail!(
                "the auth token file and KAFKA_GEN_AUTH_TOKENS hold more than {MAX_TOKENS} \
                 tokens together; keep at most {MAX_TOKENS}"
            );
        }
        self.blocks.extend(other.blocks);
        Ok(self)
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Never true: loading refuses an empty set.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Whether `presented` is one of the tokens. Its digest is compared with every token's,
    /// over all 32 bytes, with no early exit.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        let Some(given) = Block::new(presented) else {
            return false;
        };
        let mut found = Choice::from(0);
        for token in &self.blocks {
            found |= token.0.ct_eq(&given.0);
        }
        found.into()
    }
}

/// What a request's `Authorization` header holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    /// No header, or another scheme than Bearer (RFC 6750 3.1: no error code then).
    Nothing,
    /// A bearer token (possibly empty).
    Bearer(&'a [u8]),
}

/// The bearer token of `headers`, if any.
pub fn presented(headers: &HeaderMap) -> Presented<'_> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Presented::Nothing;
    };
    let value = value.as_bytes().trim_ascii();
    let (scheme, rest) = match value.iter().position(|b| *b == b' ') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, &[][..]),
    };
    if scheme.eq_ignore_ascii_case(b"bearer") {
        Presented::Bearer(rest.trim_ascii())
    } else {
        Presented::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "a3f1c9e2b7d4a6f8c0e1b2d3";
    const B: &str = "Zm9vYmFyYmF6cXV4cXV1eA==";

    #[test]
    fn a_file_skips_blanks_and_comments_and_names_a_bad_line_without_quoting_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        std::fs::write(&path, format!("# ops\n\n  {A}  \r\n{B}\n")).unwrap();
        let tokens = Tokens::from_file(&path).unwrap();
        assert_eq!(tokens.len(), 2);
        assert!(tokens.accepts(A.as_bytes()) && tokens.accepts(B.as_bytes()));
        assert!(!tokens.accepts(&A.as_bytes()[1..]));
        assert!(!tokens.accepts(format!("{A}x").as_bytes()));
        assert!(!tokens.accepts(b""));
        assert!(!tokens.accepts(&[b'a'; 300]));

        let secret = "hunter2 with a space in it";
        std::fs::write(&path, format!("{A}\n# next\n{secret}\n")).unwrap();
        let e = format!("{:#}", Tokens::from_file(&path).unwrap_err());
        assert!(
            e.contains(&format!("{}, line 3: not a token", path.display())),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");
        std::fs::write(&path, format!("Bearer {A}\n")).unwrap();
        let e = format!("{:#}", Tokens::from_file(&path).unwrap_err());
        assert!(
            e.contains("line 1") && e.contains("without") && !e.contains(A),
            "{e}"
        );
        std::fs::write(&path, "short\n").unwrap();
        let e = format!("{:#}", Tokens::from_file(&path).unwrap_err());
        assert!(
            e.contains("shorter than 16") && !e.contains("short\n"),
            "{e}"
        );

        std::fs::write(&path, "# only a comment\n\n").unwrap();
        let e = format!("{:#}", Tokens::from_file(&path).unwrap_err());
        assert!(e.contains("holds no token"), "{e}");
        let e = format!(
            "{:#}",
            Tokens::from_file(&dir.path().join("no")).unwrap_err()
        );
        assert!(e.contains("cannot read auth token file"), "{e}");
    }

    #[test]
    fn a_list_splits_on_commas_and_newlines() {
        let tokens = Tokens::from_list(&format!(" {A},\n{B}\n,"), "KAFKA_GEN_AUTH_TOKENS").unwrap();
        assert_eq!(tokens.len(), 2);
        let e = Tokens::from_list(" , \n", "KAFKA_GEN_AUTH_TOKENS").unwrap_err();
        assert!(e.to_string().contains("holds no token"), "{e}");
        let e = Tokens::from_list(&format!("{A},{A}\"x"), "KAFKA_GEN_AUTH_TOKENS").unwrap_err();
        assert!(e.to_string().contains("token 2") && !e.to_string().contains(A));
        let many = vec![A; MAX_TOKENS + 1].join(",");
        assert!(Tokens::from_list(&many, "X").is_err());
        let both = Tokens::from_list(A, "X")
            .unwrap()
            .merge(Tokens::from_list(B, "Y").unwrap())
            .unwrap();
        assert!(both.accepts(B.as_bytes()) && both.accepts(A.as_bytes()));
        assert_eq!(format!("{both:?}"), "Tokens(2 redacted)");
    }

    #[test]
    fn the_header_is_read_as_bearer_only() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), Presented::Nothing);
        h.insert(AUTHORIZATION, format!("bEaReR  {A} ").parse().unwrap());
        assert_eq!(presented(&h), Presented::Bearer(A.as_bytes()));
        h.insert(AUTHORIZATION, "Basic dXNlcjpwYXNz".parse().unwrap());
        assert_eq!(presented(&h), Presented::Nothing);
        h.insert(AUTHORIZATION, "Bearer".parse().unwrap());
        assert_eq!(presented(&h), Presented::Bearer(b""));
    }
}
