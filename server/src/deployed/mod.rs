//! What can be read from a deployed product: its credentials as deployed (the Credentials tab
//! and om's credentials API) and its instances' log bundles (the Status tab's Logs links).
//! Both read what Apply Changes left behind — the sealed deployed snapshot, the Director's
//! deployment — never the staged configuration.

pub mod credentials;
pub mod instance_logs;
