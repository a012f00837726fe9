//! The 25 seed exclusions (shared/seeds/, copied here so tests need no ../shared), each
//! with the parse outcome, logic verdict and codes a careful reviewer expects.

use rstest::rstest;

use super::*;
use crate::schema::Bypass;

#[rstest]
// 000 LogMeIn: or-chains of != are inverted; #4 is always true.
#[case(r#"process.name != "LogMeIn.exe" OR process.parent.name != "LogMeIn.exe" OR user.account != "IT_Admin_Account""#, "contingent", &["FPX103", "FPX005"])]
#[case(r#"process.name != "LogMeIn.exe" OR process.command_line contains "integrity_check" OR process.parent.name != "TaskScheduler""#, "contingent", &["FPX103", "FPX005"])]
#[case(r#"process.name != "LogMeIn.exe" OR process.command_line contains "powershell.exe" OR user.account != "IT_Admin_Account""#, "contingent", &["FPX103", "FPX005"])]
#[case(r#"process.name != "LogMeIn.exe" OR process.parent.name != "splunkd.exe" OR process.parent.name != "logstash""#, "always-true", &["FPX101", "FPX005"])]
#[case(r#"process.name != "LogMeIn.exe" OR process.command_line contains "patch_update" OR process.parent.name != "PatchManager.exe""#, "contingent", &["FPX103", "FPX005"])]
// 001 Level: prose.
#[case("Exclude processes initiated by the Microsoft Endpoint Manager service or tasks scheduled by Task Scheduler with the MEM task name.", "invalid", &["FPX002"])]
#[case("Exclude processes initiated by the Kaseya VSA agent or tasks associated with Kaseya VSA service accounts.", "invalid", &["FPX002"])]
#[case("Exclude processes related to SolarWinds SAM or tasks initiated by the SolarWinds service account.", "invalid", &["FPX002"])]
#[case("Exclude processes initiated by Ansible or tasks associated with Ansible controller or inventory hosts.", "invalid", &["FPX002"])]
#[case("Exclude processes initiated by the LogMeIn service or tasks associated with LogMeIn remote support sessions.", "invalid", &["FPX002"])]
// 002 RemotePC: instructions left in, inverted; the last one is cut off.
#[case(r#"process.name != "RemotePC.exe" OR event_id != 1234 (replace with actual event ID used for file signature checks)"#, "contingent", &["FPX003", "FPX103", "FPX005"])]
#[case(r#"process.name != "RemotePC.exe" OR event_id != 5678 (replace with actual event ID for patching activities)"#, "contingent", &["FPX003", "FPX103", "FPX005"])]
#[case(r#"process.name != "RemotePC.exe" OR event_id != 9101 (replace with actual event ID for log collection)"#, "contingent", &["FPX003", "FPX103", "FPX005"])]
#[case(r#"process.name != "RemotePC.exe" OR user.name != "IT_Support" OR event_id != 1122 (replace with actual event ID and user context)"#, "contingent", &["FPX003", "FPX103", "FPX005"])]
#[case("`process.name != ”", "invalid", &["FPX001"])]
// 003 LiteManager: well-formed on their own (their problems need the rule's table).
#[case(r#"process.parent_process_name == "Task Scheduler" or process.command_line contains "schtasks.exe""#, "contingent", &[])]
#[case(r#"process.parent_process_name == "mstsc.exe" or process.command_line contains "mstsc""#, "contingent", &[])]
#[case(r#"process.command_line contains "backup.exe" or process.parent_process_name == "schtasks.exe""#, "contingent", &[])]
#[case(r#"process.command_line contains "softwareupdate.exe" or process.parent_process_name == "LiteManager.exe""#, "contingent", &[])]
#[case(r#"process.command_line contains "inventory.exe" or process.parent_process_name == "LiteManager.exe""#, "contingent", &[])]
// 004 BeyondTrust: inverted, two with placeholder hashes.
#[case(r#"process.name != "integrityscan.exe" or process.parent.name != "BeyondTrustService.exe""#, "contingent", &["FPX103"])]
#[case(r#"process.name != "beyondtrust.exe" or process.parent.name != "BeyondTrustService.exe""#, "contingent", &["FPX103"])]
#[case(r#"process.name != "fileverifier.exe" or file.hash != "known_good_hashes""#, "contingent", &["FPX003", "FPX103"])]
#[case(r#"process.name != "inventorytool.exe" or process.parent.name != "BeyondTrustService.exe""#, "contingent", &["FPX103"])]
#[case(r#"process.name != "audittool.exe" or file.signature != "known_audit_hashes""#, "contingent", &["FPX003", "FPX103"])]
fn seed_exclusions(#[case] text: &str, #[case] logic: &str, #[case] codes: &[&str]) {
    let a = analyze_exclusion(text);
    let found: Vec<&str> = a.findings.iter().map(|f| f.kind.code.as_str()).collect();
    assert_eq!(found, codes, "{text}");
    assert_eq!(a.logic(), logic, "{text}");
    for f in &a.findings {
        if let Some(w) = &f.witness
            && let ParseOutcome::Parsed(p) = &a.outcome
        {
            let holds = p.pred.eval(w);
            assert_eq!(holds, f.kind.code != Code::Fpx102, "{}: witness {w:?}", f.kind.code);
        }
    }
}

