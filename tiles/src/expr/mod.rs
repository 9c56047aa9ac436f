//! The Ops Manager manifest expression language, `(( ))` (tile-metadata §7).
//!
//! * [`parse`] reads one expression (the text between the parens) into an [`Expr`] whose
//!   references are already classified ([`Reference`]).
//! * [`evaluate`] computes its value through a [`Resolver`] that the caller supplies.
//! * [`Template`] splits a string into text, expressions and BOSH `((variables))`;
//!   [`substitute`] applies that to every node of a YAML tree.
//! * [`references`] / [`Template::references`] list what an expression reads, for lint.

mod ast;
mod eval;
mod lexer;
mod parser;
mod substitute;

pub use ast::{
    accessor_names, Accessor, Context, Expr, JobField, Literal, Owner, ProductField, PropertyRef,
    Reference,
};
pub use eval::{evaluate, is_present, references, Resolver};
pub use substitute::{
    child_path, expressions_in, index_path, is_expression_content, substitute, to_text, Piece,
    Template,
};

use crate::{Error, Result};

/// Parses one expression, e.g. `.properties.x.value || 'default'`. Errors name the column.
pub fn parse(src: &str) -> Result<Expr> {
    parse_at(src, "input")
}

/// Like [`parse`], with `at` naming where the expression sits (used in the error).
pub fn parse_at(src: &str, at: &str) -> Result<Expr> {
    let source = src.trim();
    parser::parse_expr(source).map_err(|e| Error::Expr {
        expr: source.to_string(),
        at: at.to_string(),
        message: format!("{} (column {})", e.message, e.column),
    })
}

#[cfg(test)]
mod tests;
