//! Components shared by several pages.

pub mod form_state;
pub mod header;
pub mod import;
pub mod widgets;
