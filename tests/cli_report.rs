//! Output formats, gate controls and `fpx fix`, driven through the binary.

use std::collections::HashSet;
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

/// The bundled seeds in a format, with a small harness run (deterministic).
fn report(format: &str, extra: &[&str]) -> (String, i32) {
    let out = fpx()
        .args(["check", "--cases", "16", "--format", format])
        .args(extra)
        .output()
        .unwrap();
    (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
}

#[test]
fn json_snapshot() {
    insta::assert_snapshot!(
        report(
            "json",
            &[
                "rules/litemanager-file-signature.yaml",
                "scenarios/litemanager-file-signature.yaml"
            ]
        )
        .0
    );
}

#[test]
fn sarif_snapshot() {
    let (sarif, _) = report(
        "sarif",
        &[
            "rules/logmein-file-signature.yaml",
            "scenarios/logmein-file-signature.yaml",
        ],
    );
    let v: Value = serde_json::from_str(&sarif).unwrap();
    // The rules' help is the long documentation; the snapshot keeps the results.
    insta::assert_snapshot!(serde_json::to_string_pretty(&v["runs"][0]["results"]).unwrap());
}

#[test]
fn junit_snapshot() {
    insta::assert_snapshot!(report("junit", &[]).0);
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(report("markdown", &[]).0);
}

/// The parts of SARIF 2.1.0 that GitHub code scanning requires, checked explicitly.
#[test]
fn sarif_has_the_structure_github_accepts() {
    let (sarif, code) = report("sarif", &[]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &v["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "fpx");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        ids.len(),
        "rule ids are unique"
    );
    for r in rules {
        for key in [
            "name",
            "shortDescription",
            "fullDescription",
            "help",
            "defaultConfiguration",
        ] {
            assert!(r.get(key).is_some(), "{} lacks {key}", r["id"]);
        }
        assert!(!r["fullDescription"]["text"].as_str().unwrap().is_empty());
        assert!(r["help"]["text"].as_str().unwrap().contains("## Example"));
        assert!(["error", "warning", "note"].contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 120);
    let mut fingerprints = HashSet::new();
    for r in results {
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(r["ruleId"], rules[index]["id"]);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let location = &r["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            !uri.starts_with("./") && !uri.starts_with('/') && !uri.contains('\\'),
            "{uri}"
        );
        let line = location["region"]["startLine"].as_u64().unwrap() as usize;
        let column = location["region"]["startColumn"].as_u64().unwrap() as usize;
        assert!(line >= 1 && column >= 1);
        // Every finding is on the right line: the file has text there.
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(uri)).unwrap();
        let at = text.lines().nth(line - 1).unwrap();
        assert!(at.chars().count() >= column, "{uri}:{line}:{column}");
        assert!(fingerprints.insert(r["partialFingerprints"]["fpxFinding/v1"].as_str().unwrap().to_string()));
    }
    // The LogMeIn exclusion #1 is on line 9, column 7 of its scenario file.
    let first = results
        .iter()
        .find(|r| {
            r["ruleId"] == "FPX103"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    == "scenarios/logmein-file-signature.yaml"
        })
        .unwrap();
    assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startLine"], 9);
    assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startColumn"], 7);
}

#[test]
fn exit_codes_for_each_fail_on() {
    let litemanager = [
        "rules/litemanager-file-signature.yaml",
        "scenarios/litemanager-file-signature.yaml",
    ];
    let code = |fail_on: &str, select: &str| {
        let out = fpx()
            .args(["check", "--cases", "8", "--fail-on", fail_on, "--select", select])
            .args(litemanager)
            .output()
            .unwrap();
        out.status.code().unwrap()
    };
    // FPX105 is a warning, FPX201 an error, FPX107 (none here) an info.
    assert_eq!(code("error", "FPX105"), 0);
    assert_eq!(code("warning", "FPX105"), 1);
    assert_eq!(code("info", "FPX105"), 1);
    assert_eq!(code("never", "FPX201"), 0);
    assert_eq!(code("error", "FPX201"), 1);
    assert_eq!(code("info", "FPX107"), 0);
}

#[test]
fn baseline_round_trip_fails_only_on_new_findings() {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["rules", "scenarios"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let copy = |p: &str| std::fs::copy(root.join(p), dir.path().join(p)).unwrap();
    copy("rules/litemanager-file-signature.yaml");
    copy("scenarios/litemanager-file-signature.yaml");
    let baseline = dir.path().join("baseline.json");
    let check = |extra: &[&str]| {
        let out = Command::cargo_bin("fpx")
            .unwrap()
            .current_dir(dir.path())
            .args(["check", "--cases", "8"])
            .args(extra)
            .output()
            .unwrap();
        (String::from_utf8(out.stdout).unwrap(), out.status.code().unwrap())
    };
    let (text, code) = check(&["--write-baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 0, "writing the baseline is the job");
    assert!(!text.contains("baseline:"), "no baseline is in use yet:\n{text}");
    let (text, code) = check(&["--baseline", baseline.to_str().unwrap()]);
    assert_eq!(code, 0, "everything is known");
    assert!(
        text.contains("gate: pass: no finding at or above error; baseline: 0 new findings, 20 known"),
        "{text}"
    );
    // Reordering scenarios and unrelated edits keep the identities.
    let path = dir.path().join("scenarios/litemanager-file-signature.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let reordered = format!(
        "# reviewed 2026-11\n{}",
        text.replace("description: An admin schedules", "description: The admin schedules")
    );
    std::fs::write(&path, &reordered).unwrap();
    assert_eq!(
        check(&["--baseline", baseline.to_str().unwrap()]).1,
        0,
        "unrelated edits are not new findings"
    );
    // A changed exclusion is new.
    std::fs::write(
        &path,
        reordered.replacen("\"Task Scheduler\"", "\"Task Scheduler 2\"", 1),
    )
    .unwrap();
    let (text, _) = check(&["--baseline", baseline.to_str().unwrap(), "--quiet"]);
    assert!(
        text.contains("gate: fail: 3 findings at or above error; baseline: 4 new findings, 16 known"),
        "{text}"
    );
    let (text, code) = check(&["--baseline", baseline.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&text).unwrap();
    let states: HashSet<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert_eq!(states, HashSet::from(["new", "unchanged"]));
}

#[test]
fn scenario_ignores_need_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("rules/litemanager-file-signature.yaml"),
        dir.path().join("rule.yaml"),
    )
    .unwrap();
    let scenarios = std::fs::read_to_string(root.join("scenarios/litemanager-file-signature.yaml")).unwrap();
    let with_reason = scenarios.replacen(
        "    benign:\n",
        "    ignore:\n      - {code: FPX201, reason: \"the SIEM adds this field at ingestion\"}\n    benign:\n",
        1,
    );
    std::fs::write(dir.path().join("s.yaml"), &with_reason).unwrap();
    let out = fpx()
        .args(["check", "--cases", "8", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first: Vec<&str> = v["results"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!first.contains(&"FPX201"), "{first:?}");
    let second: Vec<&str> = v["results"][1]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(second.contains(&"FPX201"), "only that scenario is silenced");
    std::fs::write(
        dir.path().join("s.yaml"),
        scenarios.replacen("    benign:\n", "    ignore: [FPX201]\n    benign:\n", 1),
    )
    .unwrap();
    let out = fpx().args(["check", "--cases", "8"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ignoring FPX201 needs a reason"));
}

const COMMENTED: &str = "# Hand-written scenarios: comments and order must survive `fpx fix`.
rule: 9fa78c8e-b5cb-4189-9888-1af7cca7ddb3   # LogMeIn
scenarios:
  # the inverted one
  - name: Support session
    exclusion: 'process.name != \"LogMeIn.exe\" OR process.parent.name != \"LogMeIn.exe\"'
    benign: [{Signer: \"LogMeIn, Inc.\"}]   # keep this
  - name: Quoted
    exclusion: |-
      `process.name == “LogMeIn.exe”`
    malicious:
      - {Signer: 'GoTo, Inc'}
";

#[test]
fn fix_preserves_everything_else_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("rules/logmein-file-signature.yaml"),
        dir.path().join("rule.yaml"),
    )
    .unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, COMMENTED).unwrap();
    let fix = |extra: &[&str]| fpx().arg("fix").args(extra).arg(dir.path()).output().unwrap();
    // --diff writes nothing. The negation of the inverted one is refused: its scenario's
    // benign template (a signer, no process) would no longer be suppressed (FPX302).
    let diff = fix(&["--unsafe", "--diff"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), COMMENTED);
    let stderr = String::from_utf8(diff.stderr).unwrap();
    let diff = String::from_utf8(diff.stdout).unwrap();
    assert!(
        !diff.contains("+    exclusion: 'process.name == \"LogMeIn.exe\" and"),
        "{diff}"
    );
    assert!(
        diff.contains("not fixed: the fix `process.name == \"LogMeIn.exe\" and process.parent.name == \"LogMeIn.exe\"` would add FPX302: misses benign event 1"),
        "{diff}{stderr}"
    );
    // Safe fixes only: the backticks and curly quotes go, `OR` is spelled `or`, the
    // inverted one stays inverted.
    assert_eq!(fix(&[]).status.code(), Some(0));
    let safe = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        safe,
        COMMENTED
            .replace("`process.name == “LogMeIn.exe”`", "process.name == \"LogMeIn.exe\"")
            .replace("\" OR process", "\" or process")
    );
    // Unsafe: still refused (exit 2, the reason on stderr); every byte as it was.
    let unsafe_run = fix(&["--unsafe"]);
    assert_eq!(unsafe_run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unsafe_run.stderr).contains("would add FPX302"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), safe);
    // A second safe run changes nothing.
    let again = fix(&[]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("fixed 0 exclusions"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), safe);
}

#[test]
fn fix_unsafe_applies_a_negation_only_where_the_scenario_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: 11111111-1111-1111-1111-111111111111\nname: PsExec run\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"psexec.exe\"\n",
    )
    .unwrap();
    let scenario = |name: &str, parent: &str, account: &str| {
        format!(
            "  - name: {name}\n    exclusion: InitiatingProcessFileName != \"deploy.exe\" or AccountName != \"svc_deploy\"\n    benign:\n      - {{FileName: \"psexec.exe\", InitiatingProcessFileName: \"{parent}\", AccountName: \"{account}\"}}\n    malicious:\n      - {{FileName: \"psexec.exe\", InitiatingProcessFileName: \"cmd.exe\", AccountName: \"bob\"}}\n"
        )
    };
    let text = format!(
        "rule: 11111111-1111-1111-1111-111111111111\nscenarios:\n{}{}",
        scenario("wrong templates", "backup.exe", "svc_backup"),
        scenario("right templates", "deploy.exe", "svc_deploy")
    );
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, &text).unwrap();
    let out = fpx().arg("fix").arg("--unsafe").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("s.yaml:4:16: not fixed:") && stderr.contains("would add FPX302"),
        "{stderr}"
    );
    assert!(stderr.contains("fixed 1 exclusion in 1 file"), "{stderr}");
    let fixed = std::fs::read_to_string(&path).unwrap();
    let negation = "InitiatingProcessFileName == \"deploy.exe\" and AccountName == \"svc_deploy\"";
    assert_eq!(fixed.matches(negation).count(), 1, "{fixed}");
    assert!(fixed.find(negation).unwrap() > fixed.find("right templates").unwrap());
}

#[test]
fn fix_unsafe_diff_of_logmein_refuses_what_its_templates_contradict() {
    let out = fpx()
        .args([
            "fix",
            "--unsafe",
            "--diff",
            "rules/logmein-file-signature.yaml",
            "scenarios/logmein-file-signature.yaml",
        ])
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn markdown_fits_a_github_comment_whatever_the_corpus_size() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(
        root.join("rules/logmein-file-signature.yaml"),
        dir.path().join("rule.yaml"),
    )
    .unwrap();
    let rule = std::fs::read_to_string(root.join("rules/logmein-file-signature.yaml")).unwrap();
    let id = rule.lines().find_map(|l| l.strip_prefix("id: ")).unwrap().trim();
    let mut scenarios = format!("rule: {id}\nscenarios:\n");
    for i in 0..600 {
        scenarios.push_str(&format!(
            "  - name: scenario {i}\n    exclusion: 'process.name != \"tool{i}.exe\" or user.account != \"svc{i}\"'\n"
        ));
    }
    std::fs::write(dir.path().join("scenarios.yaml"), scenarios).unwrap();
    let markdown = |extra: &[&str]| {
        let out = Command::cargo_bin("fpx")
            .unwrap()
            .args(["check", "--cases", "0", "--format", "markdown"])
            .args(extra)
            .arg(dir.path())
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let full = markdown(&[]);
    assert!(full.chars().count() <= 65_536, "{} characters", full.chars().count());
    assert!(
        full.contains("more findings in the full report"),
        "{}",
        &full[full.len() - 300..]
    );
    let three = markdown(&["--max-findings", "3"]);
    assert_eq!(three.lines().filter(|l| l.starts_with("- **")).count(), 3, "{three}");
    // "**1 rule, 600 scenarios**: 600 fail, ... · N errors, 0 warnings, 0 infos"
    let totals = full
        .lines()
        .find(|l| l.starts_with("**1 rule, 600 scenarios**"))
        .unwrap();
    let count = |what: &str| -> usize {
        let before = totals.split(&format!(" {what}")).next().unwrap();
        before.rsplit(' ').next().unwrap().parse().unwrap()
    };
    let total = count("errors") + count("warnings") + count("infos");
    assert!(three.contains(&format!("**{} more findings", total - 3)), "{three}");
}

#[test]
fn the_html_report_orders_rules_by_verdict_labels_sigma_filters_and_shows_suppressed_findings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-ok.yaml"),
        "id: 11111111-1111-1111-1111-111111111111\nname: PsExec run\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"psexec.exe\"\n  // fpx: ignore[FPX304] the deploy tool runs from a protected share\n  | where InitiatingProcessFileName !~ \"deploy.exe\"\n",
    )
    .unwrap();
    let sigma = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigma/proc_creation_win_susp_certutil.yml");
    std::fs::copy(&sigma, dir.path().join("b-sigma.yml")).unwrap();
    // A filter on a field the log source lacks never applies: the printed detection
    // still shows it (a simplified one would drop it).
    let dead = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sigma/file_event_win_dead_filter.yml");
    std::fs::copy(&dead, dir.path().join("c-dead.yml")).unwrap();
    let out = fpx()
        .current_dir(dir.path())
        .args(["check", ".", "--cases", "0", "--format", "html"])
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    // The failing Sigma rules first, the passing one (whose file comes first) last.
    let sections: Vec<&str> = html
        .match_indices("<section class=\"rule\" id=\"")
        .map(|(i, _)| &html[i + 26..i + 60])
        .collect();
    assert!(sections.last().unwrap().contains("a-ok"), "{sections:?}");
    assert!(html.contains("a filter in the rule's detection (the events it suppresses)"));
    assert!(!html.contains("(the events it keeps; it suppresses the rest)</p>\n<pre class=\"kql\">CommandLine"));
    // Quoted query text is code, not literal backticks.
    assert!(!html.contains('`'), "no literal backtick");
    assert!(html.contains("<code>"));
    // The silenced FPX304 is listed with its reason.
    assert!(
        html.contains("<details class=\"suppressed\"><summary>1 suppressed finding</summary>"),
        "{html}"
    );
    assert!(html.contains("the deploy tool runs from a protected share"));
    let dead_section = &html[html.find("id=\"rule---c-dead-yml\"").expect("the dead-filter rule")..];
    let detection = &dead_section[..dead_section.find("</pre>").unwrap()];
    assert!(detection.contains("ParentUser"), "{detection}");
}

