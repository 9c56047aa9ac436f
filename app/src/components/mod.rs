//! Components that several pages share. A component only one page uses lives with that page
//! (`pages/director/`, `pages/product/`, `pages/dashboard/`).

pub mod conflict;
pub mod header;
pub mod messages;
pub mod problems;
pub mod widgets;