#[test]
fn inverted_fix_is_the_readable_negation() {
    let text = r#"process.name != "LogMeIn.exe" OR process.parent.name != "LogMeIn.exe" OR user.account != "IT_Admin_Account""#;
    let a = analyze_exclusion(text);
    let fix = a.findings[0].fix.as_ref().unwrap();
    assert!(!fix.safe);
    assert_eq!(
        fix.apply(text),
        r#"process.name == "LogMeIn.exe" and process.parent.name == "LogMeIn.exe" and user.account == "IT_Admin_Account""#
    );
}

#[test]
fn always_true_proof_uses_the_exclusions_own_values() {
    let a = analyze_exclusion(
        r#"process.name != "LogMeIn.exe" OR process.parent.name != "splunkd.exe" OR process.parent.name != "logstash""#,
    );
    let w = a.findings[0].witness.as_ref().unwrap();
    assert_eq!(w["process.name"], "LogMeIn.exe");
    assert!(["splunkd.exe", "logstash"].contains(&w["process.parent.name"].as_str()));
}

#[rstest]
#[case(r#"f != "a" and f != "b""#, true)]
#[case(r#"f !in ("a", "b")"#, true)]
#[case(r#"f !~ "a" or g != "b""#, true)]
#[case(r#"f == "a" and g == "b""#, false)]
// A keep-filter of any operator (issue 28), not only of equalities.
#[case(r#"f !contains "a" or g !contains "b""#, true)]
#[case(r#"f == "a""#, false)]
fn inverted_definition(#[case] text: &str, #[case] inverted: bool) {
    let a = analyze_exclusion(text);
    assert_eq!(
        a.findings.iter().any(|f| f.kind.code == Code::Fpx103),
        inverted,
        "{text}: {:?}",
        a.findings
    );
}

