//! Expression text split into tokens for [`super::parse`]: numbers, quoted text, names and
//! operators, each with the byte offset it starts at.

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    Ident(String),
    Op(&'static str),
}

pub(super) fn lex(src: &str) -> Result<Vec<(Tok, usize)>, String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at = i;
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                // an exponent's sign belongs to the number
                if (b[i] == b'e' || b[i] == b'E') && matches!(b.get(i + 1), Some(b'+' | b'-')) {
                    i += 1;
                }
                i += 1;
            }
            let text: String = src[at..i].chars().filter(|&c| c != '_').collect();
            let tok = if text.contains(['.', 'e', 'E']) {
                text.parse::<f64>().map(Tok::Float).ok()
            } else {
                text.parse::<i64>().map(Tok::Int).ok()
            };
            out.push((
                tok.ok_or(format!("at column {}: {text:?} is not a number", at + 1))?,
                at,
            ));
        } else if c == b'\'' || c == b'"' {
            i += 1;
            let mut text = String::new();
            loop {
                match src[i..].chars().next() {
                    None => return Err(format!("at column {}: unclosed text", at + 1)),
                    Some(ch) if ch as u32 == c as u32 => {
                        i += 1;
                        break;
                    }
                    Some('\\') if i + 1 < b.len() => {
                        let next = src[i + 1..].chars().next().unwrap_or('\\');
                        text.push(match next {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                        i += 1 + next.len_utf8();
                    }
                    Some(ch) => {
                        text.push(ch);
                        i += ch.len_utf8();
                    }
                }
            }
            out.push((Tok::Str(text), at));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Ident(src[at..i].to_string()), at));
        } else {
            const OPS: &[&str] = &[
                "==", "!=", "<=", ">=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "(", ")",
                ",", ".", "?", ":", "!",
            ];
            let Some(op) = OPS.iter().find(|op| src[i..].starts_with(**op)) else {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(format!("at column {}: unexpected {ch:?}", at + 1));
            };
            i += op.len();
            out.push((Tok::Op(op), at));
        }
    }
    Ok(out)
}
