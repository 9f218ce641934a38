//! Errors in a world file, located as `file:line:column` with the path of the bad item.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct WorldError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Dotted path of the item, e.g. `events.deposit.payload.amount`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for WorldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for WorldError {}

/// Finds the line and column of the item at `path` (mapping keys; `[i]` list indices are
/// skipped) in block-style YAML, or of its deepest ancestor found.
pub fn locate(text: &str, path: &[String]) -> Option<(usize, usize)> {
    let keys: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with('['))
        .collect();
    let mut want = 0;
    let mut depth_indent: Option<usize> = None;
    let mut best = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = line.len() - trimmed.len();
        let mut body = trimmed;
        while let Some(rest) = body.strip_prefix("- ") {
            indent += 2;
            body = rest.trim_start();
        }
        if let Some(d) = depth_indent {
            if indent <= d && line.len() - trimmed.len() <= d {
                break;
            }
        }
        if want < keys.len()
            && key_of(body) == Some(keys[want])
            && depth_indent.is_none_or(|d| indent > d)
        {
            best = Some((n + 1, indent + 1));
            depth_indent = Some(indent);
            want += 1;
            if want == keys.len() {
                break;
            }
        }
    }
    best
}

/// The name an error is about, as the file writes it (`new_bat`, or `.batery` for a member),
/// so that the error points at its use rather than at the item's key. These are the words of
/// the compiler's messages ([`super::compile`], [`super::functions`]).
pub fn culprit(message: &str) -> Option<String> {
    let quoted = |prefix: &str| {
        let rest = &message[message.find(prefix)? + prefix.len()..];
        Some(rest[..rest.find('`')?].to_string())
    };
    quoted("unknown name `")
        .or_else(|| quoted("unknown function `"))
        .or_else(|| {
            quoted("has no field or state `")
                .or_else(|| quoted("unknown global state `"))
                .or_else(|| quoted("unknown pair state `"))
                .map(|m| format!(".{m}"))
        })
}

/// Where the item at `path` uses `token`: a name (`new_bat`, not part of a longer name, not a
/// member `.new_bat` and not a key `new_bat:`) or a member (`.batery`). Searched on the
/// item's line and the lines indented under it (a multi-line expression).
pub fn locate_use(text: &str, path: &[String], token: &str) -> Option<(usize, usize)> {
    let (line, column) = locate(text, path)?;
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let member = token.starts_with('.');
    for (n, body) in text.lines().enumerate().skip(line - 1) {
        let indent = body.len() - body.trim_start().len();
        if n + 1 > line && !body.trim().is_empty() && indent < column {
            break;
        }
        // On the item's own line, past its key.
        let from = if n + 1 == line {
            body.find(':').map_or(0, |c| c + 1)
        } else {
            0
        };
        for (at, _) in body[from..].match_indices(token) {
            let at = from + at;
            let before = body[..at].chars().next_back();
            let after = body[at + token.len()..].chars().next();
            let bounded = !after.is_some_and(ident)
                && (member || !before.is_some_and(|c| ident(c) || c == '.'))
                && after != Some(':');
            if bounded {
                return Some((n + 1, body[..at].chars().count() + 1 + usize::from(member)));
            }
        }
    }
    None
}

/// The line (from 1) of item `k` (from 0) of the YAML list at `path`, or the list's own line
/// when the item is not found (a flow list `[a, b]` on one line).
pub fn locate_item(text: &str, path: &[String], k: usize) -> Option<usize> {
    let (line, col) = locate(text, path)?;
    let mut item_indent = None;
    let mut seen = 0;
    for (n, l) in text.lines().enumerate().skip(line) {
        let trimmed = l.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = l.len() - trimmed.len();
        if indent + 1 < col || (indent + 1 == col && !trimmed.starts_with("- ")) {
            break;
        }
        if trimmed.starts_with("- ") && item_indent.is_none_or(|i| i == indent) {
            item_indent = Some(indent);
            if seen == k {
                return Some(n + 1);
            }
            seen += 1;
        }
    }
    Some(line)
}

fn key_of(body: &str) -> Option<&str> {
    let colon = body.find(':')?;
    let key = body[..colon].trim();
    Some(key.trim_matches(|c| c == '"' || c == '\''))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_falls_back_to_the_deepest_ancestor() {
        let text = "world: x\nevents:\n  deposit:\n    weight: 1\n    payload:\n      amount: ${y}\n  other:\n    weight: 2\n";
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            locate(text, &p("events.deposit.payload.amount")),
            Some((6, 7))
        );
        assert_eq!(locate(text, &p("events.other.weight")), Some((8, 5)));
        assert_eq!(locate(text, &p("events.deposit.nope")), Some((3, 3)));
        assert_eq!(locate(text, &p("state")), None);
    }

    #[test]
    fn a_use_is_found_at_the_name_not_at_a_key_a_member_or_a_longer_name() {
        let text = "events:\n  e:\n    let:\n      amt: amt_x + a.amt\n        + amt\n    payload: {amt: '${b.amt}'}\n  f:\n    weight: amt\n";
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        // Past the key `amt:`, past `amt_x` and `a.amt`: on the continuation line.
        assert_eq!(
            locate_use(text, &p("events.e.let.amt"), "amt"),
            Some((5, 11))
        );
        // A member, at its name after the dot; not past the item (`f` is another event).
        assert_eq!(
            locate_use(text, &p("events.e.let.amt"), ".amt"),
            Some((4, 22))
        );
        assert_eq!(
            locate_use(text, &p("events.e.payload.amt"), ".amt"),
            Some((6, 25))
        );
        assert_eq!(locate_use(text, &p("events.e.payload.amt"), "amt"), None);
        assert_eq!(
            culprit("in `x`: unknown name `amout`; known here: a"),
            Some("amout".into())
        );
        assert_eq!(
            culprit("`a` has no field or state `idd`; it has: id"),
            Some(".idd".into())
        );
        assert_eq!(culprit("weight is 2; it must be 1"), None);
    }

    #[test]
    fn finds_the_kth_item_of_a_list() {
        let text = "events:\n  a:\n    effects:\n      - add:\n          x: 1\n      - set: {y: 2}\n    payload: {}\n";
        let p = |s: &str| s.split('.').map(String::from).collect::<Vec<_>>();
        assert_eq!(locate_item(text, &p("events.a.effects"), 0), Some(4));
        assert_eq!(locate_item(text, &p("events.a.effects"), 1), Some(6));
        assert_eq!(locate_item(text, &p("events.a.effects"), 2), Some(3));
    }
}
