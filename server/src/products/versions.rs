//! Ordering product versions (`1.1.3-build.11`, `1.2.0`, `2.10.0-tileworks.1`) for upgrades and
//! om's `latest`: numeric dot-separated parts compare as numbers, a pre-release suffix
//! (`-build.11`) orders by its own parts, and a version without suffix is *not* treated as newer
//! than one with a build suffix of the same numbers: tiles use `-build.N` for releases, not
//! pre-releases, so the suffixes simply compare part by part.

use std::cmp::Ordering;

fn parts(version: &str) -> Vec<Part<'_>> {
    version
        .split(['.', '-', '+'])
        .map(|p| match p.parse::<u64>() {
            Ok(n) => Part::Number(n),
            Err(_) => Part::Text(p),
        })
        .collect()
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Part<'a> {
    Number(u64),
    Text(&'a str),
}

/// Compares two product versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (pa, pb) = (parts(a), parts(b));
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x, y) {
            (Part::Number(x), Part::Number(y)) => x.cmp(y),
            (Part::Text(x), Part::Text(y)) => x.cmp(y),
            // A number sorts after text in the same place (`1.0.0` > `1.0.rc`).
            (Part::Number(_), Part::Text(_)) => Ordering::Greater,
            (Part::Text(_), Part::Number(_)) => Ordering::Less,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// The highest of some versions.
pub fn latest<'a>(versions: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    versions.into_iter().max_by(|a, b| compare(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_like_tile_versions() {
        assert_eq!(compare("1.1.3", "1.1.10"), Ordering::Less);
        assert_eq!(compare("1.2.0", "1.1.10"), Ordering::Greater);
        assert_eq!(compare("1.1.3-build.2", "1.1.3-build.11"), Ordering::Less);
        assert_eq!(compare("1.1.3", "1.1.3"), Ordering::Equal);
        assert_eq!(compare("1.1.3-build.1", "1.1.3"), Ordering::Greater);
        assert_eq!(compare("2.0", "10.0"), Ordering::Less);
        assert_eq!(latest(["1.0.0", "1.10.0", "1.9.9-build.3"]), Some("1.10.0"));
        assert_eq!(latest(std::iter::empty()), None);
    }
}
