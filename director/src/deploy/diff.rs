//! The manifest diff `bosh deploy` shows before asking for confirmation: both manifests as YAML
//! lines, compared with a longest-common-subsequence, each line tagged `added`, `removed` or
//! unchanged (`null`), the shape of `POST /deployments/:name/diff`.

use serde_json::{json, Value};

/// Lines above this count are compared as "all removed, all added" to bound the work.
const MAX_LINES: usize = 4000;

/// The `diff` array: `[[line, null|"added"|"removed"], ...]`.
pub fn line_diff(old: &str, new: &str) -> Value {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut out = Vec::new();
    if a.len() > MAX_LINES || b.len() > MAX_LINES {
        out.extend(a.iter().map(|l| json!([l, "removed"])));
        out.extend(b.iter().map(|l| json!([l, "added"])));
        return Value::Array(out);
    }
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(json!([a[i], null]));
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            out.push(json!([a[i], "removed"]));
            i += 1;
        } else {
            out.push(json!([b[j], "added"]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|l| json!([l, "removed"])));
    out.extend(b[j..].iter().map(|l| json!([l, "added"])));
    Value::Array(out)
}

/// What `?redact=true` shows (the Director's default): every value under a `properties` key
/// (manifest, instance group, job, addon) becomes `<redacted>`, as the Director's redactor
/// does, and so does any other value whose key looks secret.
pub fn redact(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = k.to_lowercase();
                    let secret = ["password", "secret", "private_key", "token"]
                        .iter()
                        .any(|s| key.contains(s));
                    let v = if key == "properties" {
                        redact_leaves(v)
                    } else if secret && !v.is_object() && !v.is_array() {
                        json!("<redacted>")
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Every scalar inside `value` replaced, keeping the shape (keys stay readable in a diff).
fn redact_leaves(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), redact_leaves(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_leaves).collect()),
        Value::Null => Value::Null,
        _ => json!("<redacted>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_added_and_removed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nc\nd\n");
        assert_eq!(
            d,
            json!([["a", null], ["b", "removed"], ["c", null], ["d", "added"]])
        );
    }

    #[test]
    fn redacts_secret_keys() {
        let v = redact(&json!({"db": {"password": "x", "port": 5}}));
        assert_eq!(v, json!({"db": {"password": "<redacted>", "port": 5}}));
        let v = redact(&json!({"name": "d", "instance_groups": [{"name": "web",
            "jobs": [{"name": "j", "properties": {"a": {"b": 1, "c": ["x"]}, "n": null}}]}]}));
        assert_eq!(
            v["instance_groups"][0]["jobs"][0]["properties"],
            json!({"a": {"b": "<redacted>", "c": ["<redacted>"]}, "n": null})
        );
        assert_eq!(v["name"], "d");
    }
}
