//! Choosing the fix to apply to an exclusion: safe edits (FPX004) always; with
//! `unsafe_ok`, the negation of an inverted exclusion (FPX103) or the simplified form
//! (FPX106), which change (or may hide a typo in) what is suppressed.

use super::{Code, Edit, Finding, apply_edits};

/// The exclusion's text after its fixes, and whether every applied fix was safe;
/// `None` when there is nothing to fix.
pub fn fixed_text(exclusion: &str, findings: &[Finding], unsafe_ok: bool) -> Option<(String, bool)> {
    // An exclusion with a parse error, prose or a placeholder needs a person first: a
    // rewrite from its predicate would drop the note the author left.
    let needs_person = findings
        .iter()
        .any(|f| matches!(f.kind.code, Code::Fpx001 | Code::Fpx002 | Code::Fpx003));
    // Prose or a placeholder (`(replace with actual event ID)`): even a safe edit (the
    // case of `OR`, a quote) would leave text that looks finished and is not.
    if findings
        .iter()
        .any(|f| matches!(f.kind.code, Code::Fpx002 | Code::Fpx003))
    {
        return None;
    }
    if unsafe_ok && !needs_person {
        for code in [Code::Fpx103, Code::Fpx106] {
            if let Some(fix) = findings
                .iter()
                .filter(|f| f.kind.code == code)
                .find_map(|f| f.fix.as_ref())
            {
                return Some((fix.apply(exclusion), false));
            }
        }
    }
    let edits: Vec<Edit> = findings
        .iter()
        .filter(|f| f.line.is_none())
        .filter_map(|f| f.fix.as_ref())
        .filter(|fix| fix.safe)
        .flat_map(|fix| fix.edits.iter().cloned())
        .collect();
    if edits.is_empty() {
        return None;
    }
    let text = apply_edits(exclusion, &edits);
    (text != exclusion).then_some((text, true))
}
