//! Checking values against the constraints in metadata: integer bounds and rules (on
//! properties, `instance_definition` and `resource_definitions`) and the ordered string
//! constraint list (`must_match_regex`, `must_be_cron_schedule`).
//!
//! The constraint *types* belong to the metadata model ([`crate::metadata::IntegerConstraints`],
//! [`crate::metadata::StringConstraint`]), which reads both spellings of the rule names
//! (`may_only_*` / `can_only_*`); this module gives them their meaning.

use serde_json::Value;

use super::{cron, ruby_regex};
use crate::metadata::{IntegerConstraints, StringConstraint};

/// Reads an integer the way metadata and forms write it: a JSON integer, an integral float
/// (`3.0`), or a decimal string (`"443"`, `" 8192 "`).
pub fn as_integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().replace('_', "").parse::<i64>().ok(),
        _ => None,
    }
}

/// Reads a flag written as a boolean or as `"true"`/`"false"` text.
pub fn as_flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

impl IntegerConstraints {
    /// True when no rule is set.
    pub fn is_empty(&self) -> bool {
        *self
            == IntegerConstraints {
                error_message: self.error_message.clone(),
                ..Default::default()
            }
    }

    /// Checks `value`; `deployed` is the value of the last deploy (for `may_only_increase`).
    /// Returns every failed rule's message, in a fixed order.
    pub fn check(&self, value: i64, deployed: Option<i64>) -> Vec<String> {
        let mut messages = Vec::new();
        if let Some(min) = self.min {
            if value < min {
                messages.push(format!("Value must be greater than or equal to {min}"));
            }
        }
        if let Some(max) = self.max {
            if value > max {
                messages.push(format!("Value must be less than or equal to {max}"));
            }
        }
        if let Some(min) = self.zero_or_min {
            if value != 0 && value < min {
                messages.push(format!(
                    "Value must be zero or greater than or equal to {min}"
                ));
            }
        }
        if let Some(m) = self.modulo {
            if value.checked_rem(m).is_some_and(|r| r != 0) {
                messages.push(format!("Value must be a multiple of {m}"));
            }
        }
        if self.power_of_two && (value < 0 || (value as u64).count_ones() > 1) {
            messages.push("Value must be a power of two".to_string());
        }
        if self.may_only_be_odd_or_zero && value != 0 && value % 2 == 0 {
            messages.push("Value must be an odd number or zero".to_string());
        }
        if self.may_only_increase {
            if let Some(previous) = deployed {
                if value < previous {
                    messages.push(self.error_message.clone().unwrap_or_else(|| {
                        format!("Value may only increase (deployed value is {previous})")
                    }));
                }
            }
        }
        messages
    }
}

/// The outcome of checking a string against its constraints.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StringCheck {
    /// Messages for the operator, in constraint order.
    pub messages: Vec<String>,
    /// Problems in the metadata itself (a regex that cannot be used). Kept apart so that an
    /// author's mistake does not read as the operator's.
    pub metadata_problems: Vec<String>,
}

