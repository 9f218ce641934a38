//! `local_hour(t, tz)` and `local_weekday(t, tz)`: a time in ms read on the clock of an IANA
//! time zone. A constant zone is resolved once at load; an unknown one is a load error.

use chrono::{Datelike, Timelike};
use chrono_tz::Tz;

use super::expr::{Arg, Ctx, Func};
use super::value::{Base, Ty, Value};
use crate::SimRng;

/// Builds `local_hour` or `local_weekday`; `zone` is the zone's name when it is constant.
pub(super) fn compile(name: &str, zone: Option<&str>, tz_ty: &Ty) -> Result<(Func, Ty), String> {
    if !matches!(tz_ty.base, Base::Str | Base::Any) {
        return Err(format!(
            "{name}: the time zone must be text such as 'America/New_York'"
        ));
    }
    let tz = match zone {
        Some(z) => Some(z.parse::<Tz>().map_err(|_| {
            format!("{name}: unknown time zone `{z}`; give an IANA name such as 'America/New_York' or 'UTC'")
        })?),
        None => None,
    };
    let hour = name == "local_hour";
    let (lo, hi) = if hour { (0.0, 23.0) } else { (1.0, 7.0) };
    let ty = Ty {
        // A zone known only at run time may turn out unknown: null then.
        nullable: tz.is_none(),
        ..Ty::range(Base::Int, Some(lo), Some(hi))
    };
    Ok((Func::LocalTime(hour, tz), ty))
}

impl Ctx<'_> {
    /// The hour (0..23) or the weekday (1 = Monday .. 7) of a time in a zone.
    pub(super) fn call_zone<A: Arg>(
        &self,
        hour: bool,
        tz: Option<Tz>,
        args: &[A],
        rng: &mut SimRng,
    ) -> Value {
        let Some(ms) = args.first().and_then(|a| a.value(self, rng).as_f64()) else {
            return Value::Null;
        };
        let tz = match tz {
            Some(tz) => tz,
            None => match args.get(1).map(|a| a.value(self, rng)) {
                Some(Value::Str(s)) => match s.parse::<Tz>() {
                    Ok(tz) => tz,
                    Err(_) => return Value::Null,
                },
                _ => return Value::Null,
            },
        };
        let Some(t) = chrono::DateTime::from_timestamp_millis(ms as i64) else {
            return Value::Null;
        };
        let t = t.with_timezone(&tz);
        Value::Int(if hour {
            t.hour() as i64
        } else {
            t.weekday().number_from_monday() as i64
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::Expr;
    use super::super::test_support::{compile, compiled, eval_at};
    use super::*;

    /// 2025-01-06T14:30:00Z, a Monday; and 2025-07-07T02:00:00Z, a Monday in summer.
    const WINTER: i64 = 1_736_173_800_000;
    const SUMMER: i64 = 1_751_853_600_000;

    #[test]
    fn hours_and_weekdays_follow_the_zone_and_its_daylight_saving() {
        assert_eq!(eval_at("local_hour(now, 'UTC')", WINTER), Value::Int(14));
        assert_eq!(
            eval_at("local_hour(now, 'America/New_York')", WINTER),
            Value::Int(9)
        );
        assert_eq!(
            eval_at("local_hour(now, 'Asia/Kolkata')", WINTER),
            Value::Int(20)
        );
        // New York is UTC-4 in July: 02:00Z is 22:00 on Sunday.
        assert_eq!(
            eval_at("local_hour(now, 'America/New_York')", SUMMER),
            Value::Int(22)
        );
        assert_eq!(
            eval_at("local_weekday(now, 'America/New_York')", SUMMER),
            Value::Int(7)
        );
        assert_eq!(
            eval_at("local_weekday(now, 'Europe/Berlin')", SUMMER),
            Value::Int(1)
        );
        // A zone known only at run time is resolved then; an unknown one gives null.
        let z = "local_hour(now, chance(1) ? 'Asia/Tokyo' : 'UTC')";
        assert_eq!(eval_at(z, WINTER), Value::Int(23));
        let z = "local_hour(now, chance(1) ? 'Mars/Olympus' : 'UTC')";
        assert_eq!(eval_at(z, WINTER), Value::Null);
        assert_eq!(
            eval_at("local_hour(chance(0) ? 1 : null, 'UTC')", WINTER),
            Value::Null
        );
    }

    #[test]
    fn a_constant_zone_is_resolved_at_load_and_an_unknown_one_is_an_error() {
        let (e, t) = compiled("local_hour(now, 'Europe/Paris')").unwrap();
        assert!(
            matches!(
                e,
                Expr::Call(Func::LocalTime(true, Some(Tz::Europe__Paris)), _)
            ),
            "{e:?}"
        );
        assert_eq!(
            (t.base, t.lo, t.hi, t.nullable),
            (Base::Int, Some(0.0), Some(23.0), false)
        );
        let t = compile("local_weekday(now, 'UTC')").unwrap();
        assert_eq!((t.lo, t.hi), (Some(1.0), Some(7.0)));
        let e = compile("local_hour(now, 'Europe/Pariss')").unwrap_err();
        assert!(e.contains("unknown time zone `Europe/Pariss`"), "{e}");
        let e = compile("local_hour(now, 5)").unwrap_err();
        assert!(e.contains("must be text"), "{e}");
        let e = compile("local_hour('x', 'UTC')").unwrap_err();
        assert!(e.contains("must be a number"), "{e}");
    }
}
