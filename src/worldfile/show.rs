//! An expression back to text, as a world file would write it: how a check's violation names
//! the `prev(...)` and `lookup(...)` values it read.

use super::parse::{Ast, UnOp};

/// `ast` as expression text (fully parenthesised where operators nest).
pub fn show(ast: &Ast) -> String {
    match ast {
        Ast::Int(i) => i.to_string(),
        Ast::Float(f) => format!("{f:?}"),
        Ast::Str(s) => format!("'{s}'"),
        Ast::Bool(b) => b.to_string(),
        Ast::Null => "null".into(),
        Ast::Name(n) => n.clone(),
        Ast::Member(base, n) => format!("{}.{n}", show(base)),
        Ast::Call(f, args) => {
            let args: Vec<String> = args.iter().map(show).collect();
            format!("{f}({})", args.join(", "))
        }
        Ast::Unary(UnOp::Neg, x) => format!("-{}", nested(x)),
        Ast::Unary(UnOp::Not, x) => format!("not {}", nested(x)),
        Ast::Binary(op, a, b) => format!("{} {op} {}", nested(a), nested(b)),
        Ast::Cond(c, a, b) => format!("{} ? {} : {}", nested(c), nested(a), nested(b)),
    }
}

fn nested(ast: &Ast) -> String {
    match ast {
        Ast::Binary(..) | Ast::Cond(..) => format!("({})", show(ast)),
        _ => show(ast),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_as_written() {
        for text in [
            "prev(stream_id, stream_seq, 0)",
            "lookup('songs', payload.song_id).duration_ms",
            "first(transaction_id, now) + (installment_number * 86400000)",
            "not (a ? -1 : 2.5)",
        ] {
            let ast = super::super::parse::parse(text).unwrap();
            assert_eq!(show(&ast), text);
        }
    }
}
