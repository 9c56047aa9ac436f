//! One module per page; a folder per page group whose pages share components of their own.

pub mod account;
pub mod audit;
pub mod certificate_authorities;
pub mod change_log;
pub mod changes;
pub mod clusters;
pub mod dashboard;
pub mod decryption_passphrase;
pub mod director;
pub mod installation;
pub mod login;
pub mod not_found;
pub mod product;
pub mod review;
pub mod settings_menu;
pub mod ssl_certificate;
pub mod stemcells;
pub mod users;
pub mod vm_extensions;
