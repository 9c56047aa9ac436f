//! One module per page.

pub mod change_log;
pub mod changes;
pub mod dashboard;
pub mod director;
pub mod installation;
pub mod login;
pub mod not_found;
pub mod product_credentials;
pub mod product_placement;
pub mod product_settings;
pub mod product_status;
pub mod review;
