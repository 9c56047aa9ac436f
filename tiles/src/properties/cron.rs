//! Cron schedules, for the `must_be_cron_schedule` string constraint.
//!
//! Tiles use it for things like backup schedules that a BOSH job hands to a cron-like
//! scheduler. Accepted: the five classic fields (minute, hour, day of month, month, day of
//! week), optionally preceded by a seconds field (six fields, as Ruby's rufus-scheduler and
//! many Go schedulers accept), and the `@hourly`-style shortcuts. Each field is `*`, a value, a
//! range `a-b`, any of those with a step `/n`, or a comma list of them. Months and days may be
//! written by their English three-letter names; day of week 7 is Sunday, like 0. `?` is
//! accepted for day of month / day of week (Quartz style).

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const SHORTCUTS: [&str; 8] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
    "@reboot",
];

struct Field {
    what: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The first name stands for this number (months start at 1, days at 0).
    names_start: u32,
    question_mark: bool,
}

impl Field {
    fn value(&self, text: &str) -> Option<u32> {
        if let Ok(n) = text.parse::<u32>() {
            return (self.min..=self.max).contains(&n).then_some(n);
        }
        let lower = text.to_ascii_lowercase();
        self.names
            .iter()
            .position(|name| *name == lower)
            .and_then(|p| u32::try_from(p).ok())
            .map(|p| p + self.names_start)
    }

    fn check(&self, text: &str) -> Result<(), String> {
        let bad = |detail: &str| {
            Err(format!(
                "'{text}' is not a valid {} field{detail}",
                self.what
            ))
        };
        if text.is_empty() {
            return bad("");
        }
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            if let Some(step) = step {
                match step.parse::<u32>() {
                    Ok(n) if n >= 1 && n <= self.max.max(1) => {}
                    _ => return bad(&format!(" (step '{step}')")),
                }
            }
            if range == "*" || (self.question_mark && range == "?" && step.is_none()) {
                continue;
            }
            match range.split_once('-') {
                Some((low, high)) => match (self.value(low), self.value(high)) {
                    (Some(l), Some(h)) if l <= h => {}
                    _ => return bad(&format!(" (range '{range}')")),
                },
                None => {
                    if self.value(range).is_none() {
                        return bad(&format!(
                            " ('{range}' must be between {} and {})",
                            self.min, self.max
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

const SECOND: Field = Field {
    what: "second",
    min: 0,
    max: 59,
    names: &[],
    names_start: 0,
    question_mark: false,
};
const MINUTE: Field = Field {
    what: "minute",
    ..SECOND
};
const HOUR: Field = Field {
    what: "hour",
    min: 0,
    max: 23,
    names: &[],
    names_start: 0,
    question_mark: false,
};
const DAY_OF_MONTH: Field = Field {
    what: "day of month",
    min: 1,
    max: 31,
    names: &[],
    names_start: 0,
    question_mark: true,
};
const MONTH: Field = Field {
    what: "month",
    min: 1,
    max: 12,
    names: &MONTHS,
    names_start: 1,
    question_mark: false,
};
const DAY_OF_WEEK: Field = Field {
    what: "day of week",
    min: 0,
    max: 7,
    names: &DAYS,
    names_start: 0,
    question_mark: true,
};

/// Checks a cron schedule; the error says which field is wrong.
pub fn check_cron(schedule: &str) -> Result<(), String> {
    let trimmed = schedule.trim();
    if trimmed.starts_with('@') {
        return if SHORTCUTS.contains(&trimmed.to_ascii_lowercase().as_str()) {
            Ok(())
        } else {
            Err(format!("'{trimmed}' is not a known cron shortcut"))
        };
    }
    let fields: Vec<&str> = trimmed.split_whitespace().collect();
    let layout: &[&Field] = match fields.len() {
        5 => &[&MINUTE, &HOUR, &DAY_OF_MONTH, &MONTH, &DAY_OF_WEEK],
        6 => &[&SECOND, &MINUTE, &HOUR, &DAY_OF_MONTH, &MONTH, &DAY_OF_WEEK],
        n => {
            return Err(format!(
                "a cron schedule has 5 fields (minute hour day-of-month month day-of-week), not {n}"
            ))
        }
    };
    for (field, text) in layout.iter().zip(fields) {
        field.check(text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_cron;

    #[test]
    fn valid_schedules() {
        for s in [
            "* * * * *",
            "0 2 * * *",
            "*/15 0-23/2 1,15 jan-jun mon-fri",
            "30 4 1 * 0",
            "0 0 * * 7",
            "0 0 ? * MON",
            "0 30 4 * * *",
            "@daily",
            "@Hourly",
            "  5 4 * * sun  ",
        ] {
            assert!(check_cron(s).is_ok(), "{s}: {:?}", check_cron(s));
        }
    }

    #[test]
    fn invalid_schedules() {
        for (s, word) in [
            ("", "5 fields"),
            ("* * * *", "5 fields"),
            ("* * * * * * *", "5 fields"),
            ("60 * * * *", "minute"),
            ("* 24 * * *", "hour"),
            ("* * 0 * *", "day of month"),
            ("* * 32 * *", "day of month"),
            ("* * * 13 *", "month"),
            ("* * * * 8", "day of week"),
            ("5-1 * * * *", "range"),
            ("*/0 * * * *", "step"),
            ("*/x * * * *", "step"),
            ("a * * * *", "minute"),
            ("? * * * *", "minute"),
            ("1,,2 * * * *", "minute"),
            ("@sometimes", "shortcut"),
        ] {
            let err = check_cron(s).expect_err(s);
            assert!(err.contains(word), "{s}: {err}");
        }
    }
}
