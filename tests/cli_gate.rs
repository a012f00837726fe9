//! The gate the user controls, through the binary: `--select`/`--ignore` with
//! prefixes, baselines, `fpx.toml` and `[tool.fpx]`, `fpx: ignore[...]` comments in
//! rule files, `exclude` and `.gitignore`, and the GitHub annotations format. Every
//! one reaches findings on inline exclusions (Sigma filters, KQL `where` clauses) and
//! orphan scenario files as well as scenarios'.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// A temporary project holding the certutil Sigma rule (two filters with FPX304) and
/// an orphan scenario file (FPX405), plus whatever `extra` files are given.
fn project(extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    let sigma = std::fs::read_to_string(format!("{FIXTURES}/sigma/proc_creation_win_susp_certutil.yml")).unwrap();
    std::fs::write(rules.join("certutil.yml"), sigma).unwrap();
    let orphan = std::fs::read_to_string(format!("{FIXTURES}/gate/anydesk-scenarios.yaml")).unwrap();
    std::fs::write(rules.join("orphan-scenarios.yaml"), orphan).unwrap();
    for (name, text) in extra {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn fpx(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(dir)
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

/// `check --format json` in `dir` (rules/ by default): the report and the exit code.
fn check(dir: &Path, args: &[&str]) -> (Value, i32) {
    let out = fpx(dir, &[&["check", "--cases", "0", "--format", "json"], args].concat());
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (report, out.status.code().unwrap())
}

/// Every reported finding: (code, file name, line).
fn findings(report: &Value) -> Vec<(String, String, u64)> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| {
            let file = Path::new(f["file"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string();
            (
                f["code"].as_str().unwrap().to_string(),
                file,
                f["finding_line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn codes(report: &Value) -> Vec<String> {
    let mut codes: Vec<String> = findings(report).into_iter().map(|f| f.0).collect();
    codes.sort();
    codes
}

#[test]
fn ignore_and_select_reach_inline_and_orphan_findings_with_prefixes() {
    let dir = project(&[]);
    let (report, code) = check(dir.path(), &["rules"]);
    assert_eq!(codes(&report), ["FPX304", "FPX304", "FPX405"]);
    assert_eq!(code, 1, "FPX405 is an error");
    let (report, code) = check(dir.path(), &["rules", "--ignore", "FPX304,FPX405"]);
    assert!(codes(&report).is_empty(), "{:?}", codes(&report));
    assert_eq!(code, 0, "an ignored error does not fail the gate");
    let (report, _) = check(dir.path(), &["rules", "--select", "FPX3"]);
    assert_eq!(codes(&report), ["FPX304", "FPX304"]);
    let (report, code) = check(
        dir.path(),
        &["rules", "--select", "FPX3", "--ignore", "attacker-controllable"],
    );
    assert!(codes(&report).is_empty());
    assert_eq!(code, 0);
    let out = fpx(dir.path(), &["check", "rules", "--ignore", "FPX9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`FPX9` is not a finding code"));
}

#[test]
fn a_baseline_records_every_finding_and_the_next_run_has_none_new() {
    let dir = project(&[]);
    let out = fpx(
        dir.path(),
        &["check", "rules", "--cases", "0", "--write-baseline", "baseline.json"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("(3 findings)"));
    let baseline: Value = serde_json::from_slice(&std::fs::read(dir.path().join("baseline.json")).unwrap()).unwrap();
    assert_eq!(
        baseline["findings"].as_array().unwrap().len(),
        3,
        "inline and orphan findings too"
    );
    let out = fpx(
        dir.path(),
        &["check", "rules", "--cases", "0", "--baseline", "baseline.json"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("baseline: 0 new findings, 3 known"), "{text}");
}

#[test]
fn fpx_toml_is_found_upward_and_its_keys_apply() {
    let toml = "paths = [\"rules\"]\nignore = [\"FPX405\"]\nfail-on = \"warning\"\n\n[severity]\nFPX304 = \"info\"\n";
    let dir = project(&[("fpx.toml", toml), ("sub/README.md", "x")]);
    // No path given: the configuration's `paths`, found from a subdirectory.
    let (report, code) = check(&dir.path().join("sub"), &[]);
    assert_eq!(codes(&report), ["FPX304", "FPX304"]);
    let severities: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["info", "info"]);
    assert_eq!(code, 0, "info is below fail-on warning");
    // Flags win: --fail-on info fails on the info findings.
    let (_, code) = check(&dir.path().join("sub"), &["--fail-on", "info"]);
    assert_eq!(code, 1);
    // --isolated ignores the file.
    let (report, _) = check(dir.path(), &["rules", "--isolated"]);
    assert_eq!(codes(&report), ["FPX304", "FPX304", "FPX405"]);
}

#[test]
fn per_file_ignores_and_pyproject_tool_fpx() {
    let pyproject = "[project]\nname = \"rules\"\n\n[tool.fpx]\nselect = [\"ALL\"]\n\n[tool.fpx.per-file-ignores]\n\"rules/*.yml\" = [\"FPX3\"]\n";
    let dir = project(&[("pyproject.toml", pyproject)]);
    let (report, _) = check(dir.path(), &["rules"]);
    assert_eq!(
        codes(&report),
        ["FPX405"],
        "the .yml rule's FPX304 are ignored, the .yaml orphan is not"
    );
}

#[test]
fn a_configuration_error_is_an_input_error_at_its_line() {
    let dir = project(&[("fpx.toml", "select = [\"FPX1\"]\nignroe = [\"FPX304\"]\n")]);
    let out = fpx(dir.path(), &["check", "rules"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fpx.toml:2:1: unknown key `ignroe`; did you mean `ignore`?"),
        "{stderr}"
    );
}

/// The certutil rule with `comment` written on the line above `filter_optional_backup:`.
fn commented(comment: &str) -> String {
    let sigma = std::fs::read_to_string(format!("{FIXTURES}/sigma/proc_creation_win_susp_certutil.yml")).unwrap();
    sigma.replace(
        "    filter_optional_backup:",
        &format!("    {comment}\n    filter_optional_backup:"),
    )
}

#[test]
fn a_comment_silences_exactly_one_filters_finding_and_the_reports_keep_it() {
    let rule = commented("# fpx: ignore[FPX304] backup.contoso.com is only reachable from the backup VLAN");
    let dir = project(&[("rules/certutil.yml", &rule)]);
    let (report, code) = check(dir.path(), &["rules", "--ignore", "FPX405"]);
    assert_eq!(code, 0);
    let left = findings(&report);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].0, "FPX304");
    assert!(
        rule.lines().nth(left[0].2 as usize - 1).unwrap().contains("bitsadmin"),
        "the other filter's stays"
    );
    assert_eq!(report["summary"]["suppressed"], 1);
    let silenced: Vec<&Value> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.get("suppressed"))
        .flat_map(|s| s.as_array().unwrap())
        .collect();
    assert_eq!(silenced.len(), 1);
    assert_eq!(silenced[0]["code"], "FPX304");
    assert_eq!(silenced[0]["suppression"]["kind"], "comment");
    assert_eq!(
        silenced[0]["suppression"]["reason"],
        "backup.contoso.com is only reachable from the backup VLAN"
    );
    // SARIF keeps it as a result suppressed in source.
    let out = fpx(
        dir.path(),
        &[
            "check", "rules", "--cases", "0", "--format", "sarif", "--ignore", "FPX405",
        ],
    );
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let suppressed: Vec<&Value> = results.iter().filter(|r| r.get("suppressions").is_some()).collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    // The text report says how many were suppressed.
    let out = fpx(dir.path(), &["check", "rules", "--cases", "0", "--ignore", "FPX405"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 finding suppressed (0 by scenario `ignore:` entries, 1 by `fpx: ignore` comments)"),
        "{text}"
    );
}

#[test]
fn a_kql_comment_silences_an_inline_exclusion_on_its_line_or_below() {
    let rule = "id: 3b9f4c2a-6d1e-4f7a-9c8b-2e5d7a1f0c64\nname: PowerShell bypass\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"powershell.exe\"\n  // fpx: ignore[FPX304] the build agents sign their scripts\n  | where ProcessCommandLine !contains \"-File C:\\\\build\\\\\"\n";
    let dir = project(&[("kql/rule.yaml", rule)]);
    let (before, _) = check(dir.path(), &["kql", "--isolated", "--select", "FPX304"]);
    assert!(codes(&before).is_empty(), "{:?}", findings(&before));
    assert_eq!(before["summary"]["suppressed"], 1, "{before}");
    let unsilenced = rule.replace("  // fpx: ignore[FPX304] the build agents sign their scripts\n", "");
    std::fs::write(dir.path().join("kql/rule.yaml"), unsilenced).unwrap();
    let (after, _) = check(dir.path(), &["kql", "--isolated", "--select", "FPX304"]);
    assert_eq!(codes(&after), ["FPX304"]);
}

#[test]
fn an_unused_comment_is_fpx406_and_one_without_a_reason_is_an_input_error() {
    let rule = commented("# fpx: ignore[FPX105] this filter is fine");
    let dir = project(&[("rules/certutil.yml", &rule)]);
    let (report, _) = check(dir.path(), &["rules", "--ignore", "FPX405"]);
    let unused: Vec<_> = findings(&report).into_iter().filter(|f| f.0 == "FPX406").collect();
    assert_eq!(unused.len(), 1);
    assert!(
        rule.lines()
            .nth(unused[0].2 as usize - 1)
            .unwrap()
            .contains("fpx: ignore[FPX105]")
    );
    let rule = commented("# fpx: ignore[FPX304]");
    let dir = project(&[("rules/certutil.yml", &rule)]);
    let out = fpx(dir.path(), &["check", "rules"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certutil.yml:23:5: `fpx: ignore[FPX304]` needs a reason"),
        "{stderr}"
    );
}

#[test]
fn exclude_globs_and_gitignore_keep_copies_out() {
    let copy = std::fs::read_to_string(format!("{FIXTURES}/sigma/file_event_win_dead_filter.yml")).unwrap();
    let dir = project(&[
        ("rules/old/dead.yml", &copy),
        ("rules/tmp/dead.yml", &copy),
        (".gitignore", "tmp/\n"),
        ("fpx.toml", "exclude = [\"rules/old\"]\n"),
    ]);
    let (report, _) = check(dir.path(), &["rules"]);
    let rules = report["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{rules:?}");
    let (report, _) = check(dir.path(), &["rules", "--isolated"]);
    assert_eq!(
        report["rules"].as_array().unwrap().len(),
        2,
        "no exclude, .gitignore still respected"
    );
    std::fs::write(dir.path().join("fpx.toml"), "respect-gitignore = false\n").unwrap();
    let (report, _) = check(dir.path(), &["rules"]);
    assert_eq!(report["rules"].as_array().unwrap().len(), 3);
}

#[test]
fn github_format_annotates_each_finding_at_its_line() {
    let dir = project(&[]);
    let out = fpx(dir.path(), &["check", "rules", "--cases", "0", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::warning file=rules/certutil.yml,line=24,col=")
                && l.contains("title=FPX304 attacker-controllable::")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("::error file=rules/orphan-scenarios.yaml,line=2,")),
        "{text}"
    );
    assert_eq!(
        lines.last().unwrap(),
        &"fpx: 3 findings, 1 failing the gate, 0 suppressed"
    );
}

/// A Sigma rule: `title`, `id`, process_creation, and the `detection` lines given.
fn sigma(title: &str, id: &str, detection: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n{detection}"
    )
}

#[test]
fn every_document_of_a_multi_document_sigma_file_is_a_rule() {
    let a = sigma(
        "A",
        "11111111-1111-4111-8111-111111111111",
        "    selection:\n        Image|endswith: '\\a.exe'\n    condition: selection\n",
    );
    let b = sigma(
        "B",
        "22222222-2222-4222-8222-222222222222",
        "    selection:\n        Image|endswith: '\\b.exe'\n    filter:\n        CommandLine|contains: 'x'\n    condition: selection and not filter\n",
    );
    let text = format!("{a}---\n{b}");
    let dir = project(&[("multi/two.yml", &text)]);
    let (report, _) = check(dir.path(), &["multi"]);
    let ids: Vec<&str> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "11111111-1111-4111-8111-111111111111",
            "22222222-2222-4222-8222-222222222222"
        ]
    );
    // The second rule's filter is placed on its line of the file.
    let f = findings(&report);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        text.lines()
            .nth(f[0].2 as usize - 1)
            .unwrap()
            .contains("CommandLine|contains: 'x'")
    );
}

#[test]
fn a_near_miss_key_is_an_input_error_naming_the_key_and_a_stray_yaml_file_is_counted() {
    let rule = sigma(
        "A",
        "11111111-1111-4111-8111-111111111111",
        "    selection:\n        Image|endswith: '\\a.exe'\n    condition: selection\n",
    );
    let kql = "id: k\nname: k\nqeury: |\n  DeviceProcessEvents | where FileName =~ \"a.exe\"\n";
    for (name, text, expected) in [
        (
            "detecton.yml",
            rule.replace("detection:", "detecton:"),
            "detecton.yml:6:1: `detecton:` is not a key fpx knows; did you mean `detection:`?",
        ),
        (
            "log_source.yml",
            rule.replace("logsource:", "log_source:"),
            "log_source.yml:3:1: `log_source:` is not a key fpx knows; did you mean `logsource:`?",
        ),
        (
            "qeury.yaml",
            kql.to_string(),
            "qeury.yaml:3:1: `qeury:` is not a key fpx knows; did you mean `query:`?",
        ),
        (
            "half.yml",
            rule.replace("logsource:\n    category: process_creation\n    product: windows\n", ""),
            "half.yml:3:1: a Sigma rule needs `logsource:` as well as `detection:`",
        ),
    ] {
        let dir = project(&[(&format!("scan/{name}"), &text), ("scan/ok.yml", &rule)]);
        let out = fpx(dir.path(), &["check", "scan", "--cases", "0"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    let dir = project(&[
        ("scan/ok.yml", &rule),
        ("scan/.github/workflow.yml", "name: ci\non: push\njobs: {}\n"),
    ]);
    let (report, code) = check(dir.path(), &["scan"]);
    assert_eq!(code, 0);
    assert_eq!(report["summary"]["skipped"], 1);
    assert!(report["skipped"][0].as_str().unwrap().ends_with("workflow.yml"));
}

#[test]
fn an_undefined_sigma_selection_or_an_empty_pattern_fails_the_gate() {
    let detection = "    selection:\n        Image|endswith: '\\a.exe'\n    filter_main_sccm:\n        ParentImage|endswith: '\\CcmExec.exe'\n";
    for (condition, expected) in [
        (
            "selection and not filter_main_sccmm",
            "the condition names `filter_main_sccmm`, which the rule does not define",
        ),
        (
            "selection and not 1 of filter_mian_*",
            "the condition's `filter_mian_*` matches no selection of the rule",
        ),
    ] {
        let rule = sigma(
            "A",
            "11111111-1111-4111-8111-111111111111",
            &format!("{detection}    condition: {condition}\n"),
        );
        let dir = project(&[("typo/a.yml", &rule)]);
        let (report, code) = check(dir.path(), &["typo"]);
        assert_eq!(code, 1, "{condition}");
        let f = &report["results"][0]["findings"][0];
        assert_eq!(f["code"], "FPX403", "{report}");
        // Once, although the condition is lowered for the rule and for its filters.
        let errors = report["results"][0]["findings"].as_array().unwrap();
        assert_eq!(errors.iter().filter(|e| e["code"] == "FPX403").count(), 1, "{report}");
        assert!(f["message"].as_str().unwrap().contains(expected), "{f}");
        assert!(f["help"].as_str().unwrap().contains("filter_main_sccm"), "{f}");
    }
}

#[test]
fn a_meta_filter_fpx_cannot_lower_is_fpx401() {
    let rule = std::fs::read_to_string(format!("{FIXTURES}/sigma-meta/proc_creation_win_susp_certutil.yml")).unwrap();
    let meta = std::fs::read_to_string(format!("{FIXTURES}/sigma-meta/mf_certutil_admins.yml"))
        .unwrap()
        .replace("User|startswith: 'adm_'", "User|expand: '%admins%'");
    let dir = project(&[("meta/rule.yml", &rule), ("meta/mf.yml", &meta)]);
    let (report, _) = check(dir.path(), &["meta"]);
    let result = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "meta-filter")
        .unwrap();
    let codes: Vec<&str> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["FPX401"], "{result}");
}

/// The bundled LogMeIn rule with one scenario whose exclusion is always true (FPX101),
/// with the `ignore:` entries given.
fn logmein_with_ignores(ignore: &str) -> tempfile::TempDir {
    let rule = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/logmein-file-signature.yaml"
    ))
    .unwrap();
    let id = rule
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .trim()
        .to_string();
    let scenarios = format!(
        "rule: {id}\nscenarios:\n  - name: helpdesk\n    exclusion: Signer != \"LogMeIn\" or Signer != \"GoTo\"\n    ignore:\n{ignore}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rule.yaml"), rule).unwrap();
    std::fs::write(dir.path().join("scenarios.yaml"), scenarios).unwrap();
    dir
}

#[test]
fn scenario_ignore_entries_are_suppressions_and_bad_or_unused_ones_are_said() {
    let dir = logmein_with_ignores("      - {code: FPX101, reason: reviewed}\n      - {code: FPX102, reason: stale}\n");
    let (report, _) = check(dir.path(), &["."]);
    let codes = codes(&report);
    assert!(!codes.contains(&"FPX101".to_string()), "{codes:?}");
    assert!(
        codes.contains(&"FPX406".to_string()),
        "the FPX102 entry silences nothing: {codes:?}"
    );
    let silenced = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["scenario"] == "helpdesk")
        .unwrap()["suppressed"]
        .clone();
    assert_eq!(silenced[0]["code"], "FPX101");
    assert_eq!(
        silenced[0]["suppression"],
        serde_json::json!({"kind": "scenario-ignore", "reason": "reviewed"})
    );
    let dir = logmein_with_ignores("      - {code: FPX999, reason: typo}\n");
    let out = fpx(dir.path(), &["check", ".", "--cases", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("scenarios.yaml:6:1: scenario \"helpdesk\": `FPX999` is not a finding code"),
        "{stderr}"
    );
}
