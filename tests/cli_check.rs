//! `fpx check` and `fpx import` driven through the binary.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn fpx() -> Command {
    let mut cmd = Command::cargo_bin("fpx").expect("binary builds");
    cmd.env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn check_json(args: &[&str]) -> (Value, i32) {
    let out = fpx()
        .arg("check")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap())
}

fn codes(result: &Value) -> Vec<String> {
    let mut codes: Vec<String> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    codes.dedup();
    codes
}

/// What a careful reviewer expects of each bundled seed scenario (rules/ and scenarios/),
/// statically (FPX0xx-FPX2xx) and from the harness on the scenario's templates (FPX30x).
#[rustfmt::skip]
const EXPECTED: &[(&str, &str, &[&str])] = &[
    ("LogMeIn", "Legitimate LogMeIn Session for Remote Support", &["FPX005", "FPX103", "FPX104", "FPX202", "FPX301"]),
    ("LogMeIn", "Scheduled LogMeIn File Integrity Check", &["FPX005", "FPX103", "FPX104", "FPX202", "FPX301"]),
    ("LogMeIn", "LogMeIn Used for Remote PowerShell Execution", &["FPX005", "FPX103", "FPX104", "FPX202", "FPX301"]),
    ("LogMeIn", "LogMeIn Integration with SIEM for Monitoring", &["FPX005", "FPX101", "FPX202", "FPX301"]),
    ("LogMeIn", "LogMeIn Used for Patch Management", &["FPX005", "FPX103", "FPX104", "FPX202", "FPX301"]),
    ("Level", "A system administrator is using Microsoft Endpoint Manager (MEM) to deploy a legitimate software update via a scheduled task.", &["FPX002", "FPX303"]),
    ("Level", "An IT team is using Kaseya VSA to remotely manage a group of endpoints and perform a system health check.", &["FPX002", "FPX303"]),
    ("Level", "A DBA is using SolarWinds Server & Application Monitor (SAM) to monitor database performance and generate reports.", &["FPX002", "FPX303"]),
    ("Level", "A DevOps engineer is using Ansible to automate configuration management and deploy patches across a fleet of servers.", &["FPX002", "FPX303"]),
    ("Level", "A helpdesk technician is using LogMeIn to remotely support an end-user and troubleshoot a software issue.", &["FPX002", "FPX303"]),
    ("RemotePC", "Legitimate RemotePC File Signature Check via Scheduled Job", &["FPX003", "FPX005", "FPX103", "FPX104", "FPX201", "FPX202", "FPX301"]),
    ("RemotePC", "RemotePC Used for Patch Management", &["FPX003", "FPX005", "FPX103", "FPX104", "FPX201", "FPX202", "FPX301"]),
    ("RemotePC", "RemotePC Integration with SIEM for Log Collection", &["FPX003", "FPX005", "FPX103", "FPX104", "FPX201", "FPX202", "FPX301"]),
    ("RemotePC", "RemotePC Used for Remote Desktop Support", &["FPX003", "FPX005", "FPX103", "FPX104", "FPX201", "FPX202", "FPX301"]),
    ("RemotePC", "RemotePC Used for Software Deployment", &["FPX001"]),
    ("LiteManager", "Scheduled system maintenance using LiteManager", &["FPX105", "FPX201", "FPX202", "FPX302"]),
    ("LiteManager", "Legitimate remote desktop session using LiteManager", &["FPX105", "FPX201", "FPX202", "FPX302"]),
    ("LiteManager", "Automated backup job via LiteManager", &["FPX105", "FPX201", "FPX202", "FPX302"]),
    ("LiteManager", "Admin uses LiteManager to deploy software updates", &["FPX105", "FPX201", "FPX202", "FPX302"]),
    ("LiteManager", "LiteManager used for inventory collection", &["FPX105", "FPX201", "FPX202", "FPX302"]),
    ("BeyondTrust", "Scheduled file integrity monitoring scan using BeyondTrust", &["FPX103", "FPX104", "FPX202", "FPX301"]),
    ("BeyondTrust", "Admin task to update or patch remote systems using BeyondTrust", &["FPX103", "FPX104", "FPX202", "FPX301"]),
    ("BeyondTrust", "Legitimate file signature verification using BeyondTrust’s built-in tools", &["FPX003", "FPX103", "FPX104", "FPX202", "FPX203", "FPX301"]),
    ("BeyondTrust", "Remote system inventory collection via BeyondTrust", &["FPX103", "FPX104", "FPX202", "FPX301"]),
    ("BeyondTrust", "File signature analysis during a security audit using BeyondTrust", &["FPX003", "FPX103", "FPX104", "FPX201", "FPX202", "FPX301"]),
];

