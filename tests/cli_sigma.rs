//! Sigma rules through the binary: recognised by content next to other rules, their
//! filters judged as inline exclusions, placed on their lines in the .yml file.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn check_json(args: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("COLUMNS", "100")
        .args(["check", "--cases", "0", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

fn codes(r: &Value) -> Vec<String> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sigma_filters_are_judged_as_inline_exclusions() {
    let (v, code) = check_json(&["tests/fixtures/sigma"]);
    assert_eq!(code, 1, "FPX202 is an error");
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    for r in rules {
        assert_eq!(r["format"], "sigma");
        assert_eq!(r["detection"], "exact");
    }
    let certutil = rules
        .iter()
        .find(|r| r["file"].as_str().unwrap().contains("certutil"))
        .unwrap();
    assert_eq!(certutil["table"], "sigma:windows/process_creation");
    assert_eq!(certutil["inline_exclusions"], 3);
    let inline = |text: &str| -> Value {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source"] == "inline" && r["exclusion"].as_str().unwrap().contains(text))
            .cloned()
            .unwrap_or_else(|| panic!("no filter with {text}"))
    };
    // The host-anchored filter (a parent and the SYSTEM account) passes.
    assert!(codes(&inline("CcmExec")).is_empty());
    // The attacker writes the domain into their own command line.
    let backup = inline("backup.contoso.com");
    assert_eq!(codes(&backup), ["FPX304"]);
    assert_eq!(
        (backup["line"].as_u64(), backup["column"].as_u64()),
        (Some(24), Some(9))
    );
    assert!(
        backup["file"]
            .as_str()
            .unwrap()
            .ends_with("proc_creation_win_susp_certutil.yml")
    );
    // A renamed certutil (its OriginalFileName kept) passes the bitsadmin filter.
    assert_eq!(codes(&inline("bitsadmin")), ["FPX304"]);
    // File events have no ParentUser: the filter never applies.
    let parent = inline("AUTHORITY");
    assert_eq!(codes(&parent), ["FPX105", "FPX202"]);
    assert_eq!(parent["line"], 15);
}

#[test]
fn sigma_and_kql_rules_are_read_side_by_side() {
    let (v, _) = check_json(&["tests/fixtures/sigma", "tests/fixtures/inline"]);
    let formats: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["format"].as_str().unwrap())
        .collect();
    assert!(formats.contains(&"sigma") && formats.contains(&"kql"), "{formats:?}");
    assert_eq!(v["summary"]["input_errors"], 0);
}

/// Every SigmaHQ rule in ../shared loads (no input error), with D exact for at least 97%.
#[test]
#[ignore = "needs ../shared"]
fn the_sigmahq_corpus_loads_with_exact_detections() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma");
    let (v, _) = check_json(&[
        root.join("rules").to_str().unwrap(),
        root.join("rules-placeholder").to_str().unwrap(),
    ]);
    assert_eq!(v["summary"]["input_errors"], 0, "{}", v["errors"]);
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 3164);
    let exact = rules.iter().filter(|r| r["detection"] == "exact").count();
    assert!(exact * 100 >= rules.len() * 97, "{exact} of {} exact", rules.len());
    let inline: u64 = rules.iter().map(|r| r["inline_exclusions"].as_u64().unwrap()).sum();
    assert!(inline > 1500, "{inline} filters read as inline exclusions");
}

/// Sigma meta-filters are exclusions of the rules they name (`"source": "meta-filter"`).
#[test]
fn meta_filters_are_exclusions_of_the_rules_they_name() {
    let (v, _) = check_json(&["tests/fixtures/sigma-meta"]);
    assert_eq!(v["summary"]["input_errors"], 0, "{}", v["errors"]);
    let meta: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["source"] == "meta-filter")
        .collect();
    assert_eq!(meta.len(), 2);
    let admins = meta
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("mf_certutil_admins.yml"))
        .unwrap();
    assert!(
        codes(admins).is_empty(),
        "an admin account prefix is not the attacker's choice"
    );
    assert_eq!(
        (admins["line"].as_u64(), admins["column"].as_u64()),
        (Some(10), Some(5))
    );
    let everything = meta
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("mf_certutil_everything.yml"))
        .unwrap();
    assert_eq!(codes(everything), ["FPX304"], "any .exe name is the attacker's choice");
    // The rule's own bitsadmin filter adds nothing to the meta-filter on every .exe.
    let bitsadmin = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "inline" && r["exclusion"].as_str().unwrap().contains("bitsadmin"))
        .unwrap();
    assert_eq!(codes(bitsadmin), ["FPX304", "FPX107"]);
}

