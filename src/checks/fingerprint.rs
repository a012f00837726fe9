//! Finding fingerprints: identities that survive reordering and unrelated edits, for
//! baselines and code scanning.

use super::Finding;
use super::results::CheckReport;

/// Gives every finding its fingerprint: a hash of the code, the rule, the scenario, the
/// exclusion and the text the finding points at. Two findings that would collide get an
/// occurrence number.
pub(super) fn assign_fingerprints(report: &mut CheckReport) {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut stamp = |f: &mut Finding, parts: &[&str]| {
        let hash = fnv1a(
            std::iter::once(f.kind.code.as_str())
                .chain(parts.iter().copied())
                .flat_map(|p| p.bytes().chain([0xff])),
        );
        let base = format!("{hash:016x}");
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        f.fingerprint = if *n == 1 { base } else { format!("{base}-{n}") };
    };
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    for orphan in &mut report.orphans {
        let file = orphan.file.display().to_string();
        stamp(&mut orphan.finding, &[&orphan.rule_id, &file]);
    }
    for rule in &mut report.rules {
        for f in &mut rule.findings {
            let anchor = rule.rule.source.get(f.span.clone()).unwrap_or("").to_string();
            stamp(f, &[&rule.rule.id, "", &squash(&anchor)]);
        }
        for s in rule.scenarios.iter_mut().chain(&mut rule.inline) {
            let exclusion = squash(&s.exclusion);
            for f in &mut s.result.analysis.findings {
                let text = match f.line {
                    Some(line) => s.source.lines().nth(line.saturating_sub(1)).unwrap_or(""),
                    None => s.exclusion.as_str(),
                };
                let anchor = squash(text.get(f.span.clone()).unwrap_or(""));
                stamp(f, &[&rule.rule.id, &s.name, &exclusion, &anchor]);
            }
        }
    }
}

/// A stable number from the rule and scenario, so each scenario draws its own events.
pub(super) fn salt(rule: &str, scenario: &str) -> u64 {
    fnv1a(rule.bytes().chain([0]).chain(scenario.bytes()))
}

/// The 64-bit FNV-1a hash: stable across runs and platforms (std's hashers are not).
pub(crate) fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
