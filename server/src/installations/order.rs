//! The order products deploy in: a product that requires another (`requires_product_versions`)
//! deploys after it when both are in the same apply; products that do not depend on each
//! other deploy in parallel. The result is a list of waves; a wave starts when the previous
//! one succeeded.

/// Groups `products` — each its name and the names it requires — into waves of indices.
/// Requirements on products outside the list are ignored (they are deployed already, or
/// optional). A dependency cycle, which lint reports, does not hang the apply: its members
/// form one last wave.
pub fn waves(products: &[(String, Vec<String>)]) -> Vec<Vec<usize>> {
    let mut placed = vec![false; products.len()];
    let mut out: Vec<Vec<usize>> = Vec::new();
    let index_of = |name: &str| products.iter().position(|(n, _)| n == name);
    while placed.iter().any(|p| !p) {
        let wave: Vec<usize> = (0..products.len())
            .filter(|&i| !placed[i])
            .filter(|&i| {
                products[i]
                    .1
                    .iter()
                    .filter_map(|dep| index_of(dep))
                    .filter(|&d| d != i)
                    .all(|d| placed[d])
            })
            .collect();
        let wave = if wave.is_empty() {
            (0..products.len()).filter(|&i| !placed[i]).collect()
        } else {
            wave
        };
        for &i in &wave {
            placed[i] = true;
        }
        out.push(wave);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, deps: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            deps.iter().map(|d| d.to_string()).collect(),
        )
    }

    #[test]
    fn dependencies_first_independent_together() {
        let list = vec![
            p("app", &["db", "cf"]),
            p("db", &[]),
            p("cf", &["db"]),
            p("other", &["not-here"]),
        ];
        assert_eq!(waves(&list), vec![vec![1, 3], vec![2], vec![0]]);
    }

    #[test]
    fn cycles_end_in_one_wave() {
        let list = vec![p("a", &["b"]), p("b", &["a"]), p("c", &[])];
        assert_eq!(waves(&list), vec![vec![2], vec![0, 1]]);
        assert!(waves(&[]).is_empty());
        assert_eq!(waves(&[p("self", &["self"])]), vec![vec![0]]);
    }
}