/// A scenario file can name a Sigma rule: its exclusion and templates use the log
/// source's fields, and the harness generates events with them.
#[test]
fn scenarios_of_a_sigma_rule_run_the_harness() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("tests/fixtures/sigma/proc_creation_win_susp_certutil.yml"),
        dir.path().join("rule.yml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scenarios.yaml"),
        r#"rule: 6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
scenarios:
  - name: Backup job
    exclusion: User =~ "CONTOSO\\svc_backup" and ParentImage endswith "\\backup.exe"
    benign:
      - {Image: 'C:\Windows\System32\certutil.exe', CommandLine: 'certutil -urlcache -f http://x', User: 'CONTOSO\svc_backup', ParentImage: 'C:\Tools\backup.exe'}
    malicious:
      - {Image: 'C:\Windows\System32\certutil.exe', CommandLine: 'certutil -urlcache -f http://evil', User: 'CONTOSO\alice'}
"#,
    )
    .unwrap();
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .args(["check", "--cases", "32", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source"] == "scenario")
        .unwrap();
    assert!(codes(s).is_empty(), "{s}");
    assert_eq!(s["stats"]["benign"]["suppressed"], s["stats"]["benign"]["total"]);
    assert_eq!(s["stats"]["malicious"]["suppressed"], 0);
    assert!(s["stats"]["alerts"]["total"].as_u64().unwrap() > 0);
}

/// SARIF and Markdown place a Sigma filter's finding on its line of the .yml file.
#[test]
fn sarif_and_markdown_point_into_the_yml_file() {
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "--cases",
            "0",
            "--format",
            "sarif",
            "tests/fixtures/sigma/file_event_win_dead_filter.yml",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &v["runs"][0]["results"][0];
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "tests/fixtures/sigma/file_event_win_dead_filter.yml"
    );
    assert_eq!(location["region"]["startLine"], 15);
    assert_eq!(location["region"]["startColumn"], 9);
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "--cases",
            "0",
            "--format",
            "markdown",
            "tests/fixtures/sigma/file_event_win_dead_filter.yml",
        ])
        .output()
        .unwrap();
    let markdown = String::from_utf8(out.stdout).unwrap();
    assert!(
        markdown.contains("`tests/fixtures/sigma/file_event_win_dead_filter.yml:15:9`"),
        "{markdown}"
    );
}

/// A meta-filter none of whose rules is loaded checks nothing: FPX405 on its `rules:`.
#[test]
fn a_meta_filter_without_its_rules_is_an_orphan() {
    let (v, code) = check_json(&[
        "tests/fixtures/sigma-meta/mf_certutil_admins.yml",
        "tests/fixtures/sigma",
    ]);
    assert_eq!(code, 1);
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("tests/fixtures/sigma-meta/mf_certutil_admins.yml"),
        dir.path().join("mf.yml"),
    )
    .unwrap();
    std::fs::copy(
        root.join("tests/fixtures/sigma/file_event_win_dead_filter.yml"),
        dir.path().join("rule.yml"),
    )
    .unwrap();
    let (orphaned, code) = check_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(code, 1);
    let finding = orphaned["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .find(|f| f["code"] == "FPX405")
        .unwrap_or_else(|| panic!("{orphaned}"))
        .clone();
    assert_eq!(finding["finding_line"], 8, "{finding}");
    assert_eq!(finding["finding_column"], 5);
    // With its rule loaded it is no orphan.
    assert!(
        !v["results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["findings"].as_array().unwrap())
            .any(|f| f["code"] == "FPX405")
    );
}

/// SigmaHQ PR #6038's shape: a filter after `a or b or c and` binds to the last branch
/// by precedence, and the event it describes alerts through the first: FPX109 with that
/// event. With parentheses around its branch the scope is deliberate: no finding.
#[test]
fn a_filter_bound_to_one_branch_by_precedence_is_fpx109() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |condition: &str| {
        format!(
            "title: Event log cleared\nid: 6e0a1b2c-0000-4000-8000-000000006038\nstatus: test\ndescription: fpx test rule\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection_wevtutil:\n        Image|endswith: '\\wevtutil.exe'\n        CommandLine|contains: ' sl '\n    selection_wmic:\n        Image|endswith: '\\wmic.exe'\n        CommandLine|contains: 'ClearEventLog'\n    filter_main_msiexec:\n        ParentImage|endswith: '\\msiexec.exe'\n    condition: {condition}\nlevel: high\n"
        )
    };
    let codes_of = |condition: &str| {
        std::fs::write(dir.path().join("r.yml"), rule(condition)).unwrap();
        let path = dir.path().join("r.yml");
        let (v, _) = check_json(&[path.to_str().unwrap()]);
        let inline: Vec<Value> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["source"] == "inline")
            .cloned()
            .collect();
        inline.iter().flat_map(codes).collect::<Vec<_>>()
    };
    let fpx109 = |condition: &str| codes_of(condition).contains(&"FPX109".to_string());
    assert!(fpx109(
        "selection_wevtutil or selection_wmic and not filter_main_msiexec"
    ));
    assert!(!fpx109(
        "selection_wevtutil or (selection_wmic and not filter_main_msiexec)"
    ));
    assert!(!fpx109(
        "(selection_wevtutil or selection_wmic) and not filter_main_msiexec"
    ));
}

