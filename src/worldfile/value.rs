//! Values an expression yields, and the types the compiler infers for them: what the
//! generator writes, what `consume` checks and what `kafka-gen schema` prints.

use std::fmt;

/// Shared text. A thin pointer (not `Arc<str>`), so that a [`Value`] is 16 bytes: the
/// evaluator moves values on every node. One allocation holds the count and the bytes
/// (`Arc<String>` took two, and a read followed two pointers).
pub type Text = arcstr::ArcStr;

// The evaluator's speed rests on this (see [`Text`]).
const _: () = assert!(std::mem::size_of::<Value>() == 16);

/// A run-time value. Entities are (kind, index) into the master data; text is shared.
///
/// Every payload is one 8-byte word after the tag (a boolean as [`Truth`], a number's bits as
/// [`F64`], an entity as [`EntRef`]), so that a value is a pair of registers: compiled
/// expressions return one in two registers, where a value with a float or a byte beside the
/// tag went through memory and was read back with loads that straddled the stores that made
/// it (perf showed them as the largest cost of making an event).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(Truth),
    Int(i64),
    Float(F64),
    Str(Text),
    Ent(EntRef),
}

/// A boolean as a [`Value`] holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Truth {
    False = 0,
    True = 1,
}

impl Truth {
    pub fn get(self) -> bool {
        self == Truth::True
    }
}

impl From<bool> for Truth {
    fn from(b: bool) -> Self {
        if b {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// A number as a [`Value`] holds it: its bits. Equal as numbers are (`0.0 == -0.0`).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct F64(u64);

impl F64 {
    pub fn new(x: f64) -> Self {
        F64(x.to_bits())
    }

    pub fn get(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl PartialEq for F64 {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl fmt::Debug for F64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

/// An entity as a [`Value`] holds it: its kind and its index in the master data.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct EntRef(u64);

impl EntRef {
    pub fn new(kind: u16, index: u32) -> Self {
        EntRef(u64::from(kind) << 32 | u64::from(index))
    }

    pub fn kind(self) -> u16 {
        (self.0 >> 32) as u16
    }

    pub fn index(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Debug for EntRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.kind(), self.index())
    }
}

/// Text that `build` writes, made in a reused buffer so that the one allocation is the shared
/// text itself. A build that makes text inside another (`format()` of a `concat()`) writes
/// the inner one into a buffer of its own.
pub fn make_text(build: impl FnOnce(&mut String)) -> Text {
    thread_local! {
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut out) => {
            out.clear();
            build(&mut out);
            Text::from(out.as_str())
        }
        Err(_) => {
            let mut out = String::new();
            build(&mut out);
            Text::from(out)
        }
    })
}

/// A UUID's hyphenated text, in one allocation.
pub fn uuid_text(id: uuid::Uuid) -> Text {
    Text::from(&*id.hyphenated().encode_lower(&mut [0; 36]))
}

impl Value {
    pub fn bool(b: bool) -> Self {
        Value::Bool(b.into())
    }

    pub fn float(x: f64) -> Self {
        Value::Float(F64::new(x))
    }

    pub fn ent(kind: u16, index: u32) -> Self {
        Value::Ent(EntRef::new(kind, index))
    }

    /// The entity this value is: (kind, index).
    pub fn as_ent(&self) -> Option<(u16, u32)> {
        match self {
            Value::Ent(e) => Some((e.kind(), e.index())),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(f.get()),
            _ => None,
        }
    }

    pub fn truthy(&self) -> bool {
        matches!(self, Value::Bool(Truth::True))
    }

    pub fn str(s: &str) -> Self {
        Value::Str(Text::from(s))
    }

    /// The value as JSON, for master-data files and messages (an entity as its index).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => b.get().into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => {
                serde_json::Number::from_f64(f.get()).map_or(serde_json::Value::Null, Into::into)
            }
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            Value::Ent(e) => e.index().into(),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{}", b.get()),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{}", x.get()),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Ent(e) => write!(f, "entity {}/{}", e.kind(), e.index()),
        }
    }
}

/// The shape of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    Null,
    Bool,
    Int,
    /// Any number (an integer is a number too).
    Float,
    Str,
    /// An entity of a kind; written as its id.
    Ent(u16),
    /// Unknown until run time (a `cond` with arms of different types).
    Any,
}