#[test]
fn bundled_seed_rules_get_the_codes_a_reviewer_expects() {
    let (report, code) = check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["rules"], 5);
    assert_eq!(report["summary"]["scenarios"], 25);
    let results = report["results"].as_array().unwrap();
    for (tool, scenario, expected) in EXPECTED {
        let r = results
            .iter()
            .find(|r| r["scenario"] == *scenario && r["rule_name"].as_str().unwrap().contains(tool))
            .unwrap_or_else(|| panic!("no result for {tool}: {scenario}"));
        assert_eq!(codes(r), *expected, "{tool}: {scenario}");
        assert_eq!(r["verdict"], "fail");
    }
    assert_eq!(results.len(), 25, "valid rule files have no rule-level results");
}

#[test]
fn check_json_has_the_documented_shape() {
    let (report, _) = check_json(&[
        "rules/logmein-file-signature.yaml",
        "scenarios/logmein-file-signature.yaml",
    ]);
    assert_eq!(report["version"], 1);
    let summary: Vec<&str> = report["summary"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        summary,
        [
            "rules",
            "scenarios",
            "errors",
            "warnings",
            "infos",
            "seed",
            "input_errors",
            "suppressed",
            "skipped"
        ]
    );
    let r = &report["results"][0];
    for key in [
        "rule_id",
        "rule_name",
        "file",
        "line",
        "scenario",
        "exclusion",
        "verdict",
        "findings",
    ] {
        assert!(r.get(key).is_some(), "{key}");
    }
    assert_eq!(r["rule_id"], "9fa78c8e-b5cb-4189-9888-1af7cca7ddb3");
    assert_eq!(r["file"], "scenarios/logmein-file-signature.yaml");
    assert_eq!(r["line"], 9);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "FPX103")
        .unwrap();
    assert_eq!(
        (
            f["file"].as_str().unwrap(),
            f["line"].as_u64().unwrap(),
            f["column"].as_u64().unwrap()
        ),
        ("scenarios/logmein-file-signature.yaml", 9, 7)
    );
    let not_in_table = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "FPX202")
        .nth(1)
        .unwrap();
    assert_eq!(not_in_table["span"], serde_json::json!([33, 52]), "process.parent.name");
    let at = |f: &Value, line: &str, column: &str| (f[line].as_u64().unwrap(), f[column].as_u64().unwrap());
    assert_eq!(at(not_in_table, "line", "column"), (9, 7), "the exclusion's place");
    assert_eq!(
        at(not_in_table, "finding_line", "finding_column"),
        (9, 40),
        "the field's place"
    );
    let mutes = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "FPX104")
        .unwrap();
    assert!(
        mutes["witness"]["Signer"].as_str().unwrap().contains("LogMeIn")
            || mutes["witness"]["Signer"].as_str().unwrap().contains("GoTo")
    );
}

#[test]
fn gate_controls() {
    let (_, code) = check_json(&["--fail-on", "never"]);
    assert_eq!(code, 0);
    let (report, code) = check_json(&["--select", "FPX105", "--fail-on", "warning"]);
    assert_eq!(code, 1);
    assert_eq!(report["summary"]["warnings"], 5);
    assert_eq!(report["summary"]["errors"], 0);
    let (report, code) = check_json(&["--select", "FPX105"]);
    assert_eq!(code, 0, "warnings pass the default gate");
    assert_eq!(report["summary"]["warnings"], 5);
    let (report, _) = check_json(&["--ignore", "FPX202,FPX201"]);
    let all: Vec<String> = report["results"].as_array().unwrap().iter().flat_map(codes).collect();
    assert!(!all.iter().any(|c| c == "FPX202" || c == "FPX201"));
    fpx().args(["check", "--select", "FPX999"]).assert().code(2);
}