#[test]
fn never_true_is_reported_with_a_warning() {
    let a = analyze_exclusion(r#"FileName == "a.exe" and FileName == "b.exe""#);
    assert_eq!(a.findings.len(), 1);
    assert_eq!(a.findings[0].kind.code, Code::Fpx102);
    assert_eq!(a.findings[0].kind.severity, Severity::Warning);
}

#[test]
fn redundant_term_is_dropped_in_the_fix() {
    let text = r#"FileName == "a.exe" or FileName =~ "A.EXE""#;
    let a = analyze_exclusion(text);
    let f = a.findings.iter().find(|f| f.kind.code == Code::Fpx106).expect("FPX106");
    assert_eq!(&text[f.span.clone()], r#"FileName == "a.exe""#);
    assert_eq!(f.fix.as_ref().unwrap().apply(text), r#"FileName =~ "A.EXE""#);
}

#[test]
fn safe_fixes_remove_backticks_and_curly_quotes() {
    let text = "`process.name == “LogMeIn.exe”`";
    let a = analyze_exclusion(text);
    let edits: Vec<Edit> = a
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .filter(|f| f.safe)
        .flat_map(|f| f.edits.clone())
        .collect();
    assert_eq!(apply_edits(text, &edits), r#"process.name == "LogMeIn.exe""#);
}

#[test]
fn every_rule_has_documentation_with_examples() {
    for rule in CODES {
        let doc = rule.doc();
        assert!(
            doc.starts_with(&format!("{} {}", rule.code, rule.name)),
            "{}",
            rule.code
        );
        for section in [
            "## What it catches",
            "## Why it matters",
            "## Example",
            "## Passes",
            "## Fix",
        ] {
            assert!(doc.contains(section), "{} lacks {section}", rule.code);
        }
    }
}

/// The first ```text block after `heading` in a rule's documentation.
fn doc_example(rule: &CodeInfo, heading: &str) -> String {
    let doc = rule.doc();
    let section = doc
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("{} lacks {heading}", rule.code));
    section
        .split("```text\n")
        .nth(1)
        .unwrap()
        .split("\n```")
        .next()
        .unwrap()
        .to_string()
}

/// Whether `rule` fires on a documented example. Examples are an exclusion; or
/// `table:`/`rule:`/`exclusion:` (and `other:`, a second scenario) lines for checks
/// that need a rule; or a query (FPX401) or rule YAML (FPX402).
fn fires(rule: &CodeInfo, example: &str) -> bool {
    if example.starts_with("--- ") {
        return fires_on_files(rule, example);
    }
    match rule.code {
        Code::Fpx401 => !crate::kql::read_query(example).notes.is_empty(),
        Code::Fpx403 => !crate::kql::read_query(example).errors.is_empty(),
        Code::Fpx108 => crate::kql::read_query(example)
            .detection
            .is_some_and(|d| !fpx108_dead_rule::findings(&d, None, &crate::logic::Domains::text()).is_empty()),
        Code::Fpx402 => {
            let yaml = format!("id: x\nname: x\n{example}\nquery: |\n  DeviceProcessEvents\n");
            crate::corpus::read_rule(std::path::Path::new("r.yaml"), &yaml)
                .unwrap()
                .malformed
                .is_some()
        }
        _ if example.starts_with("table:") => {
            let field = |key: &str| {
                example
                    .lines()
                    .find_map(|l| l.strip_prefix(key))
                    .map(str::trim)
                    .unwrap_or_default()
                    .to_string()
            };
            let query = format!("{} | where {}", field("table:"), field("rule:"));
            let dir = std::env::temp_dir().join(format!("fpx-doc-{}-{}", rule.code, std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let mut exclusions = vec![field("exclusion:")];
            if !field("other:").is_empty() {
                exclusions.push(field("other:"));
            }
            let template = |key: &str| -> Vec<crate::corpus::Template> {
                let text = field(key);
                if text.is_empty() {
                    return Vec::new();
                }
                vec![serde_yaml::from_str(&text).expect("a template is a YAML mapping")]
            };
            let list: Vec<crate::corpus::Scenario> = exclusions
                .iter()
                .enumerate()
                .map(|(i, e)| crate::corpus::Scenario {
                    name: format!("s{}", i + 1),
                    description: String::new(),
                    exclusion: e.clone(),
                    benign: template("benign:"),
                    malicious: template("malicious:"),
                    ..Default::default()
                })
                .collect();
            std::fs::write(dir.join("r.yaml"), format!("id: r\nname: r\nquery: |\n  {query}\n")).unwrap();
            std::fs::write(dir.join("s.yaml"), crate::corpus::write_scenarios("r", "", &list)).unwrap();
            let harness = crate::harness::Config { seed: 1, cases: 32 };
            let report = check_corpus(crate::corpus::load(std::slice::from_ref(&dir)), Some(harness));
            std::fs::remove_dir_all(&dir).unwrap();
            assert!(report.load_errors.is_empty(), "{:?}", report.load_errors);
            report.rules[0].scenarios[0]
                .findings()
                .iter()
                .any(|f| f.kind.code == rule.code)
        }
        _ => analyze_exclusion(example)
            .findings
            .iter()
            .any(|f| f.kind.code == rule.code),
    }
}

/// An example of several files, each after a `--- name` line: checked as a corpus.
fn fires_on_files(rule: &CodeInfo, example: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    for part in example.split("--- ").filter(|p| !p.is_empty()) {
        let (name, text) = part.split_once('\n').unwrap();
        std::fs::write(dir.path().join(name.trim()), text).unwrap();
    }
    let mut report = check_corpus(crate::corpus::load(&[dir.path().to_path_buf()]), None);
    crate::gate::apply(&mut report, &crate::gate::Settings::default(), None);
    assert!(report.load_errors.is_empty(), "{:?}", report.load_errors);
    report.findings().any(|f| f.kind.code == rule.code)
}

#[test]
fn documented_examples_fail_and_pass_as_documented() {
    for rule in CODES {
        let failing = doc_example(rule, "## Example");
        assert!(
            fires(rule, &failing),
            "{} does not fire on its example:\n{failing}",
            rule.code
        );
        let passing = doc_example(rule, "## Passes");
        assert!(
            !fires(rule, &passing),
            "{} fires on its passing example:\n{passing}",
            rule.code
        );
    }
}

#[test]
fn bytes_that_are_not_utf8_are_a_finding() {
    let a = analyze_bytes(b"f == \"\xff\"", None);
    assert_eq!(a.findings[0].kind.code, Code::Fpx001);
    assert_eq!(a.findings[0].span, 6..7);
    assert_eq!(a.logic(), "invalid");
}

/// FPX304 on the rule `table | where rule` with `exclusion`.
fn attacker_controllable(table: &str, rule: &str, exclusion: &str) -> Option<Finding> {
    let query = crate::kql::read_query(&format!("{table} | where {rule}"));
    let detection = query.detection.expect("the rule lowers");
    let table = crate::schema::Table::kql(table);
    let context = RuleContext {
        table: &table,
        detection: Some(&detection),
        scoped: false,
    };
    analyze_in_context(exclusion, Some(&context))
        .analysis
        .findings
        .into_iter()
        .find(|f| f.kind.code == Code::Fpx304)
}

/// In a rule's context, `A == B` / `A != B` of two string columns of the table (B
/// unquoted) compares the columns, as KQL does: no FPX004 and no quoting fix; out of
/// context, or with a word that is no column, it stays a value with FPX004.
#[test]
fn columns_compared_in_an_exclusion_are_columns_on_the_table() {
    let context = RuleContext {
        table: &crate::schema::Table::kql("DeviceLogonEvents"),
        detection: None,
        scoped: false,
    };
    let codes = |a: &ExclusionAnalysis| a.findings.iter().map(|f| f.kind.code).collect::<Vec<_>>();
    let a = analyze_in_context(
        "AccountDomain == DeviceName or AccountDomain != DeviceName",
        Some(&context),
    )
    .analysis;
    assert_eq!(codes(&a), [Code::Fpx101], "{:?}", a.findings);
    let a = analyze_in_context(
        "AccountDomain != DeviceName and AccountName == \"admin\"",
        Some(&context),
    )
    .analysis;
    assert!(codes(&a).is_empty(), "{:?}", a.findings);
    let w = a.classification.unwrap().when_true.unwrap();
    assert_ne!(w["AccountDomain"], w["DeviceName"], "{w:?}");
    let a = analyze_in_context(
        "AccountDomain == DeviceName and AccountDomain == \"a\" and DeviceName == \"b\"",
        Some(&context),
    )
    .analysis;
    assert_eq!(a.logic(), "never-true");
    // A word that is no column of the table, and no table: a value, with FPX004.
    let a = analyze_in_context("AccountDomain == Contoso", Some(&context)).analysis;
    assert!(codes(&a).contains(&Code::Fpx004));
    let a = analyze_exclusion("AccountDomain == DeviceName");
    assert!(codes(&a).contains(&Code::Fpx004));
}

/// FPX304 is decided on the truth of the conditions on columns the attacker does not
/// choose; a comparison of an attacker's column with another column is not one of
/// those, so no finding is claimed there.
#[test]
fn fpx304_is_not_claimed_across_a_comparison_of_columns() {
    assert!(
        attacker_controllable(
            "DeviceNetworkEvents",
            "RemotePort == 3389 and RemoteIP == LocalIP",
            r#"RemoteIP startswith "10.""#
        )
        .is_none()
    );
    // An alert from 5.5.5.5 to itself stays one only while RemoteIP is 5.5.5.5: not
    // every alert can be suppressed, though those from 1.1.1.1 can.
    assert!(
        attacker_controllable(
            "DeviceNetworkEvents",
            r#"RemotePort == 3389 and (RemoteIP == LocalIP or LocalIP == "1.1.1.1")"#,
            r#"RemoteIP startswith "10.""#
        )
        .is_none()
    );
}

#[test]
fn fpx304_is_about_every_alert_not_some() {
    // The attacker puts "backup" in the command line of any PsExec alert.
    let f = attacker_controllable(
        "DeviceProcessEvents",
        r#"FileName =~ "psexec.exe""#,
        r#"ProcessCommandLine contains "backup""#,
    )
    .expect("FPX304");
    let proof = f.witness.unwrap();
    assert!(
        proof["ProcessCommandLine"].to_lowercase().contains("backup"),
        "{proof:?}"
    );
    // Anchored on the host: alerts from other hosts stay out of the attacker's reach,
    // whatever the exclusion adds on attacker columns.
    assert!(
        attacker_controllable(
            "DeviceNetworkEvents",
            "RemotePort in (5985, 5986, 3389)",
            r#"DeviceName =~ "jmp-01.contoso.com""#
        )
        .is_none()
    );
    assert!(
        attacker_controllable(
            "DeviceNetworkEvents",
            "RemotePort in (5985, 5986, 3389)",
            r#"DeviceName =~ "jmp-01.contoso.com" and RemoteIP startswith "10.20.""#
        )
        .is_none()
    );
    // Only attacker columns, but the rule pins one of them: still every alert.
    assert!(
        attacker_controllable(
            "DeviceNetworkEvents",
            r#"RemotePort in (5985, 5986, 3389) and InitiatingProcessAccountName != "system""#,
            r#"RemoteUrl endswith ".contoso.com""#
        )
        .is_some()
    );
    // The port is the attacker's: any alert moves to 5985 and stays an alert.
    assert!(
        attacker_controllable(
            "DeviceNetworkEvents",
            "RemotePort in (5985, 5986, 3389)",
            r#"RemotePort == 5985"#
        )
        .is_some()
    );
}

#[test]
fn equivalent_exclusions_are_duplicates_of_each_other_and_broken_ones_subsume_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: r\nname: r\nquery: |\n  DeviceProcessEvents | where FileName =~ \"anydesk.exe\"\n",
    )
    .unwrap();
    let scenarios = |list: &[&str]| -> Vec<Vec<Code>> {
        let list: Vec<crate::corpus::Scenario> = list
            .iter()
            .enumerate()
            .map(|(i, e)| crate::corpus::Scenario {
                name: format!("s{i}"),
                exclusion: e.to_string(),
                ..Default::default()
            })
            .collect();
        std::fs::write(
            dir.path().join("s.yaml"),
            crate::corpus::write_scenarios("r", "", &list),
        )
        .unwrap();
        let report = check_corpus(crate::corpus::load(&[dir.path().to_path_buf()]), None);
        report.rules[0]
            .scenarios
            .iter()
            .map(|s| s.findings().iter().map(|f| f.kind.code).collect())
            .collect()
    };
    let a = r#"AccountName == "svc_it""#;
    let b = r#"AccountName =~ "svc_it" and AccountName == "svc_it""#;
    assert_eq!(
        scenarios(&[a, b]),
        [vec![Code::Fpx107], vec![Code::Fpx106, Code::Fpx107]]
    );
    assert_eq!(
        scenarios(&[b, a]),
        [vec![Code::Fpx106, Code::Fpx107], vec![Code::Fpx107]]
    );
    // An inverted exclusion suppresses nearly everything: it subsumes nothing.
    let inverted = r#"AccountName != "svc_it" or DeviceName != "it-01""#;
    let narrow = r#"AccountName == "bob" and DeviceName == "x""#;
    assert_eq!(scenarios(&[narrow, inverted]), [vec![], vec![Code::Fpx103]]);
}

/// The verdict of `exclusion` on `table`'s typed columns, and whether FPX102 says that
/// null rows are still suppressed.
fn typed_verdict(table: &str, exclusion: &str) -> (&'static str, bool) {
    let table = crate::schema::Table::kql(table);
    let context = RuleContext {
        table: &table,
        detection: None,
        scoped: false,
    };
    let analysis = analyze_in_context(exclusion, Some(&context)).analysis;
    let nulls = analysis
        .findings
        .iter()
        .any(|f| f.kind.code == Code::Fpx102 && f.message.contains("null"));
    (analysis.logic(), nulls)
}

#[rstest]
#[case("DeviceNetworkEvents", "RemotePort == 443.0 and RemotePort == 443", "contingent")]
#[case("DeviceNetworkEvents", "RemotePort == 0443 and RemotePort == 443", "contingent")]
#[case(
    "DeviceNetworkEvents",
    "RemotePort >= 443 and RemotePort <= 443 and RemotePort != 443",
    "never-true"
)]
#[case("DeviceNetworkEvents", "RemotePort > 442 and RemotePort < 443", "never-true")]
#[case("DeviceNetworkEvents", "RemotePort > 9223372036854775807", "never-true")]
#[case("DeviceNetworkEvents", "RemotePort != 443 or RemotePort != 80", "always-true")]
#[case("DeviceNetworkEvents", "RemotePort > 10 or RemotePort <= 10", "always-true")]
#[case(
    "DeviceFileEvents",
    "FileSize == 9007199254740993 and FileSize > 9007199254740992",
    "contingent"
)]
#[case(
    "DeviceFileEvents",
    "FileSize > 9007199254740992 and FileSize < 9007199254740994",
    "contingent"
)]
#[case(
    "DeviceFileEvents",
    "FileSize > 9007199254740992 and FileSize < 9007199254740993",
    "never-true"
)]
#[case("DeviceFileCertificateInfo", "IsSigned == 1 and IsSigned == false", "never-true")]
#[case("DeviceFileCertificateInfo", "IsSigned == true or IsSigned == false", "always-true")]
#[case("DeviceFileCertificateInfo", "IsSigned == true", "contingent")]
#[case("DeviceFileCertificateInfo", "IsSigned != true or IsSigned != false", "always-true")]
#[case(
    "DeviceProcessEvents",
    r#"FileName =~ "a.exe" and FileName =~ "b.exe""#,
    "never-true"
)]
#[case("DeviceProcessEvents", "Timestamp > datetime(2024-01-01)", "contingent")]
#[case("DeviceProcessEvents", "Timestamp > ago(1d) and Timestamp < ago(2d)", "never-true")]
#[case(
    "DeviceProcessEvents",
    "Timestamp > datetime(2024-01-01) and Timestamp < datetime(2024-01-01 00:00:00.0000001)",
    "never-true"
)]
#[case(
    "DeviceProcessEvents",
    "Timestamp > datetime(2024-01-01) and Timestamp < datetime(2024-01-01 00:00:00.0000002)",
    "contingent"
)]
#[case(
    "DeviceProcessEvents",
    "Timestamp == datetime(2024-01-01) and Timestamp == datetime(2024-01-01T00:00:00Z)",
    "contingent"
)]
#[case(
    "DeviceProcessEvents",
    "Timestamp >= datetime(2024-01-01) or Timestamp < datetime(2024-01-01)",
    "always-true"
)]
#[case("DeviceProcessEvents", "Timestamp < datetime(0001-01-01)", "never-true")]
fn verdicts_follow_the_column_types(#[case] table: &str, #[case] exclusion: &str, #[case] expected: &str) {
    assert_eq!(typed_verdict(table, exclusion).0, expected, "{exclusion} on {table}");
}

