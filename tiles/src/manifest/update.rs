//! The `update` block and its polymorphic values: counts that may be percentages and watch times
//! that may be ranges (bosh-cfcr-pks-odb §1.4).
//!
//! The typed model accepts any integer or string for these, so that a manifest with a bad value
//! still loads and `manifest_check` can report *which* value is wrong; [`Count::parse`] and
//! [`WatchTime::parse`] apply the Director's rules.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Deployment-level update settings; per instance group every field is an optional override.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Update {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canaries: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<Count>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary_watch_time: Option<WatchTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_watch_time: Option<WatchTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_deploy_az_update_strategy: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `canaries` / `max_in_flight`: an integer or a percentage string such as `"20%"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Count {
    Number(i64),
    Text(String),
}

/// A [`Count`] after validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountValue {
    Absolute(u64),
    /// 0–100.
    Percent(u8),
}

impl Count {
    /// Reads the value the way the Director does: a non-negative integer (also written as a
    /// string of digits) or `N%` with N in 0–100.
    pub fn parse(&self) -> Result<CountValue, String> {
        match self {
            Count::Number(n) => u64::try_from(*n)
                .map(CountValue::Absolute)
                .map_err(|_| format!("{n} is negative; use an integer ≥ 0 or a percentage")),
            Count::Text(s) => {
                let t = s.trim();
                if let Some(pct) = t.strip_suffix('%') {
                    match pct.trim().parse::<u8>() {
                        Ok(p) if p <= 100 => Ok(CountValue::Percent(p)),
                        _ => Err(format!("`{s}` is not a percentage between 0% and 100%")),
                    }
                } else {
                    t.parse::<u64>().map(CountValue::Absolute).map_err(|_| {
                        format!("`{s}` is neither an integer nor a percentage like `25%`")
                    })
                }
            }
        }
    }
}

impl CountValue {
    /// The effective number for a group of `size` instances (percentages round down, never
    /// below 1 when the group is not empty, never above `size`).
    pub fn resolve(self, size: u64) -> u64 {
        match self {
            CountValue::Absolute(n) => n.min(size),
            CountValue::Percent(p) => {
                let n = size * u64::from(p) / 100;
                if size > 0 && p > 0 {
                    n.clamp(1, size)
                } else {
                    n
                }
            }
        }
    }
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Count::Number(n) => write!(f, "{n}"),
            Count::Text(s) => f.write_str(s),
        }
    }
}

/// `canary_watch_time` / `update_watch_time`: milliseconds, or a range `"low-high"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WatchTime {
    Number(i64),
    Text(String),
}

impl WatchTime {
    /// `(min, max)` in milliseconds; a single number is `(n, n)`.
    pub fn parse(&self) -> Result<(u64, u64), String> {
        const SHAPE: &str = "should be an integer or a range of two integers like `1000-30000`";
        match self {
            WatchTime::Number(n) => u64::try_from(*n)
                .map(|n| (n, n))
                .map_err(|_| format!("{n} is negative; watch time {SHAPE}")),
            WatchTime::Text(s) => {
                let t = s.trim();
                let (lo, hi) = match t.split_once('-') {
                    Some((lo, hi)) => (lo.trim(), hi.trim()),
                    None => (t, t),
                };
                match (lo.parse::<u64>(), hi.parse::<u64>()) {
                    (Ok(lo), Ok(hi)) if lo <= hi => Ok((lo, hi)),
                    (Ok(lo), Ok(hi)) => Err(format!(
                        "`{s}`: min watch time {lo} is greater than max watch time {hi}"
                    )),
                    _ => Err(format!("`{s}`: watch time {SHAPE}")),
                }
            }
        }
    }
}

impl std::fmt::Display for WatchTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchTime::Number(n) => write!(f, "{n}"),
            WatchTime::Text(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts() {
        assert_eq!(Count::Number(3).parse(), Ok(CountValue::Absolute(3)));
        assert_eq!(Count::Text("3".into()).parse(), Ok(CountValue::Absolute(3)));
        assert_eq!(
            Count::Text("20%".into()).parse(),
            Ok(CountValue::Percent(20))
        );
        assert_eq!(
            Count::Text("100%".into()).parse(),
            Ok(CountValue::Percent(100))
        );
        assert!(Count::Text("101%".into()).parse().is_err());
        assert!(Count::Text("-1%".into()).parse().is_err());
        assert!(Count::Text("lots".into()).parse().is_err());
        assert!(Count::Number(-1).parse().is_err());
    }

    #[test]
    fn percentages_resolve_like_the_director() {
        assert_eq!(CountValue::Percent(20).resolve(10), 2);
        assert_eq!(CountValue::Percent(1).resolve(10), 1);
        assert_eq!(CountValue::Percent(100).resolve(7), 7);
        assert_eq!(CountValue::Absolute(5).resolve(3), 3);
        assert_eq!(CountValue::Percent(50).resolve(0), 0);
    }

    #[test]
    fn watch_times() {
        assert_eq!(WatchTime::Number(5000).parse(), Ok((5000, 5000)));
        assert_eq!(
            WatchTime::Text("1000-30000".into()).parse(),
            Ok((1000, 30000))
        );
        assert_eq!(
            WatchTime::Text(" 1000 - 30000 ".into()).parse(),
            Ok((1000, 30000))
        );
        assert!(WatchTime::Text("30000-1000".into())
            .parse()
            .unwrap_err()
            .contains("greater"));
        assert!(WatchTime::Text("soon".into()).parse().is_err());
    }
}
