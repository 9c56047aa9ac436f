//! "Did you mean": the closest known name to one that names nothing, for lint findings and the
//! job-spec check. Kept small and shared so every suggestion uses the same distance and limit.

/// The closest of `candidates` to `name`, when near enough to be a slip of the keyboard: an
/// edit distance of at most a third of the name's length (at least 1, at most 3).
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)))
        .map(|(_, c)| c)
}

/// `; did you mean `NAME`?` for a suggestion, nothing without one: how every finding ends
/// that has one.
pub fn did_you_mean_text(suggestion: Option<&str>) -> String {
    suggestion
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Levenshtein distance with adjacent transpositions counted as one edit (optimal string
/// alignment), over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    d[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_and_transpositions_once() {
        assert_eq!(edit_distance("hostname", "hostname"), 0);
        assert_eq!(edit_distance("hostnme", "hostname"), 1);
        assert_eq!(edit_distance("hsotname", "hostname"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggests_only_near_names() {
        let names = ["pks.hostname", "pks.port", "pks.username"];
        assert_eq!(did_you_mean("pks.hostnme", names), Some("pks.hostname"));
        assert_eq!(did_you_mean("pks.prot", names), Some("pks.port"));
        assert_eq!(did_you_mean("pks.telemetry", names), None);
        // A short name tolerates one edit only.
        assert_eq!(did_you_mean("ab", ["xy", "ac"]), Some("ac"));
        assert_eq!(did_you_mean("ab", ["xy"]), None);
        // The name itself is no suggestion.
        assert_eq!(did_you_mean("port", ["port"]), None);
    }
}
