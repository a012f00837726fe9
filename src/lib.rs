//! fpx tests the false-positive exclusions of detection rules.
//!
//! Data flow (see DESIGN.md): text is parsed by [`expr`] into the predicate IR
//! [`pred::Pred`]; [`logic`] decides exactly what a predicate suppresses; [`checks`]
//! turns that into findings with stable codes; [`gate`] applies what the user chose
//! ([`config`], flags, suppressions, a baseline); [`report`] renders them.

pub mod checks;
pub mod cli;
pub mod config;
pub mod corpus;
pub mod decimal;
pub mod expr;
pub mod gate;
mod grammar;
pub mod harness;
pub mod kql;
pub mod logic;
pub mod model;
pub mod pred;
pub mod replay;
pub mod report;
pub mod schema;
pub mod sigma;
pub mod time;
