//! FPX302 misses-benign (error)
//!
//! ## What it catches
//! A benign event of the scenario (a template, with the other columns generated) that
//! the rule alerts on but the exclusion does not suppress. Shrunk to a minimal event
//! and printed with the seed that replays it.
//!
//! ## Why it matters
//! The false positive the exclusion was written for still fires.
//!
//! ## Example
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LiteManager"
//! exclusion: process.command_line contains "schtasks.exe"
//! benign: {Signer: "LiteManager Team", DeviceName: "it-admin-01.contoso.com"}
//! ```
//!
//! ## Passes
//! ```text
//! table: DeviceFileCertificateInfo
//! rule: Signer has "LiteManager"
//! exclusion: DeviceName == "it-admin-01.contoso.com"
//! benign: {Signer: "LiteManager Team", DeviceName: "it-admin-01.contoso.com"}
//! ```
//!
//! ## Fix
//! Make the exclusion hold on what the benign activity really looks like in the rule's
//! table. No automatic fix.

use super::{Finding, Code, CodeInfo, Severity};
use crate::harness::{Counterexample, Source};
use crate::pred::{Event, Span};

pub(super) static INFO: CodeInfo = CodeInfo {
    code: Code::Fpx302,
    name: "misses-benign",
    severity: Severity::Error,
    summary: "a benign event of the scenario is not suppressed",
    source: include_str!("fpx302_misses_benign.rs"),
};

pub(super) fn finding(c: &Counterexample, shown: Event, span: Span, seed: u64) -> Finding {
    let n = match c.source {
        Source::Benign(i) => i + 1,
        _ => 0,
    };
    let mut f = Finding::new(
        &INFO,
        format!("misses benign event {n}: the rule alerts on it and the exclusion does not suppress it"),
        span,
        "does not suppress the benign case",
    );
    f.help = Some(format!("replay with `fpx check --seed {seed}`"));
    f.witness = Some(shown);
    f
}