#[test]
fn a_never_true_comparison_still_suppresses_null_rows() {
    // `not(null)` is null, and `where` drops the row: FPX102 says so.
    let (verdict, nulls) = typed_verdict(
        "DeviceNetworkEvents",
        "RemotePort >= 443 and RemotePort <= 443 and RemotePort != 443",
    );
    assert_eq!((verdict, nulls), ("never-true", true));
    let (verdict, nulls) = typed_verdict("DeviceProcessEvents", r#"FileName =~ "a.exe" and FileName =~ "b.exe""#);
    assert_eq!((verdict, nulls), ("never-true", false));
    // Without a table every field is text: `0443` is not `443`.
    assert_eq!(
        analyze_exclusion("RemotePort == 0443 and RemotePort == 443").logic(),
        "never-true"
    );
}

/// A union of tables is judged on the rows that exist: a row comes from one table and
/// is empty in the columns that table lacks (no row has both a file's `FolderPath` and
/// a registry event's `RegistryKey`).
#[test]
fn a_union_is_judged_on_the_rows_its_tables_have() {
    let codes = |query: &str| -> (Vec<Code>, Vec<Vec<Code>>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("r.yaml"),
            format!("id: r\nname: r\nquery: |\n  {}\n", query.replace('\n', "\n  ")),
        )
        .unwrap();
        let report = check_corpus(crate::corpus::load(&[dir.path().to_path_buf()]), None);
        let rule = &report.rules[0];
        assert_eq!(
            rule.query.table.as_deref(),
            Some("union(DeviceFileEvents, DeviceRegistryEvents)")
        );
        (
            rule.findings.iter().map(|f| f.kind.code).collect(),
            rule.inline
                .iter()
                .map(|s| s.findings().iter().map(|f| f.kind.code).collect())
                .collect(),
        )
    };
    let union = "union DeviceFileEvents, DeviceRegistryEvents";
    // A detection only the free combination of columns could meet.
    let (rule, _) = codes(&format!(
        "{union}\n| where RegistryKey has \"run\" and FolderPath has \"temp\""
    ));
    assert_eq!(rule, [Code::Fpx108]);
    let (rule, _) = codes(&format!(
        "{union}\n| where FolderPath has \"temp\" or (RegistryKey has \"run\" and FolderPath has \"x\")"
    ));
    assert_eq!(rule, [Code::Fpx108], "the dead branch");
    // An exclusion of the registry rows on a detection of file rows removes nothing.
    let (rule, inline) = codes(&format!(
        "{union}\n| where FolderPath has \"temp\"\n| where RegistryKey !has \"run\""
    ));
    assert!(rule.is_empty(), "{rule:?}");
    assert_eq!(inline, [vec![Code::Fpx105]]);
    // An exclusion no row can meet is never true.
    let (_, inline) = codes(&format!(
        "{union}\n| where FolderPath has \"temp\" or RegistryKey has \"run\"\n| where not(FolderPath has \"a\" and RegistryKey has \"b\")"
    ));
    assert_eq!(inline, [vec![Code::Fpx102]]);
    // Each table's rows are still there.
    let (rule, inline) = codes(&format!(
        "{union}\n| where FolderPath has \"temp\" or RegistryKey has \"run\"\n| where RegistryKey !has \"runonce\""
    ));
    assert!(rule.is_empty() && inline == [Vec::<Code>::new()], "{rule:?} {inline:?}");
}

