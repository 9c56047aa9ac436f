//! Recursive-descent parser for one expression, and the classification of references.
//!
//! Grammar (tile-metadata §7.3), lowest precedence first:
//! ```text
//! expr    := or ( '?' expr ':' expr )?
//! or      := primary ( '||' primary )*
//! primary := reference | literal | '[' (expr (',' expr)*)? ']' | '(' expr ')'
//! ```

use super::ast::{
    Accessor, Context, Expr, JobField, Literal, Owner, ProductField, PropertyRef, Reference,
};
use super::lexer::{tokenize, Head, Seg, Spanned, SyntaxError, Tok};

/// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

pub(crate) fn parse_expr(src: &str) -> Result<Expr, SyntaxError> {
    let toks = tokenize(src)?;
    let mut p = Parser { toks, pos: 0 };
    if p.peek() == &Tok::End {
        return Err(SyntaxError {
            message: "empty expression".into(),
            column: 1,
        });
    }
    let e = p.expr(0)?;
    match p.peek() {
        Tok::End => Ok(e),
        Tok::Question { .. } => p.fail("unexpected `?`: a ternary needs a condition before it"),
        Tok::Colon => p.fail("unexpected `:` without a matching `?`"),
        Tok::RParen => p.fail("unmatched `)`"),
        other => {
            let what = describe(other);
            p.fail(&format!("expected the end of the expression, found {what}"))
        }
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Path { .. } => "a reference".into(),
        Tok::Str(_) => "a string".into(),
        Tok::Int(_) | Tok::Float(_) => "a number".into(),
        Tok::Bool(_) => "a boolean".into(),
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::OrOr => "`||`".into(),
        Tok::Question { .. } => "`?`".into(),
        Tok::Colon => "`:`".into(),
        Tok::End => "the end of the expression".into(),
    }
}