#[test]
fn fix_rewrites_an_inline_kql_exclusion_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "id: 11111111-1111-1111-1111-111111111111\nname: PsExec run\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"psexec.exe\"  // the tool\n  | where FolderPath !contains @\"\\windows\\system32\" or FolderPath !contains @\"\\windows\\syswow64\"\n  | project DeviceName\n";
    let path = dir.path().join("r.yaml");
    std::fs::write(&path, rule).unwrap();
    let fix = |extra: &[&str]| fpx().arg("fix").args(extra).arg(dir.path()).output().unwrap();
    let safe = fix(&[]);
    assert!(String::from_utf8_lossy(&safe.stderr).contains("fixed 0 exclusions in 0 files; 1 more with --unsafe"));
    let out = fix(&["--unsafe"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        fixed,
        rule.replace(
            "FolderPath !contains @\"\\windows\\system32\" or FolderPath !contains @\"\\windows\\syswow64\"",
            "not(FolderPath contains @\"\\windows\\system32\" or FolderPath contains @\"\\windows\\syswow64\")"
        )
    );
    // The rule now passes without FPX103, and a second run changes nothing.
    let check = fpx()
        .args(["check", "--cases", "0", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&check.stdout).unwrap();
    let codes: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"FPX103"), "{codes:?}");
    fix(&["--unsafe"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), fixed);
}