/// The harness draws a union's events as rows of one of its tables: a benign file event
/// and a malicious process event are each a row the rule can match.
#[test]
fn a_unions_scenario_events_are_rows_of_one_table() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: u\nname: u\nquery: |\n  union DeviceFileEvents, DeviceProcessEvents\n  | where FileName =~ \"a.exe\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        concat!(
            "rule: u\nscenarios:\n  - name: Installer\n",
            "    exclusion: InitiatingProcessFileName =~ \"msiexec.exe\" and FolderPath has \"Installer\"\n",
            "    benign:\n      - {FileName: \"a.exe\", InitiatingProcessFileName: \"msiexec.exe\", FolderPath: \"C:\\\\Windows\\\\Installer\\\\x\", FileOriginUrl: \"https://x\"}\n",
            "    malicious:\n      - {FileName: \"a.exe\", InitiatingProcessFileName: \"cmd.exe\", ProcessCommandLine: \"a.exe -x\"}\n",
        ),
    )
    .unwrap();
    let report = check_corpus(
        crate::corpus::load(&[dir.path().to_path_buf()]),
        Some(crate::harness::Config { seed: 1, cases: 64 }),
    );
    let scenario = &report.rules[0].scenarios[0];
    let codes: Vec<Code> = scenario.findings().iter().map(|f| f.kind.code).collect();
    assert!(codes.is_empty(), "{codes:?}");
    // Sentinel's tables name themselves in `Type`: a drawn row does too.
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: u
name: u
query: |
  union AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs
  | where ResultType == \"50126\"
