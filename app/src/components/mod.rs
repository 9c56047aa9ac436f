//! Components shared by several pages.

pub mod conflict;
pub mod director_catalogue;
pub mod director_form;
pub mod director_iaas;
pub mod director_network;
pub mod form_state;
pub mod header;
pub mod import;
pub mod widgets;