/// A filter whose effect on the alerts fpx cannot decide (the selection's regex only
/// matches texts over 4,096 bytes) is FPX401 saying so, not a silent pass, and the
/// check ends at once (`|re: 'a{30000}'` took 6 s, a KQL `a{40000}` over a minute).
#[test]
fn an_undecided_filter_is_fpx401_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |repeat: usize| {
        format!(
            "title: Long regex\nid: 6e0a1b2c-0000-4000-8000-000000000401\nstatus: test\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        CommandLine|re: 'a{{{repeat}}}'\n    filter:\n        Image|endswith: '\\x.exe'\n    condition: selection and not filter\nlevel: high\n"
        )
    };
    let filter_codes = |repeat: usize| {
        let path = dir.path().join("r.yml");
        std::fs::write(&path, rule(repeat)).unwrap();
        let (v, code) = check_json(&[path.to_str().unwrap()]);
        let inline = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source"] == "inline")
            .cloned();
        (codes(&inline.expect("the filter is judged")), code)
    };
    assert_eq!(filter_codes(30_000), (vec!["FPX401".to_string()], 0));
    // Decided: the image name is the attacker's to choose.
    assert_eq!(filter_codes(30), (vec!["FPX304".to_string()], 0));
}

/// A condition nested 5,000 levels deep is an input error that says so once, not a
/// crash (rsigma's message repeated its prefix at every level).
#[test]
fn a_deeply_nested_condition_is_one_clear_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.yml");
    let condition = format!("{}selection{} and not filter", "(".repeat(5_000), ")".repeat(5_000));
    std::fs::write(
        &path,
        format!("title: Deep\nid: 6e0a1b2c-0000-4000-8000-000000000064\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\x.exe'\n    filter:\n        User: bob\n    condition: {condition}\n"),
    )
    .unwrap();
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .args(["check", "--cases", "0"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not a readable Sigma rule: Condition parse error at 1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stack limit reached") || stderr.contains("maximum depth"),
        "{stderr}"
    );
    assert!(stderr.len() < 1_000, "{stderr}");
    assert_eq!(stderr.matches("Condition parse error").count(), 1, "{stderr}");
}

/// Issue 27 on SigmaHQ: every filter with FPX106 is fixed in its YAML (`--diff` writes
/// nothing, so it runs on `../shared` in place), and only list values and items go.
#[test]
#[ignore = "needs ../shared"]
fn every_redundant_sigmahq_filter_is_fixed_in_its_yaml() {
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma/rules");
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .args(["fix", "--unsafe", "--diff"])
        .arg(&rules)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(diff.contains("would fix 11 exclusions in 10 files"), "{diff}");
    // Lines are only taken away, never added or rewritten.
    assert!(
        !diff.lines().any(|l| l.starts_with('+') && !l.starts_with("+++")),
        "{diff}"
    );
    assert_eq!(diff.lines().filter(|l| l.starts_with("---")).count(), 10);
}
