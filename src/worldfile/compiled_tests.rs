//! Compiled expressions and conditions against the tree walk they replace: the same values
//! and truths from the same draws, over every leaf read in place and every operator.

use rand::SeedableRng;

use super::compiled::{Compiled, Condition};
use super::expr::{Ctx, Expr, Func, KindData, Master, State};
use super::parse::BinOp;
use super::rows::Rows;
use super::value::{Text, Value};
use super::window::Windows;
use crate::SimRng;

fn local(slot: u16) -> Box<Expr> {
    Box::new(Expr::Local(slot))
}

/// One kind of 3 entities with a text and a number field, a state variable and a window;
/// locals: an entity, a number, text, and a value that is not an entity.
fn world() -> (Master, State, Vec<Value>) {
    let mut kind = KindData {
        ids: ["a", "b", "c"].into_iter().map(Text::from).collect(),
        fields: vec![
            vec![Value::str("x"), Value::str("y"), Value::Null],
            vec![Value::Int(5), Value::float(2.5), Value::Int(-1)],
        ],
        ..KindData::default()
    };
    kind.pack();
    let master = Master { kinds: vec![kind] };
    let mut windows = Windows::new(3, vec![1000]);
    windows.push(1, 0, 10);
    let state = State {
        ent: vec![Rows::from_columns(&[vec![
            Value::Int(1),
            Value::float(0.5),
            Value::bool(true),
        ]])],
        windows: vec![windows],
        global: vec![Value::Int(7)],
        pairs: vec![],
    };
    let locals = vec![
        Value::ent(0, 1),
        Value::Int(3),
        Value::str("y"),
        Value::float(1.5),
    ];
    (master, state, locals)
}

/// Expressions over every leaf the compiler reads in place, with operands that are and
/// are not stored, of the right kind and not, and draws whose order must be kept.
fn cases() -> Vec<Expr> {
    let field = |slot, f| Expr::Field(local(slot), 0, f);
    let state = |slot, v| Expr::State(local(slot), 0, v);
    let bin = |op, a: Expr, b: Expr| Expr::Bin(op, Box::new(a), Box::new(b));
    let draw = || {
        Expr::Call(
            Func::Uniform,
            vec![Expr::Lit(Value::Int(0)), Expr::Lit(Value::Int(10))],
        )
    };
    let mut out = vec![
        field(0, 0),
        field(0, 1),
        field(1, 0), // a number is no entity: null
        field(9, 0), // no such local: null
        state(0, 0),
        state(2, 0),
        Expr::Window(local(0), 0, 0, 1000),
        Expr::Window(local(3), 0, 0, 1000),
        Expr::Global(0),
        Expr::Now,
        Expr::Not(Box::new(bin(
            BinOp::Lt,
            state(0, 0),
            Expr::Lit(Value::Int(2)),
        ))),
        Expr::Neg(Box::new(field(0, 1))),
        Expr::Cond(
            Box::new(bin(BinOp::Eq, field(0, 0), Expr::Local(2))),
            Box::new(draw()),
            Box::new(Expr::Lit(Value::str("no"))),
        ),
        bin(
            BinOp::And,
            bin(BinOp::Gt, draw(), Expr::Lit(Value::Int(5))),
            bin(BinOp::Lt, draw(), Expr::Lit(Value::Int(5))),
        ),
        bin(
            BinOp::Or,
            bin(BinOp::Gt, draw(), Expr::Lit(Value::Int(5))),
            bin(BinOp::Lt, draw(), Expr::Lit(Value::Int(5))),
        ),
        Expr::Call(Func::Round, vec![bin(BinOp::Mul, draw(), field(0, 1))]),
        Expr::Call(Func::Clamp, vec![draw(), Expr::Local(3), state(0, 0)]),
        Expr::Call(
            Func::Concat,
            vec![field(0, 0), Expr::Local(2), Expr::Id(local(0))],
        ),
    ];
    // Each function compiled to a closure of its own, with constant arguments (held as
    // values), stored ones, drawn ones, and some of the wrong kind.
    let lit = |v: Value| Expr::Lit(v);
    let int = |i| lit(Value::Int(i));
    for (f, args) in [
        (Func::Randint, vec![int(1), int(6)]),
        (Func::Randint, vec![int(6), int(1)]),
        (Func::Randint, vec![Expr::Local(1), draw()]),
        (Func::Chance, vec![lit(Value::float(0.3))]),
        (Func::Chance, vec![Expr::Local(2)]),
        (
            Func::Choice,
            vec![lit(Value::str("a")), int(2), lit(Value::Null), draw()],
        ),
        (Func::Uniform, vec![int(2), int(2)]),
        (Func::Uniform, vec![field(0, 1), Expr::Local(1)]),
        (Func::Min, vec![draw(), int(5), field(0, 1)]),
        (Func::Max, vec![draw(), Expr::Local(2)]),
        (Func::RoundTo, vec![draw(), int(2)]),
        (Func::Floor, vec![draw()]),
        (Func::Ceil, vec![Expr::Neg(Box::new(draw()))]),
        (Func::Abs, vec![Expr::Neg(Box::new(draw()))]),
        (Func::Abs, vec![Expr::Neg(local(1))]),
        (Func::Int, vec![draw()]),
        (Func::Float, vec![Expr::Local(1)]),
        (Func::Clamp, vec![draw(), int(7), int(3)]),
    ] {
        out.push(Expr::Call(f, args));
    }
    // Conditions of conditions, and of values that are no condition (null, numbers).
    let tests = [
        Expr::Lit(Value::bool(true)),
        Expr::Lit(Value::Int(1)),
        Expr::Lit(Value::Null),
        state(0, 0),
        state(9, 0),
        bin(BinOp::Lt, draw(), Expr::Lit(Value::Int(5))),
        bin(BinOp::Lt, field(0, 0), Expr::Lit(Value::Int(5))),
        bin(BinOp::Add, draw(), Expr::Lit(Value::Int(5))),
    ];
    for a in &tests {
        out.push(Expr::Not(Box::new(a.clone())));
        for b in &tests {
            out.push(bin(BinOp::And, a.clone(), b.clone()));
            out.push(bin(BinOp::Or, a.clone(), b.clone()));
            out.push(Expr::Cond(
                Box::new(a.clone()),
                Box::new(b.clone()),
                Box::new(Expr::Not(Box::new(b.clone()))),
            ));
        }
    }
    for op in [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::Rem,
        BinOp::Eq,
        BinOp::Ne,
        BinOp::Lt,
        BinOp::Le,
        BinOp::Gt,
        BinOp::Ge,
    ] {
        let operands = [
            Expr::Lit(Value::Int(2)),
            Expr::Lit(Value::str("y")),
            Expr::Local(1),
            Expr::Local(3),
            field(0, 0),
            field(0, 1),
            field(1, 1),
            state(0, 0),
            Expr::Global(0),
            draw(),
        ];
        for a in &operands {
            for b in &operands {
                out.push(bin(op, a.clone(), b.clone()));
            }
        }
    }
    out
}

