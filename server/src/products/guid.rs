//! GUIDs in Ops Manager's form: `<name>-<20 lowercase hex>` (`cf-fa24570b6a6e8940ab57`), for
//! products, jobs, AZs and networks alike. om never parses them; it maps names to GUIDs through
//! the list endpoints, so the only requirement is uniqueness and the familiar look.

use argon2::password_hash::rand_core::{OsRng, RngCore};

/// A fresh GUID for `name`: the name, a dash, 10 random bytes in hex.
pub fn new_guid(name: &str) -> String {
    let mut bytes = [0u8; 10];
    OsRng.fill_bytes(&mut bytes);
    format!("{name}-{}", hex::encode(bytes))
}

/// Whether `text` has the GUID form for `name`.
pub fn is_guid_for(name: &str, text: &str) -> bool {
    text.strip_prefix(name)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            hex.len() == 20
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_have_the_ops_manager_form_and_differ() {
        let a = new_guid("pivotal-container-service");
        assert!(is_guid_for("pivotal-container-service", &a), "{a}");
        assert_eq!(a.len(), "pivotal-container-service".len() + 21);
        assert_ne!(a, new_guid("pivotal-container-service"));
        assert!(!is_guid_for("cf", "cf-XYZ"));
        assert!(!is_guid_for("cf", "cf-fa24570b6a6e8940ab5"));
        assert!(is_guid_for("cf", "cf-fa24570b6a6e8940ab57"));
    }
}
