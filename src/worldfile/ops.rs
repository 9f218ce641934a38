//! The operators on values: arithmetic, comparison and text joined with `+`, as both forms of
//! an expression ([`super::expr`]'s tree walk and [`super::compiled`]'s closures) run them.

use super::parse::BinOp;
use super::tables::Master;
use super::value::{make_text, Value};

/// Arithmetic and comparison; text joins with `+`. An entity is its id wherever it meets
/// text: `c.id == r.home_city` and `r.home_city == 'CITY-001'` compare ids (issue 28), so
/// `master` is where an entity's id is read. Inlined, so that an operator compiled on its own
/// ([`super::compiled`]) keeps only its own arm.
#[inline(always)]
pub fn binary(op: BinOp, a: &Value, b: &Value, master: &Master) -> Value {
    use Value::*;
    match op {
        BinOp::Eq => return Value::bool(equal(a, b, master)),
        BinOp::Ne => return Value::bool(!equal(a, b, master)),
        _ => {}
    }
    match (op, a, b) {
        (BinOp::Add | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, Str(x), Str(y)) => {
            return on_text(op, x, y)
        }
        (
            BinOp::Add | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
            Str(_) | Ent(_),
            Str(_) | Ent(_),
        ) => {
            return match (text_of(master, a), text_of(master, b)) {
                (Some(x), Some(y)) => on_text(op, x, y),
                _ => Null,
            }
        }
        (_, Int(x), Int(y)) => {
            let (x, y) = (*x, *y);
            return match op {
                BinOp::Add => x.checked_add(y).map_or(Null, Int),
                BinOp::Sub => x.checked_sub(y).map_or(Null, Int),
                BinOp::Mul => x.checked_mul(y).map_or(Null, Int),
                BinOp::Div if y != 0 => Value::float(x as f64 / y as f64),
                // The least integer's remainder by -1 overflows (and panics, even in a release
                // build): null, as every other overflow is.
                BinOp::Rem => x.checked_rem_euclid(y).map_or(Null, Int),
                BinOp::Lt => Value::bool(x < y),
                BinOp::Le => Value::bool(x <= y),
                BinOp::Gt => Value::bool(x > y),
                BinOp::Ge => Value::bool(x >= y),
                _ => Null,
            };
        }
        _ => {}
    }
    let (Some(x), Some(y)) = (a.as_f64(), b.as_f64()) else {
        return Null;
    };
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Rem => x.rem_euclid(y),
        BinOp::Lt => return Value::bool(x < y),
        BinOp::Le => return Value::bool(x <= y),
        BinOp::Gt => return Value::bool(x > y),
        BinOp::Ge => return Value::bool(x >= y),
        _ => return Null,
    };
    if r.is_finite() {
        Value::float(r)
    } else {
        Null
    }
}

/// `+` (joining) or an order between two texts.
fn on_text(op: BinOp, x: &str, y: &str) -> Value {
    if op == BinOp::Add {
        return Value::Str(make_text(|out| {
            out.push_str(x);
            out.push_str(y);
        }));
    }
    let o = x.cmp(y);
    Value::bool(match op {
        BinOp::Lt => o.is_lt(),
        BinOp::Le => o.is_le(),
        BinOp::Gt => o.is_gt(),
        _ => o.is_ge(),
    })
}

/// The text a value stands for: text itself, or an entity's id.
pub fn text_of<'v>(master: &'v Master, v: &'v Value) -> Option<&'v str> {
    match v {
        Value::Str(s) => Some(s.as_str()),
        Value::Ent(e) => master.kinds.get(e.kind() as usize)?.id(e.index()),
        _ => None,
    }
}

/// `==` as the language means it: numbers by value (`2 == 2.0`), an entity and text by the
/// entity's id, anything else as the same value.
fn equal(a: &Value, b: &Value, master: &Master) -> bool {
    match (a, b) {
        (Value::Ent(_), Value::Str(_)) | (Value::Str(_), Value::Ent(_)) => {
            text_of(master, a).is_some_and(|x| text_of(master, b) == Some(x))
        }
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{compile, eval};
    use super::super::value::Value;

    /// `%` of the least integer by -1 panicked at load, where constants are folded, and `-` of
    /// it wrapped to itself (issue 30, found reading for the fuzz targets). An integer
    /// operation that overflows gives null.
    #[test]
    fn integer_overflow_gives_null_and_never_panics() {
        let least = "(-9223372036854775807 - 1)";
        assert_eq!(eval(&format!("{least} % -1")), Value::Null);
        assert_eq!(eval(&format!("{least} % 0")), Value::Null);
        assert_eq!(eval(&format!("{least} - 1")), Value::Null);
        assert_eq!(eval(&format!("-{least}")), Value::Null);
        assert_eq!(eval("-7 % 3"), Value::Int(2));
        assert_eq!(eval("-(-7)"), Value::Int(7));
        // Folded at load, where the panic was.
        assert!(compile(&format!("{least} % -1")).is_ok());
    }
}