/// Applies the constraints in order; every failing one contributes its own message. An item
/// may carry both a regex and the cron flag; both are checked.
pub fn check_string(constraints: &[StringConstraint], value: &str) -> StringCheck {
    let mut check = StringCheck::default();
    for constraint in constraints {
        if let Some(pattern) = &constraint.must_match_regex {
            match ruby_regex::is_match(pattern, value) {
                Ok(Some(false)) => {
                    check.messages.push(
                        constraint
                            .error_message
                            .clone()
                            .unwrap_or_else(|| format!("Value must match the pattern {pattern}")),
                    );
                }
                // A match, or the browser's engine cannot tell: the server checks at save.
                Ok(Some(true) | None) => {}
                Err(e) => check.metadata_problems.push(e.to_string()),
            }
        }
        if constraint.must_be_cron_schedule {
            if let Err(detail) = cron::check_cron(value) {
                check.messages.push(
                    constraint
                        .error_message
                        .clone()
                        .unwrap_or_else(|| format!("Value must be a cron schedule: {detail}")),
                );
            }
        }
    }
    check
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::metadata::property_blueprint::decode_constraints;
    use crate::metadata::Constraints;

    /// Constraints as the metadata model reads them from YAML-shaped input.
    fn ic(v: Value) -> IntegerConstraints {
        match decode_constraints(Some(&v), "constraints") {
            Ok(Some(Constraints::Integer(c))) => c,
            other => panic!("not integer constraints: {other:?}"),
        }
    }

    fn string_constraints(v: &Value) -> Vec<StringConstraint> {
        match decode_constraints(Some(v), "constraints") {
            Ok(Some(Constraints::Rules(r))) => r,
            other => panic!("not string rules: {other:?}"),
        }
    }

    #[test]
    fn reading_numbers_and_flags() {
        assert_eq!(as_integer(&json!(3)), Some(3));
        assert_eq!(as_integer(&json!(3.0)), Some(3));
        assert_eq!(as_integer(&json!(3.5)), None);
        assert_eq!(as_integer(&json!(" 8_192 ")), Some(8192));
        assert_eq!(as_integer(&json!("x")), None);
        assert_eq!(as_integer(&json!(true)), None);
        assert_eq!(as_flag(&json!("True")), Some(true));
        assert_eq!(as_flag(&json!(1)), None);
    }

    #[test]
    fn min_and_max() {
        let c = ic(json!({"min": 1, "max": 3}));
        assert!(c.check(1, None).is_empty());
        assert!(c.check(3, None).is_empty());
        assert_eq!(
            c.check(0, None),
            vec!["Value must be greater than or equal to 1"]
        );
        assert_eq!(
            c.check(4, None),
            vec!["Value must be less than or equal to 3"]
        );
        // Quoted numbers in metadata still count.
        let c = ic(json!({"min": "3072"}));
        assert!(c.check(3072, None).is_empty());
        assert_eq!(c.check(3071, None).len(), 1);
    }

    #[test]
    fn zero_or_min() {
        let c = ic(json!({"zero_or_min": 3}));
        assert!(c.check(0, None).is_empty());
        assert!(c.check(3, None).is_empty());
        assert_eq!(
            c.check(2, None),
            vec!["Value must be zero or greater than or equal to 3"]
        );
        assert_eq!(c.check(-1, None).len(), 1);
    }

    #[test]
    fn modulo() {
        let c = ic(json!({"modulo": 4}));
        assert!(c.check(0, None).is_empty());
        assert!(c.check(8, None).is_empty());
        assert_eq!(c.check(6, None), vec!["Value must be a multiple of 4"]);
        // A zero modulo in metadata is meaningless, not a crash.
        assert!(ic(json!({"modulo": 0})).check(5, None).is_empty());
        assert!(ic(json!({"modulo": -1})).check(i64::MIN, None).is_empty());
    }

    #[test]
    fn power_of_two() {
        let c = ic(json!({"power_of_two": true}));
        for ok in [0, 1, 2, 1024, 1 << 40] {
            assert!(c.check(ok, None).is_empty(), "{ok}");
        }
        for bad in [3, 6, 1000, -2] {
            assert_eq!(
                c.check(bad, None),
                vec!["Value must be a power of two"],
                "{bad}"
            );
        }
        assert!(ic(json!({"power_of_two": false})).check(3, None).is_empty());
    }

    #[test]
    fn odd_or_zero_both_spellings() {
        for key in ["may_only_be_odd_or_zero", "can_only_be_odd_or_zero"] {
            let c = ic(json!({ key: true }));
            assert!(c.check(0, None).is_empty());
            assert!(c.check(1, None).is_empty());
            assert!(c.check(3, None).is_empty());
            assert!(c.check(-3, None).is_empty());
            assert_eq!(
                c.check(2, None),
                vec!["Value must be an odd number or zero"]
            );
        }
    }

    #[test]
    fn may_only_increase_both_spellings() {
        for key in ["may_only_increase", "can_only_increase"] {
            let c = ic(json!({ key: true }));
            assert!(c.check(1, None).is_empty(), "nothing deployed yet");
            assert!(c.check(3, Some(3)).is_empty());
            assert!(c.check(4, Some(3)).is_empty());
            assert_eq!(
                c.check(2, Some(3)),
                vec!["Value may only increase (deployed value is 3)"]
            );
        }
        let c = ic(json!({"may_only_increase": true, "error_message": "Cannot scale down"}));
        assert_eq!(c.check(1, Some(3)), vec!["Cannot scale down"]);
    }

    #[test]
    fn contradictory_bounds_report_each_failure() {
        assert!(ic(json!({})).is_empty());
        assert!(!ic(json!({"power_of_two": true})).is_empty());
        assert_eq!(
            ic(json!({"min": 1, "max": 0})).check(5, None),
            vec!["Value must be less than or equal to 0"]
        );
        assert_eq!(ic(json!({"min": 1, "max": 0})).check(-1, None).len(), 1);
    }

    #[test]
    fn string_constraints_in_order() {
        let cs = string_constraints(&json!([
            {"must_match_regex": r"\A[^!@#$%^&*()]*\z", "error_message": "This name cannot contain special characters."},
            {"must_match_regex": r"\A[^0-9]*\z", "error_message": "This name cannot contain digits."}
        ]));
        assert_eq!(cs.len(), 2);
        assert!(check_string(&cs, "Hello world").messages.is_empty());
        assert_eq!(
            check_string(&cs, "Hello 2 (you)").messages,
            vec![
                "This name cannot contain special characters.",
                "This name cannot contain digits."
            ]
        );
        assert_eq!(
            check_string(&cs, "Hello 2").messages,
            vec!["This name cannot contain digits."]
        );
    }

    #[test]
    fn cron_constraint_and_defaults() {
        let cs = string_constraints(&json!([
            {"must_be_cron_schedule": true, "error_message": "Not a schedule"}
        ]));
        assert!(check_string(&cs, "0 2 * * *").messages.is_empty());
        assert_eq!(check_string(&cs, "daily").messages, vec!["Not a schedule"]);
        let cs = string_constraints(&json!({"must_be_cron_schedule": "true"}));
        assert!(check_string(&cs, "bad").messages[0].starts_with("Value must be a cron schedule"));
        let cs = string_constraints(&json!([{"must_match_regex": "^a"}]));
        assert_eq!(
            check_string(&cs, "b").messages,
            vec!["Value must match the pattern ^a"]
        );
        assert!(
            check_string(&string_constraints(&json!([{"error_message": "x"}])), "a")
                .messages
                .is_empty()
        );
    }

    #[test]
    fn broken_regex_is_a_metadata_problem() {
        let cs = string_constraints(&json!([{"must_match_regex": "(?>a)", "error_message": "m"}]));
        let check = check_string(&cs, "a");
        assert!(check.messages.is_empty());
        assert_eq!(check.metadata_problems.len(), 1);
        assert!(check.metadata_problems[0].contains("atomic group"));
    }
}