/// Issue 27: a Sigma filter's redundant value (FPX106) is dropped from the rule's YAML
/// with `--unsafe`, and nothing else is touched (comments, quoting, the other values);
/// the rule then alerts on the same events (`fpx diff`: equivalent) without FPX106.
#[test]
fn fix_drops_a_redundant_value_from_a_sigma_filter() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "title: Shell spawned by a browser\nid: 22222222-2222-2222-2222-222222222222\nlogsource:\n    product: macos\n    category: process_creation\ndetection:\n    selection:\n        ParentImage|contains: 'com.apple.WebKit.WebContent'\n        Image|endswith: '/bash'\n    filter_main_chrome:\n        ParentImage|contains:\n            - 'Google Chrome Helper' # the renderer's helper\n            - \"Google Chrome\" # the browser itself\n        CommandLine|contains: '/install.sh' # the updater\n    condition: selection and not filter_main_chrome\nlevel: medium\n";
    let path = dir.path().join("r.yml");
    std::fs::write(&path, rule).unwrap();
    let fix = |extra: &[&str]| fpx().arg("fix").args(extra).arg(dir.path()).output().unwrap();
    let safe = fix(&[]);
    let err = String::from_utf8_lossy(&safe.stderr);
    assert!(
        err.contains("fixed 0 exclusions in 0 files; 1 more with --unsafe"),
        "{err}"
    );
    let diff = fix(&["--unsafe", "--diff"]);
    let shown = String::from_utf8_lossy(&diff.stdout);
    assert!(
        shown.contains("-            - 'Google Chrome Helper' # the renderer's helper"),
        "{shown}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), rule, "--diff writes nothing");
    let out = fix(&["--unsafe"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let fixed = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        fixed,
        rule.replace("            - 'Google Chrome Helper' # the renderer's helper\n", "")
    );
    let old = tempfile::tempdir().unwrap();
    let before = old.path().join("r.yml");
    std::fs::write(&before, rule).unwrap();
    let compared = fpx()
        .args(["diff", "--format", "json"])
        .arg(&before)
        .arg(&path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&compared.stdout).unwrap();
    assert_eq!(v["rules"][0]["change"], "equivalent", "{v}");
    fix(&["--unsafe"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        fixed,
        "a second run changes nothing"
    );
}
