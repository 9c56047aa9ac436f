//! A staged product's pages: its settings (one page per form, then the placement sections),
//! its Status tab (instances from the Director) and its Credentials tab (as deployed).

pub mod credentials;
pub mod form_post;
pub mod form_state;
pub mod placement;
pub mod settings;
pub mod status;
