//! Evaluation of a parsed expression against a [`Resolver`].
//!
//! The engine does not know where values come from: the renderer supplies staged property values,
//! jobs, other products and the `$director`/`$ops_manager` contexts through a `Resolver`. This
//! keeps the expression language testable on its own and lets lint, preview and rendering share it.

use serde_json::Value;

use super::ast::{Expr, Literal, Reference};
use crate::{Error, Result};

/// Supplies the value of a reference.
///
/// * `Ok(Some(v))` — the value (`Value::Null` for a property that exists but is unset);
/// * `Ok(None)` — the reference names nothing known; evaluation turns this into an
///   [`Error::Expr`] naming the expression and where it sits;
/// * `Err(e)` — resolving failed (for example a named manifest that does not render); passed on.
pub trait Resolver {
    fn resolve(&self, reference: &Reference) -> Result<Option<Value>>;
}

impl<F> Resolver for F
where
    F: Fn(&Reference) -> Result<Option<Value>>,
{
    fn resolve(&self, reference: &Reference) -> Result<Option<Value>> {
        self(reference)
    }
}

/// Whether a value counts as given, for `||` and as a `? :` condition: everything except null,
/// `false`, the empty string, the empty list and the empty map. (`0` is present, as in Ruby.)
pub fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Number(_) => true,
    }
}

/// Evaluates `expr`. `at` says where the expression sits (a YAML path such as
/// `job_types[2].templates[0].manifest.tls`), for error messages.
///
/// Evaluation is lazy: `a || b` does not resolve `b` when `a` is present, and only the chosen
/// branch of `? :` is resolved, so a default may name something that does not exist here.
pub fn evaluate<R: Resolver + ?Sized>(expr: &Expr, resolver: &R, at: &str) -> Result<Value> {
    eval(expr, resolver).map_err(|failure| match failure {
        Failure::Unknown(r) => Error::Expr {
            expr: expr.to_string(),
            at: at.to_string(),
            message: format!("unknown reference `{r}`"),
        },
        Failure::Error(e) => e,
    })
}

enum Failure {
    Unknown(Reference),
    Error(Error),
}

fn eval<R: Resolver + ?Sized>(expr: &Expr, resolver: &R) -> std::result::Result<Value, Failure> {
    match expr {
        Expr::Literal(l) => Ok(literal(l)),
        Expr::Ref(r) => match resolver.resolve(r) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(Failure::Unknown(r.clone())),
            Err(e) => Err(Failure::Error(e)),
        },
        Expr::List(items) => items
            .iter()
            .map(|i| eval(i, resolver))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Value::Array),
        Expr::Or(items) => {
            let mut last = Value::Null;
            for item in items {
                last = eval(item, resolver)?;
                if is_present(&last) {
                    return Ok(last);
                }
            }
            Ok(last)
        }
        Expr::Ternary {
            cond,
            then,
            otherwise,
        } => {
            if is_present(&eval(cond, resolver)?) {
                eval(then, resolver)
            } else {
                eval(otherwise, resolver)
            }
        }
    }
}

fn literal(l: &Literal) -> Value {
    match l {
        Literal::Str(s) => Value::String(s.clone()),
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::from(*i),
        Literal::Float(x) => serde_json::Number::from_f64(*x)
            .map(Value::Number)
            .unwrap_or(Value::Null),
    }
}

/// Every reference in `expr`, in source order (both branches of a ternary, every `||` operand),
/// so lint can check them without evaluating.
pub fn references(expr: &Expr) -> Vec<Reference> {
    let mut out = Vec::new();
    collect(expr, &mut out);
    out
}

fn collect(expr: &Expr, out: &mut Vec<Reference>) {
    match expr {
        Expr::Literal(_) => {}
        Expr::Ref(r) => out.push(r.clone()),
        Expr::List(items) | Expr::Or(items) => items.iter().for_each(|i| collect(i, out)),
        Expr::Ternary {
            cond,
            then,
            otherwise,
        } => {
            collect(cond, out);
            collect(then, out);
            collect(otherwise, out);
        }
    }
}