#[test]
fn text_report_has_a_summary_table_and_snippets() {
    let out = fpx()
        .args([
            "check",
            "rules/litemanager-file-signature.yaml",
            "scenarios/litemanager-file-signature.yaml",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    insta::assert_snapshot!(text);
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.json");
    let out = fpx()
        .args(["check", "--format", "json", "--output"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.stdout.is_empty());
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(v["summary"]["rules"], 5);
}

const SEED: &str = "A test seed.
KQL Query
DeviceProcessEvents
| where FileName =~ 'agent.exe'
id: 11111111-2222-3333-4444-555555555555
name: Remote Management and Monitoring tool - Agent - Create Process
description: |
Test rule.
requiredDataConnectors:
- connectorId: MicrosoftThreatProtection
dataTypes:
- DeviceProcessEvents
tactics: CommandAndControl
relevantTechniques: T1219
query: |
DeviceProcessEvents
| where FileName =~ 'agent.exe'
Scenario: Admin runs the agent
Description: The admin runs it with the --update flag.
Filter/Exclusion: ProcessCommandLine contains \"--update\"
Scenario: Cut off
Filter/Exclusion: `FileName != ”";

#[test]
fn seed_documents_are_checked_directly_with_file_positions() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.txt");
    std::fs::write(&seed, SEED).unwrap();
    let (report, _) = check_json(&[seed.to_str().unwrap()]);
    let first = &report["results"][0];
    assert_eq!(
        codes(first),
        ["FPX304", "FPX305"],
        "an attacker can add --update to the command line; with no malicious template there is no FPX301, and nothing tested it (FPX305)"
    );
    let attack = first["findings"][0]["witness"]["ProcessCommandLine"].as_str().unwrap();
    assert!(attack.contains("--update"), "{attack}");
    assert_eq!(first["line"], 20);
    assert_eq!(first["column"], 19);
    assert_eq!(codes(&report["results"][1]), ["FPX001"]);
}

#[test]
fn import_is_idempotent_and_keeps_hand_written_templates() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.txt");
    std::fs::write(&seed, SEED).unwrap();
    let run = || {
        let out = fpx()
            .args(["import", "--out"])
            .arg(dir.path())
            .arg(&seed)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    let first = run();
    assert!(first.contains("wrote"), "{first}");
    assert!(first.contains("ends in the middle of its exclusion"), "{first}");
    let scenario_file = dir.path().join("scenarios/agent-create-process.yaml");
    let imported = std::fs::read_to_string(&scenario_file).unwrap();
    let second = run();
    assert_eq!(second.matches("unchanged").count(), 2, "{second}");
    let edited = imported
        .replacen("benign: []", "benign:\n      - {FileName: agent.exe}", 1)
        .replace("--update", "--upgrade");
    std::fs::write(&scenario_file, &edited).unwrap();
    let third = run();
    assert!(third.contains("kept"), "{third}");
    assert_eq!(
        std::fs::read_to_string(&scenario_file).unwrap(),
        edited,
        "hand-written templates survive"
    );
    // The imported files check as the seed does.
    let (report, _) = check_json(&[
        dir.path().join("rules").to_str().unwrap(),
        scenario_file.to_str().unwrap(),
    ]);
    assert_eq!(report["summary"]["scenarios"], 2);
}

#[test]
fn unreadable_files_are_named_and_the_rest_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/logmein-file-signature.yaml"),
        dir.path().join("rule.yaml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("broken.yaml"),
        "rule: x\nscenarios:\n  - name: [unclosed\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("binary.yaml"), b"query: \xff\n").unwrap();
    let out = fpx().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("broken.yaml:3:11: scenarios[0].name: invalid type"),
        "{text}"
    );
    assert!(text.contains("binary.yaml:1:8: not UTF-8 text: byte 0xFF"), "{text}");
    assert!(text.contains("1 rule, 0 scenarios"), "{text}");
    fpx().args(["check", "no/such/dir"]).assert().code(2);
}

/// The corpus: 168 rules load, each malformed (FPX402), 62 whose queries do not compile
/// (FPX403, the same set Kusto.Language rejects: see tests/kusto_agreement.rs), and
/// every rule gets a D (the datatable rule only compares with the datatable's rows).
#[test]
#[ignore = "needs ../shared"]
fn corpus_loads_with_168_detections() {
    let (report, code) = check_json(&["../shared/corpus/rmm-rules"]);
    assert_eq!(code, 1, "FPX403 errors fail the gate");
    let invalid = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| codes(r).contains(&"FPX403".to_string()))
        .count();
    assert_eq!(invalid, 62);
    assert_eq!(report["summary"]["rules"], 168);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 168);
    let malformed = results
        .iter()
        .filter(|r| codes(r).contains(&"FPX402".to_string()))
        .count();
    assert_eq!(malformed, 168);
    let without_d = results
        .iter()
        .filter(|r| {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["message"].as_str().unwrap().contains("without its detection logic"))
        })
        .count();
    assert_eq!(without_d, 0);
    let detections: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["detection"].as_str().unwrap())
        .collect();
    assert_eq!(detections.iter().filter(|d| **d == "exact").count(), 164);
    assert_eq!(detections.iter().filter(|d| **d == "none").count(), 0);
}

#[test]
fn same_seed_same_report_byte_for_byte() {
    let run = |seed: &str| {
        fpx()
            .args(["check", "--format", "json", "--seed", seed])
            .output()
            .unwrap()
            .stdout
    };
    let first = run("7");
    assert_eq!(first, run("7"));
    let v: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(v["summary"]["seed"], 7);
    let text = fpx().args(["check", "--seed", "7"]).output().unwrap().stdout;
    assert!(
        String::from_utf8(text)
            .unwrap()
            .contains("harness: seed 7 (replay with --seed 7)")
    );
}

#[test]
fn harness_can_be_switched_off() {
    let (report, _) = check_json(&["--cases", "0"]);
    assert_eq!(report["summary"]["seed"], Value::Null);
    let all: Vec<String> = report["results"].as_array().unwrap().iter().flat_map(codes).collect();
    assert!(!all.iter().any(|c| c.starts_with("FPX30") && c != "FPX304"));
    assert!(
        report["results"][0].get("stats").is_none(),
        "no stats without the harness"
    );
}

#[test]
fn statistics_count_every_generated_event() {
    let (report, _) = check_json(&[
        "--cases",
        "64",
        "rules/litemanager-file-signature.yaml",
        "scenarios/litemanager-file-signature.yaml",
    ]);
    let stats = &report["results"][0]["stats"];
    assert_eq!(stats["benign"], serde_json::json!({"suppressed": 0, "total": 64}));
    assert_eq!(stats["malicious"], serde_json::json!({"suppressed": 0, "total": 64}));
    assert_eq!(stats["alerts"]["total"], 64);
    assert_eq!(stats["events"], 192);
}

#[test]
fn quiet_prints_the_summary_only() {
    let out = fpx().args(["check", "--quiet", "--cases", "8"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("fpx: 5 rules, 25 scenarios"), "{text}");
    assert!(text.contains("gate: fail:"), "{text}");
    assert_eq!(
        text.lines().filter(|l| l.starts_with("  fail  rules/")).count(),
        5,
        "{text}"
    );
    assert!(!text.contains("error["), "{text}");
    assert!(text.lines().count() < 12, "{text}");
}

#[test]
fn a_scenario_naming_its_rule_by_name_is_told_to_use_the_id() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: 11111111-1111-1111-1111-111111111111\nname: PsExec run\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"psexec.exe\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "rule: PsExec run\nscenarios:\n  - name: admin\n    exclusion: InitiatingProcessFileName =~ \"deploy.exe\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "400")
        .args(["check", "r.yaml", "s.yaml", "--cases", "0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("FPX405"), "{stdout}");
    assert!(
        stdout.contains("`PsExec run` is the name of the loaded rule `11111111-1111-1111-1111-111111111111`; `rule:` takes the rule's id"),
        "{stdout}"
    );
}

#[test]
fn statistics_count_the_findings_per_code_and_keep_the_gate() {
    let (report, _) = check_json(&["--cases", "0"]);
    let run = |args: &[&str]| {
        Command::cargo_bin("fpx")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["check", "--cases", "0", "--statistics"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the bundled rules have errors: the gate is as without it"
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let counted: u64 = rows.iter().map(|r| r["count"].as_u64().unwrap()).sum();
    let total = report["summary"]["errors"].as_u64().unwrap()
        + report["summary"]["warnings"].as_u64().unwrap()
        + report["summary"]["infos"].as_u64().unwrap();
    assert_eq!(counted, total);
    let counts: Vec<u64> = rows.iter().map(|r| r["count"].as_u64().unwrap()).collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most first: {counts:?}");
    let text = String::from_utf8(run(&[]).stdout).unwrap();
    let first = &rows[0];
    assert!(
        text.lines().next().unwrap().contains(&format!(
            "{}  {}",
            first["code"].as_str().unwrap(),
            first["name"].as_str().unwrap()
        )),
        "{text}"
    );
}

#[test]
fn a_finding_in_a_double_quoted_query_is_placed_on_its_file_column() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: 11111111-1111-1111-1111-111111111111\nname: dq\nquery: \"DeviceProcessEvents | where FileName =~ \\\"psexec.exe\\\" | where FolderPath !contains \\\"a\\\" or FolderPath !contains \\\"b\\\"\"\n",
    )
    .unwrap();
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .args(["check", "r.yaml", "--cases", "0"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // `FolderPath` starts at column 72 of line 3 (the escaped quotes before it count).
    assert!(stdout.contains(" --> r.yaml:3:72\n"), "{stdout}");
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "r.yaml", "--cases", "0", "--format", "json"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = &report["results"][1]["findings"][0];
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(3), Some(72))
    );
}
