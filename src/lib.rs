//! fpx tests the false-positive exclusions of detection rules.
//!
//! # Layout: modules follow the data flow
//!
//! ```text
//! files ──corpus──▶ rules (model::RuleQuery per rule) ──checks──▶ CheckReport ──gate──▶ report
//!          │  front-ends: kql, sigma, elastic, expr (exclusions)    │                  (text, json,
//!          │  lower to pred::Pred; schema names tables/columns       │                   sarif, junit,
//!          └──────────────────────────────▶ replay (events) ◀───────┘ logic decides    markdown, html,
//!                                                                                       github)
//! ```
//!
//! - Inputs: [`corpus`] finds and reads rule, scenario, seed and meta-filter files (with
//!   `.gitignore` and [`config`]'s `exclude`); each front-end ([`kql`], [`sigma`],
//!   [`elastic`], and [`expr`] for exclusion text) lowers what it reads to the one predicate IR
//!   [`pred::Pred`] and the one rule model [`model`] (table, D, inline exclusions,
//!   notes, errors). [`schema`] knows the tables, log sources (one type,
//!   [`schema::Table`]) and their columns.
//! - Decisions: [`logic`] decides exactly what a predicate suppresses (typed domains,
//!   automata); [`harness`] generates events per scenario.
//! - Findings: [`checks`] holds one file per finding code (its doc comment is its
//!   documentation) and runs every rule with its exclusions into a [`checks::CheckReport`]
//!   whose findings are placed (file, line, column) when the result that holds them is
//!   made, and fingerprinted once over the report.
//! - The gate: [`gate`] applies what the user chose (flags over [`config`]'s
//!   `fpx.toml`, suppressions, a baseline) to the report; [`report`] renders it, one
//!   emitter per format.
//! - [`replay`] evaluates the rule model over real events (and prints it as KQL)
//!   without running the checks; [`cli`] is a thin layer over all of this.
//!
//! Dependencies point one way, from the command line down to [`pred`]: no module
//! imports one that imports it (`pred` prints through `expr`'s `Display` impl, the
//! rule model's error type lives in `model`, and finding codes are checked by the
//! gate, not the corpus reader).

pub mod checks;
pub mod cli;
pub mod config;
pub mod corpus;
pub mod decimal;
pub mod diff;
pub mod elastic;
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
