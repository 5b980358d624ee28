//! Text to syntax tree: the lexer, the parser facade and the tree they build.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use parser::{parse, Parsed};
