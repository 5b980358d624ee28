//! routec: a compiler for a small typed language of service routing.

pub mod diagnostics;
pub mod source;
pub mod syntax;