",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "rule: u\nscenarios:\n  - name: Lab\n    exclusion: IPAddress == \"10.0.0.1\"\n    benign:\n      - {ResultType: \"50126\", IPAddress: \"10.0.0.1\"}\n    malicious:\n      - {ResultType: \"50126\", IPAddress: \"8.8.8.8\"}\n",
    )
    .unwrap();
    let report = check_corpus(
        crate::corpus::load(&[dir.path().to_path_buf()]),
        Some(crate::harness::Config { seed: 1, cases: 64 }),
    );
    let codes: Vec<Code> = report.rules[0].scenarios[0]
        .findings()
        .iter()
        .map(|f| f.kind.code)
        .collect();
    assert!(codes.is_empty(), "{codes:?}");
}

/// A keep-filter of any operator is inverted, as `!=` chains are: it suppresses
/// everything but the events the tests match. One mixed with a positive test is not.
#[rstest]
#[case(r#"CommandLine !contains "backup" or CommandLine !contains "nightly""#, true)]
#[case(r#"not(FileName has "a") or not(FolderPath has "b")"#, true)]
#[case(r#"FolderPath !startswith @"C:\Tools""#, true)]
#[case(r#"FileName == "a.exe" and CommandLine !contains "x""#, false)]
#[case(r#"CommandLine !contains "backup" and CommandLine !contains "nightly""#, true)]
#[case(r#"CommandLine contains "backup" and CommandLine !contains "nightly""#, false)]
fn keep_filters_of_any_operator_are_inverted(#[case] text: &str, #[case] inverted: bool) {
    let a = analyze_exclusion(text);
    assert_eq!(
        a.findings.iter().any(|f| f.kind.code == Code::Fpx103),
        inverted,
        "{text}"
    );
}

