//! The one error type of the `tiles` crate.
//!
//! Operator input that breaks a rule is *not* an `Error`: validation returns structured findings
//! (property reference → messages) as data. `Error` is for things that stop an operation outright:
//! unreadable YAML, an expression that cannot be parsed or resolved, a manifest that cannot be rendered.

/// Everything that can stop a `tiles` operation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The YAML text could not be read. `at` names where (line:column or a YAML path).
    #[error("YAML at {at}: {message}")]
    Yaml { at: String, message: String },
    /// The YAML was readable but does not have the shape the metadata format requires.
    #[error("{path}: {message}")]
    Shape { path: String, message: String },
    /// A `(( ))` expression that does not parse or does not resolve.
    #[error("expression `(( {expr} ))` at {at}: {message}")]
    Expr {
        expr: String,
        at: String,
        message: String,
    },
    /// Rendering a manifest failed for a reason other than an expression.
    #[error("render: {0}")]
    Render(String),
    /// Input handed to the engine that is not acceptable (names the field and the rule).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

pub type Result<T> = std::result::Result<T, Error>;
