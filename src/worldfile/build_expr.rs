//! What every builder does with an expression: compile it at a located path, fold it to a
//! constant, collect the names it reads; and the rules built from small pieces of text
//! (window lengths, pick rules, never-true guards).

use std::collections::BTreeSet;

use super::build::Source;
use super::compile::{known_bool, Place, Scope};
use super::error::WorldError;
use super::expr::Expr;
use super::format::{PickBy, PickDecl, Src, Yaml};
use super::model::PickHow;
use super::parse::{self, Ast, Part};
use super::value::{Base, Ty};

type R<T> = Result<T, WorldError>;

/// Parses and compiles an expression, locating its errors at `path`.
pub fn expr(src: &Source<'_>, scope: &Scope<'_>, s: &Src, path: &[&str]) -> R<(Expr, Ty)> {
    let text = s.text();
    let ast = parse::parse(&text).map_err(|e| src.err(path, format!("in `{text}`: {e}")))?;
    scope
        .compile(&ast)
        .map_err(|e| src.err(path, format!("in `{text}`: {e}")))
}

pub(super) fn static_number(src: &Source<'_>, scope: &Scope<'_>, s: &Src, path: &[&str]) -> R<f64> {
    let (e, _) = expr(src, scope, s, path)?;
    match e {
        Expr::Lit(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| src.err(path, format!("`{}` is {v}, not a number", s.text()))),
        _ => Err(src.err(
            path,
            format!(
                "`{}` must be a constant (numbers and parameters only)",
                s.text()
            ),
        )),
    }
}

/// `30s`, `15m`, `12h`, `7d` in ms.
pub fn window_ms(s: &str) -> Option<i64> {
    // The run's own duration syntax (a bare number is minutes, as for --duration).
    let d: crate::schedule::HumanDuration = s.parse().ok()?;
    i64::try_from(d.0.as_millis()).ok().filter(|ms| *ms > 0)
}

/// Names an expression reads that are not members, calls or literals.
pub fn free_names(ast: &Ast, out: &mut BTreeSet<String>) {
    match ast {
        Ast::Name(n) => {
            out.insert(n.clone());
        }
        Ast::Member(base, _) if matches!(&**base, Ast::Name(n) if n == "global") => {}
        Ast::Member(base, _) => free_names(base, out),
        Ast::Call(_, args) => args.iter().for_each(|a| free_names(a, out)),
        Ast::Unary(_, x) => free_names(x, out),
        Ast::Binary(_, a, b) => {
            free_names(a, out);
            free_names(b, out);
        }
        Ast::Cond(c, a, b) => {
            free_names(c, out);
            free_names(a, out);
            free_names(b, out);
        }
        _ => {}
    }
}

/// Free names of every `${…}` in a YAML template.
pub fn template_names(y: &Yaml, out: &mut BTreeSet<String>) {
    match y {
        Yaml::String(s) => {
            if let Ok(parts) = parse::template(s) {
                for p in parts {
                    if let Part::Expr(ast, _) = p {
                        free_names(&ast, out);
                    }
                }
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|i| template_names(i, out)),
        Yaml::Mapping(m) => m.values().for_each(|v| template_names(v, out)),
        _ => {}
    }
}

/// Builds a pick's choice rule.
pub fn pick_how(
    src: &Source<'_>,
    scope: &Scope<'_>,
    kind: u16,
    decl: &PickDecl,
    path: &[&str],
) -> R<PickHow> {
    let infos = scope.kinds;
    let PickDecl::Long(long) = decl else {
        return Ok(PickHow::Uniform);
    };
    Ok(match long.by {
        PickBy::Uniform => PickHow::Uniform,
        PickBy::Zipf => {
            // The exponent may name parameters (`s: skew`), never the event's own values.
            let fixed = Scope {
                locals: vec![],
                place: Place::Static,
                ..*scope
            };
            let s = match &long.s {
                Some(s) => static_number(src, &fixed, s, path)?,
                None => 1.0,
            };
            if !(s > 0.0 && s.is_finite()) {
                return Err(src.err(path, format!("zipf exponent s = {s}; it must be > 0")));
            }
            PickHow::Zipf(s)
        }
        PickBy::Weighted => {
            let Some(field) = &long.field else {
                return Err(src.err(
                    path,
                    "by: weighted needs `field`, a numeric field of the entity",
                ));
            };
            let info = &infos[kind as usize];
            let Some(f) = info.fields.iter().position(|(n, _)| n == field) else {
                return Err(src.err(path, format!("`{}` has no field `{field}`", info.name)));
            };
            let ty = &info.fields[f].1;
            if !ty.is_number() {
                return Err(src.err(
                    path,
                    format!("field `{field}` is {}, not a number", ty.describe(&[])),
                ));
            }
            if ty.lo.is_some_and(|l| l < 0.0) {
                return Err(src.err(
                    path,
                    format!("field `{field}` can be negative; weights must be >= 0"),
                ));
            }
            PickHow::Weighted(f as u16)
        }
    })
}

/// Whether a guard's type says it can never hold.
pub fn never_true(t: &Ty) -> bool {
    t.base == Base::Bool && known_bool(t) == Some(false)
}