/// The #1341 shape inline: a `where` keep-clause of one field's alternatives joined
/// with `or` keeps nearly everything; FPX103 with an event that still alerts, and the
/// `and` fix. Tests of two fields (a parent-child pair) are a real exclusion.
#[test]
fn a_keep_clause_of_alternatives_joined_with_or_is_inverted() {
    let check = |query: &str| {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("id: r\nname: keep\nquery: |\n  {}\n", query.replace('\n', "\n  "));
        std::fs::write(dir.path().join("r.yaml"), text).unwrap();
        let report = check_corpus(crate::corpus::load(&[dir.path().to_path_buf()]), None);
        report.rules[0]
            .inline
            .iter()
            .map(|s| {
                let codes: Vec<&str> = s.findings().iter().map(|f| f.kind.code.as_str()).collect();
                (s.exclusion.clone(), codes.join(","))
            })
            .collect::<Vec<_>>()
    };
    let found = check(
        r#"DeviceProcessEvents
| where FileName =~ "rundll32.exe"
| where FolderPath !contains @"\windows\system32" or FolderPath !contains @"\windows\syswow64"
| where FileName !~ "a.exe" or InitiatingProcessFileName !~ "b.exe""#,
    );
    assert_eq!(found[0].1, "FPX103", "{found:?}");
    assert!(!found[1].1.contains("FPX103"), "{found:?}");
}