/// A value's type, with what is known of its range and value set.
#[derive(Debug, Clone, PartialEq)]
pub struct Ty {
    pub base: Base,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    /// Every value it can take, when that is a short known list.
    pub one_of: Option<Vec<Value>>,
    /// A JSON Schema `format` of text: `date`, `date-time`, `uuid`, `email`.
    pub format: Option<&'static str>,
    /// May be null as well (an optional field).
    pub nullable: bool,
}

impl Ty {
    pub fn of(base: Base) -> Self {
        Ty {
            base,
            lo: None,
            hi: None,
            one_of: None,
            format: None,
            nullable: false,
        }
    }

    pub fn range(base: Base, lo: Option<f64>, hi: Option<f64>) -> Self {
        Ty {
            lo,
            hi,
            ..Ty::of(base)
        }
    }

    pub fn format(base: Base, format: &'static str) -> Self {
        Ty {
            format: Some(format),
            ..Ty::of(base)
        }
    }

    /// The type of a known value.
    pub fn exact(v: &Value) -> Self {
        match v {
            Value::Null => Ty::of(Base::Null),
            Value::Bool(_) => Ty::of(Base::Bool),
            Value::Int(i) => Ty::range(Base::Int, Some(*i as f64), Some(*i as f64)),
            Value::Float(f) => Ty::range(Base::Float, Some(f.get()), Some(f.get())),
            Value::Str(_) => Ty {
                one_of: Some(vec![v.clone()]),
                ..Ty::of(Base::Str)
            },
            Value::Ent(e) => Ty::of(Base::Ent(e.kind())),
        }
    }

    pub fn is_number(&self) -> bool {
        matches!(self.base, Base::Int | Base::Float)
    }

    /// The type of a value that is either `self` or `other`.
    pub fn union(&self, other: &Ty) -> Ty {
        let base = match (self.base, other.base) {
            (a, b) if a == b => a,
            (Base::Int, Base::Float) | (Base::Float, Base::Int) => Base::Float,
            (Base::Null, b) => {
                return Ty {
                    nullable: true,
                    base: b,
                    ..other.clone()
                }
            }
            (a, Base::Null) => {
                return Ty {
                    nullable: true,
                    base: a,
                    ..self.clone()
                }
            }
            _ => Base::Any,
        };
        let lo = self.lo.zip(other.lo).map(|(a, b)| a.min(b));
        let hi = self.hi.zip(other.hi).map(|(a, b)| a.max(b));
        let one_of = match (&self.one_of, &other.one_of) {
            (Some(a), Some(b)) => {
                let mut all = a.clone();
                for v in b {
                    if !all.contains(v) {
                        all.push(v.clone());
                    }
                }
                Some(all)
            }
            _ => None,
        };
        let format = if self.format == other.format {
            self.format
        } else {
            None
        };
        Ty {
            base,
            lo,
            hi,
            one_of,
            format,
            nullable: self.nullable || other.nullable,
        }
    }

    /// A short name for messages: `integer in 0..40`, `one of "a", "b"`.
    pub fn describe(&self, kinds: &[String]) -> String {
        let mut s = match self.base {
            Base::Null => "null".to_string(),
            Base::Bool => "a boolean".into(),
            Base::Int => "an integer".into(),
            Base::Float => "a number".into(),
            Base::Str => "text".into(),
            Base::Ent(k) => format!(
                "an id of {}",
                kinds.get(k as usize).map_or("an entity", |s| s.as_str())
            ),
            Base::Any => "any value".into(),
        };
        if let Some(values) = &self.one_of {
            let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            s = format!("one of {}", list.join(", "));
        } else {
            match (self.lo, self.hi) {
                (Some(lo), Some(hi)) => s.push_str(&format!(" in {lo}..{hi}")),
                (Some(lo), None) => s.push_str(&format!(" >= {lo}")),
                (None, Some(hi)) => s.push_str(&format!(" <= {hi}")),
                _ => {}
            }
        }
        if let Some(f) = self.format {
            s.push_str(&format!(" ({f})"));
        }
        s
    }
}
