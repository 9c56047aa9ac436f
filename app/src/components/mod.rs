//! Components shared by several pages.

pub mod header;