#[test]
fn compiled_expressions_and_conditions_give_what_the_tree_walk_gives_with_the_same_draws() {
    let (master, state, locals) = world();
    let ctx = Ctx::plain(&master, &state, &locals, 500);
    let cases = cases();
    for (n, e) in cases.iter().enumerate() {
        let (code, cond) = (Compiled::new(e), Condition::new(e));
        let mut walk_rng = SimRng::seed_from_u64(n as u64);
        let mut code_rng = SimRng::seed_from_u64(n as u64);
        let mut cond_rng = SimRng::seed_from_u64(n as u64);
        for _ in 0..20 {
            let walked = ctx.eval(e, &mut walk_rng);
            assert_eq!(code.eval(&ctx, &mut code_rng), walked, "{e:?}");
            assert_eq!(cond.holds(&ctx, &mut cond_rng), walked.truthy(), "{e:?}");
        }
    }
    // The cases reach values of every kind, so equal results are not all nulls.
    let (mut nulls, mut others) = (0, 0);
    let mut rng = SimRng::seed_from_u64(1);
    for e in &cases {
        match ctx.eval(e, &mut rng) {
            Value::Null => nulls += 1,
            _ => others += 1,
        }
    }
    assert!(
        nulls > 20 && others > cases.len() / 2,
        "{nulls} nulls, {others} others"
    );
}

#[test]
fn text_joins_with_plus_in_both_forms() {
    // `eval` compares the tree walk with the compiled expression as well.
    let joined = super::test_support::eval("'ab' + 'c\"d' + ''");
    assert_eq!(joined, Value::str("abc\"d"));
}

#[test]
fn an_entity_and_its_id_as_text_compare_equal_in_both_forms() {
    // Issue 28: `c.id == r.home_city` and `r.home_city == 'CITY-001'` were false even where
    // both wrote the same id, so a guard of them never held.
    let (master, state, locals) = world();
    let ctx = Ctx::plain(&master, &state, &locals, 0);
    let bin = |op, a: Expr, b: Expr| Expr::Bin(op, Box::new(a), Box::new(b));
    let text = |s: &str| Expr::Lit(Value::str(s));
    let id = || Expr::Id(local(0));
    // Local 0 is entity `b`; local 2 is the text "y".
    let cases = [
        (bin(BinOp::Eq, Expr::Local(0), text("b")), Value::bool(true)),
        (bin(BinOp::Eq, text("b"), Expr::Local(0)), Value::bool(true)),
        (bin(BinOp::Eq, id(), Expr::Local(0)), Value::bool(true)),
        (bin(BinOp::Eq, Expr::Local(0), id()), Value::bool(true)),
        (
            bin(BinOp::Ne, Expr::Local(0), text("b")),
            Value::bool(false),
        ),
        (
            bin(BinOp::Eq, Expr::Local(0), text("c")),
            Value::bool(false),
        ),
        (
            bin(BinOp::Ne, Expr::Local(0), Expr::Local(2)),
            Value::bool(true),
        ),
        (bin(BinOp::Lt, Expr::Local(0), text("c")), Value::bool(true)),
        (
            bin(BinOp::Ge, text("a"), Expr::Local(0)),
            Value::bool(false),
        ),
        (
            bin(BinOp::Add, Expr::Local(0), text("-1")),
            Value::str("b-1"),
        ),
        (
            bin(BinOp::Add, text("x/"), Expr::Local(0)),
            Value::str("x/b"),
        ),
    ];
    for (e, want) in cases {
        let mut rng = SimRng::seed_from_u64(1);
        assert_eq!(ctx.eval(&e, &mut rng), want, "tree walk: {e:?}");
        assert_eq!(
            Compiled::new(&e).eval(&ctx, &mut rng),
            want,
            "compiled: {e:?}"
        );
        assert_eq!(
            Condition::new(&e).holds(&ctx, &mut rng),
            want.truthy(),
            "condition: {e:?}"
        );
    }
}
