//! Templates as text: `CUST-${seq:06}` split into literal parts and `${…}` expressions, each
//! with its optional number format, parsed once at load.

use super::parse::{parse, Ast};

/// A piece of a template: literal text, or `${expr}` with an optional format.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Expr(Ast, Format),
}

/// How `${x:06}` (zero-padded width) or `${x:.2}` (decimal places) formats a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Format {
    pub zero_pad: Option<usize>,
    pub places: Option<usize>,
}

/// Splits a template into parts. A string without `${` is one literal part.
pub fn template(src: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = src;
    let mut offset = 0;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            parts.push(Part::Text(rest[..start].to_string()));
        }
        let body = &rest[start + 2..];
        let end = closing_brace(body)
            .ok_or_else(|| format!("at column {}: `${{` is never closed", offset + start + 1))?;
        let inner = &body[..end];
        let (expr, format) = split_format(inner);
        let ast = parse(expr).map_err(|e| format!("in `${{{inner}}}`: {e}"))?;
        parts.push(Part::Expr(ast, format));
        offset += start + 2 + end + 1;
        rest = &body[end + 1..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(parts)
}

/// The `}` closing a `${`, skipping braces and quotes inside it.
fn closing_brace(body: &str) -> Option<usize> {
    let mut depth = 0;
    let mut quote = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '{') => depth += 1,
            (None, '}') if depth == 0 => return Some(i),
            (None, '}') => depth -= 1,
            _ => {}
        }
    }
    None
}

fn split_format(inner: &str) -> (&str, Format) {
    if let Some(colon) = inner.rfind(':') {
        let spec = &inner[colon + 1..];
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if let Some(p) = spec.strip_prefix('.').filter(|p| digits(p)) {
            let places = p.parse().ok();
            return (
                &inner[..colon],
                Format {
                    places,
                    ..Format::default()
                },
            );
        }
        if spec.starts_with('0') && digits(spec) {
            let zero_pad = spec.parse().ok();
            return (
                &inner[..colon],
                Format {
                    zero_pad,
                    ..Format::default()
                },
            );
        }
    }
    (inner, Format::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_text_from_expressions() {
        let parts = template("CUST-${seq:06}").unwrap();
        assert_eq!(parts[0], Part::Text("CUST-".into()));
        assert!(
            matches!(&parts[1], Part::Expr(Ast::Name(n), f) if n == "seq" && f.zero_pad == Some(6))
        );
        assert_eq!(template("plain").unwrap(), vec![Part::Text("plain".into())]);
        let p = template("${x ? 'a}' : 'b'}").unwrap();
        assert_eq!(p.len(), 1);
        assert!(template("${oops").unwrap_err().contains("never closed"));
        let p = template("${price:.2}").unwrap();
        assert!(matches!(&p[0], Part::Expr(_, f) if f.places == Some(2)));
    }
}