struct Parser {
    toks: Vec<Spanned>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map(|s| &s.tok).unwrap_or(&Tok::End)
    }

    fn peek_at(&self, offset: usize) -> &Tok {
        self.toks
            .get(self.pos + offset)
            .map(|s| &s.tok)
            .unwrap_or(&Tok::End)
    }

    fn column(&self) -> usize {
        self.toks
            .get(self.pos)
            .or_else(|| self.toks.last())
            .map(|s| s.column)
            .unwrap_or(1)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn fail<T>(&self, message: &str) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            message: message.to_string(),
            column: self.column(),
        })
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, SyntaxError> {
        if depth > MAX_DEPTH {
            return self.fail("expression nested too deeply");
        }
        let cond = self.or(depth)?;
        if !matches!(self.peek(), Tok::Question { .. }) {
            return Ok(cond);
        }
        self.bump();
        let then = self.expr(depth + 1)?;
        if self.peek() != &Tok::Colon {
            return self.fail("expected `:` of the ternary `? :`");
        }
        self.bump();
        let otherwise = self.expr(depth + 1)?;
        Ok(Expr::Ternary {
            cond: Box::new(cond),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        })
    }

    fn or(&mut self, depth: usize) -> Result<Expr, SyntaxError> {
        let mut items = vec![self.primary(depth)?];
        while self.peek() == &Tok::OrOr {
            self.bump();
            items.push(self.primary(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, SyntaxError> {
        let column = self.column();
        match self.bump() {
            Tok::Str(s) => Ok(Expr::Literal(Literal::Str(s))),
            Tok::Int(i) => Ok(Expr::Literal(Literal::Int(i))),
            Tok::Float(x) => Ok(Expr::Literal(Literal::Float(x))),
            Tok::Bool(b) => Ok(Expr::Literal(Literal::Bool(b))),
            Tok::LParen => {
                let inner = self.expr(depth + 1)?;
                if self.peek() != &Tok::RParen {
                    return Err(SyntaxError {
                        message: "unclosed `(`".into(),
                        column,
                    });
                }
                self.bump();
                Ok(inner)
            }
            Tok::LBracket => {
                let mut items = Vec::new();
                if self.peek() == &Tok::RBracket {
                    self.bump();
                    return Ok(Expr::List(items));
                }
                loop {
                    items.push(self.expr(depth + 1)?);
                    match self.bump() {
                        Tok::Comma => continue,
                        Tok::RBracket => return Ok(Expr::List(items)),
                        _ => {
                            return Err(SyntaxError {
                                message: "unclosed `[`: expected `,` or `]`".into(),
                                column,
                            })
                        }
                    }
                }
            }
            Tok::Path { head, mut segs } => {
                // `name?` glued to a reference: part of the name when nothing that could start an
                // operand follows (`value_present? ? a : b`, `present? ))`), else the ternary.
                if self.peek() == &(Tok::Question { attached: true })
                    && matches!(
                        self.peek_at(1),
                        Tok::Question { .. }
                            | Tok::OrOr
                            | Tok::RParen
                            | Tok::RBracket
                            | Tok::Colon
                            | Tok::Comma
                            | Tok::End
                    )
                {
                    self.bump();
                    if let Some(last) = segs.last_mut() {
                        if last.call.is_some() {
                            return self.fail("`?` cannot follow a call");
                        }
                        last.name.push('?');
                    }
                }
                classify(head, segs)
                    .map(Expr::Ref)
                    .map_err(|message| SyntaxError { message, column })
            }
            Tok::End => Err(SyntaxError {
                message: "expected a value, found the end of the expression".into(),
                column,
            }),
            other => Err(SyntaxError {
                message: format!("expected a value, found {}", describe(&other)),
                column,
            }),
        }
    }
}

fn names(segs: &[Seg]) -> String {
    segs.iter()
        .map(|s| match &s.call {
            Some(a) => format!("{}({a})", s.name),
            None => s.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn no_calls(segs: &[Seg]) -> Result<(), String> {
    match segs.iter().find(|s| s.call.is_some()) {
        Some(s) => Err(format!(
            "`{}(…)` is not a function; only `parsed_manifest(NAME)` can be called, at the end of a property reference",
            s.name
        )),
        None => Ok(()),
    }
}

/// Turns the raw segments of a reference into a classified [`Reference`].
pub(crate) fn classify(head: Head, segs: Vec<Seg>) -> Result<Reference, String> {
    match head {
        Head::Dollar => {
            no_calls(&segs)?;
            let (first, rest) = segs
                .split_first()
                .ok_or("expected a context name after `$`")?;
            let context = Context::from_name(&first.name).ok_or_else(|| {
                format!(
                    "unknown context `${}` (known: $ops_manager, $director, $self, $runtime)",
                    first.name
                )
            })?;
            if rest.is_empty() {
                return Err(format!(
                    "`${}` needs an accessor, e.g. `${}.{}`",
                    first.name,
                    first.name,
                    context.accessors().first().copied().unwrap_or("name")
                ));
            }
            Ok(Reference::Context {
                context,
                path: rest.iter().map(|s| s.name.clone()).collect(),
            })
        }
        Head::DotDot => {
            let (first, rest) = segs
                .split_first()
                .ok_or("expected a product name after `..`")?;
            if first.call.is_some() {
                return Err("a product name cannot be called".into());
            }
            in_product(Some(first.name.clone()), rest)
        }
        Head::Dot => in_product(None, &segs),
        Head::Bare => {
            let first = segs.first().ok_or("expected a name")?;
            if first.name == "current_record" && first.call.is_none() {
                return property(None, Owner::CurrentRecord, &segs[1..], "current_record.");
            }
            if segs.len() == 1 && first.call.is_none() {
                if let Some(field) = JobField::from_name(&first.name) {
                    return Ok(Reference::Job {
                        product: None,
                        job: None,
                        field,
                    });
                }
                return Err(format!(
                    "`{}` is neither a job accessor ({}) nor a property reference with an accessor (e.g. `{}.value`); a BOSH variable is written `((( {} )))`",
                    first.name,
                    JobField::ALL.map(JobField::name).join(", "),
                    first.name,
                    first.name
                ));
            }
            property(None, Owner::CurrentJob, &segs, "")
        }
    }
}

/// A reference relative to a product (`.x…` or `..product.x…`).
fn in_product(product: Option<String>, segs: &[Seg]) -> Result<Reference, String> {
    let prefix = match &product {
        Some(p) => format!("..{p}."),
        None => ".".to_string(),
    };
    let Some(first) = segs.first() else {
        return Err(format!("expected a name after `{prefix}`"));
    };
    if segs.len() == 1 {
        no_calls(segs)?;
        return ProductField::from_name(&first.name)
            .map(|field| Reference::Product {
                product: product.clone(),
                field,
            })
            .ok_or_else(|| {
                format!(
                    "`{prefix}{}` is not a product field (deployment_name, network_name, present?)",
                    first.name
                )
            });
    }
    if first.call.is_some() {
        return Err(format!("`{}` cannot be called", first.name));
    }
    if first.name == "properties" {
        return property(
            product,
            Owner::Global,
            &segs[1..],
            &format!("{prefix}properties."),
        );
    }
    if segs.len() == 2 && segs[1].call.is_none() {
        if let Some(field) = JobField::from_name(&segs[1].name) {
            return Ok(Reference::Job {
                product,
                job: Some(first.name.clone()),
                field,
            });
        }
        return Err(format!(
            "`{prefix}{}` is neither a job accessor of `{}` ({}) nor a property reference with an accessor (e.g. `{prefix}{}.value`)",
            names(segs),
            first.name,
            JobField::ALL.map(JobField::name).join(", "),
            names(segs)
        ));
    }
    property(
        product,
        Owner::Job(first.name.clone()),
        &segs[1..],
        &format!("{prefix}{}.", first.name),
    )
}

/// A property read `PATH.ACCESSOR`; `segs` starts at the property name.
fn property(
    product: Option<String>,
    owner: Owner,
    segs: &[Seg],
    prefix: &str,
) -> Result<Reference, String> {
    let Some((last, init)) = segs.split_last() else {
        return Err(format!("expected a property name after `{prefix}`"));
    };
    no_calls(init)?;
    let (path, accessor) = match &last.call {
        Some(arg) => {
            if last.name != "parsed_manifest" {
                return Err(format!(
                    "`{}(…)` is not a function; only `parsed_manifest(NAME)` can be called",
                    last.name
                ));
            }
            match init.split_last() {
                Some((sel, path)) if sel.name == "selected_option" => {
                    (path, Accessor::SelectedOptionManifest(arg.clone()))
                }
                _ => (init, Accessor::ParsedManifest(arg.clone())),
            }
        }
        None => (init, Accessor::from_name(&last.name)),
    };
    if path.is_empty() {
        return Err(format!(
            "`{prefix}{}` names no property: a property reference is `{prefix}NAME.ACCESSOR`",
            names(segs)
        ));
    }
    Ok(Reference::Property(PropertyRef {
        product,
        owner,
        path: path.iter().map(|s| s.name.clone()).collect(),
        accessor,
    }))
}
