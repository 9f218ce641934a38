//! The types of the operators' results, and which operands they refuse: what the compiler
//! ([`super::compile`]) knows of `a < b` or `a * b` from what it knows of `a` and `b`.

use super::parse::BinOp;
use super::value::{Base, Ty};

/// Why two types cannot be compared with `op`, if they cannot: the comparison would be false
/// (or null) for every value, which is a mistake in the file, never what its author meant.
/// An entity compares with text as its id, so `c.id == r.home_city` and `r.home_city ==
/// 'CITY-001'` are allowed (and hold where the ids are equal).
pub(super) fn incomparable(op: BinOp, a: &Ty, b: &Ty, kinds: &[String]) -> Option<String> {
    let text = |t: &Ty| matches!(t.base, Base::Str | Base::Ent(_));
    let name = |k: u16| {
        kinds
            .get(k as usize)
            .map_or("?", String::as_str)
            .to_string()
    };
    match (a.base, b.base) {
        (Base::Any | Base::Null, _) | (_, Base::Any | Base::Null) => None,
        (Base::Ent(x), Base::Ent(y)) if x != y => Some(format!(
            "an entity of `{}` never equals one of `{}`; compare entities of one kind",
            name(x),
            name(y)
        )),
        (Base::Bool, Base::Bool) if !matches!(op, BinOp::Eq | BinOp::Ne) => {
            Some("true and false have no order; use `==` or `!=`".into())
        }
        _ if a.is_number() && b.is_number() => None,
        _ if text(a) && text(b) => None,
        _ if a.base == b.base => None,
        _ => Some(
            "these never compare equal; compare numbers with numbers, text or ids with text \
             or ids, and true/false with true/false"
                .into(),
        ),
    }
}

/// Whether a comparison can never hold, from what is known of both sides' ranges and values.
pub(super) fn impossible(op: BinOp, a: &Ty, b: &Ty) -> bool {
    if let (Some(values), Some([v])) = (&a.one_of, b.one_of.as_deref()) {
        if op == BinOp::Eq && !values.contains(v) {
            return true;
        }
    }
    if !(a.is_number() && b.is_number()) {
        return false;
    }
    let (alo, ahi, blo, bhi) = (a.lo, a.hi, b.lo, b.hi);
    match op {
        BinOp::Gt => matches!((ahi, blo), (Some(h), Some(l)) if h <= l),
        BinOp::Ge => matches!((ahi, blo), (Some(h), Some(l)) if h < l),
        BinOp::Lt => matches!((alo, bhi), (Some(l), Some(h)) if l >= h),
        BinOp::Le => matches!((alo, bhi), (Some(l), Some(h)) if l > h),
        BinOp::Eq => {
            matches!((ahi, blo), (Some(h), Some(l)) if h < l)
                || matches!((alo, bhi), (Some(l), Some(h)) if l > h)
        }
        _ => false,
    }
}

pub(super) fn arith(op: BinOp, a: &Ty, b: &Ty) -> Ty {
    let int = a.base == Base::Int && b.base == Base::Int && !matches!(op, BinOp::Div);
    let base = if int { Base::Int } else { Base::Float };
    let (lo, hi) = match (op, a.lo, a.hi, b.lo, b.hi) {
        (BinOp::Add, al, ah, bl, bh) => (
            al.zip(bl).map(|(x, y)| x + y),
            ah.zip(bh).map(|(x, y)| x + y),
        ),
        (BinOp::Sub, al, ah, bl, bh) => (
            al.zip(bh).map(|(x, y)| x - y),
            ah.zip(bl).map(|(x, y)| x - y),
        ),
        (BinOp::Mul, Some(al), Some(ah), Some(bl), Some(bh)) => {
            let c = [al * bl, al * bh, ah * bl, ah * bh];
            (
                Some(c.iter().cloned().fold(f64::INFINITY, f64::min)),
                Some(c.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
            )
        }
        (BinOp::Div, Some(al), Some(ah), Some(bl), Some(bh)) if bl > 0.0 => {
            let c = [al / bl, al / bh, ah / bl, ah / bh];
            (
                Some(c.iter().cloned().fold(f64::INFINITY, f64::min)),
                Some(c.iter().cloned().fold(f64::NEG_INFINITY, f64::max)),
            )
        }
        (BinOp::Rem, _, _, Some(bl), Some(bh)) if bl > 0.0 && a.lo.is_some_and(|l| l >= 0.0) => {
            (Some(0.0), Some(bh))
        }
        _ => (None, None),
    };
    let finite = |x: Option<f64>| x.filter(|x| x.is_finite());
    Ty::range(base, finite(lo), finite(hi))
}
