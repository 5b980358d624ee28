//! TODO
use crate::diagnostics::Diagnostic;
use crate::model::Mesh;

pub fn check(_mesh: &Mesh, _out: &mut Vec<Diagnostic>) {}