/// Every FPX304 says what the bypass costs: text the attacker writes (free), a name
/// or path a normal user creates (user), a path only an administrator writes (admin,
/// reported as info); an exclusion with a cheap branch costs what that branch costs.
#[rstest]
#[case(r#"ProcessCommandLine contains "schtasks.exe""#, Bypass::Free)]
#[case(r#"FolderPath contains @"\Vendor\""#, Bypass::Free)]
#[case(r#"InitiatingProcessFileName =~ "backup.exe""#, Bypass::User)]
#[case(r#"FolderPath startswith @"C:\Users\Public\""#, Bypass::User)]
#[case(r#"FolderPath endswith @"\LiteManager.exe""#, Bypass::User)]
#[case(r#"FolderPath startswith @"C:\Program Files\Vendor\""#, Bypass::Admin)]
#[case(r#"FolderPath =~ @"C:\Windows\System32\LiteManager.exe""#, Bypass::Admin)]
#[case(
    r#"FolderPath startswith @"C:\Program Files\" or ProcessCommandLine contains "x""#,
    Bypass::Free
)]
#[case(
    r#"FolderPath startswith @"C:\Program Files\" and ProcessCommandLine contains "x""#,
    Bypass::Admin
)]
fn attacker_controllable_exclusions_say_what_the_bypass_costs(#[case] exclusion: &str, #[case] bypass: Bypass) {
    let f = attacker_controllable("DeviceProcessEvents", r#"FileName =~ "LiteManager.exe""#, exclusion)
        .unwrap_or_else(|| panic!("no FPX304 on {exclusion}"));
    assert_eq!(f.bypass, Some(bypass), "{exclusion}: {}", f.message);
    let expected = if bypass == Bypass::Admin {
        Severity::Info
    } else {
        Severity::Warning
    };
    assert_eq!(f.severity, expected);
    // The proof is an event of the cheapest bypass.
    let witness = f.witness.as_ref().unwrap();
    if bypass == Bypass::Free && exclusion.contains(" or ") {
        assert!(witness["ProcessCommandLine"].contains('x'), "{witness:?}");
    }
}

/// The attacker check reads pseudo-ECS names as the columns they resolve to.
#[test]
fn attacker_controllable_resolves_pseudo_ecs_names() {
    let f = attacker_controllable(
        "DeviceProcessEvents",
        r#"FileName =~ "TeamViewer.exe""#,
        r#"process.command_line contains "--silent""#,
    );
    assert_eq!(f.map(|f| f.bypass), Some(Some(Bypass::Free)));
}
