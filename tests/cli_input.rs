//! A gate that cannot pass by accident: input errors through the binary. Each one exits
//! 2, is said on stderr with its path (and line, where known), and is recorded in every
//! output format.

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

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn check(args: &[&str]) -> Run {
    let out = fpx().arg("check").args(args).args(["--cases", "0"]).output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `fpx check --cases 0 --format json PATH`: the report and the exit code.
fn check_json_at(path: &Path) -> (Value, i32) {
    let out = fpx()
        .args(["check", "--cases", "0", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    (serde_json::from_slice(&out.stdout).unwrap(), out.status.code().unwrap())
}

fn rule_text(id: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/logmein-file-signature.yaml"))
        .unwrap()
        .replacen("id: ", &format!("id: {id}\n# was: "), 1)
}

#[test]
fn a_missing_path_is_an_error_in_every_format_and_on_stderr() {
    for format in ["text", "json", "sarif", "junit", "markdown"] {
        let run = check(&["nosuch", "--format", format]);
        assert_eq!(run.code, 2, "{format}");
        assert!(
            run.stderr.contains("fpx: error: nosuch: no such file or directory"),
            "{format}: {}",
            run.stderr
        );
        assert!(!run.stdout.contains(":0:0"), "{format}: {}", run.stdout);
        assert!(
            run.stdout.contains("nosuch"),
            "{format}: the report lacks the error:\n{}",
            run.stdout
        );
    }
    let run = check(&["nosuch", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["summary"]["input_errors"], 1);
    assert_eq!(v["errors"][0]["file"], "nosuch");
    assert_eq!(v["errors"][0]["line"], Value::Null);
    let run = check(&["nosuch", "--format", "sarif"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["message"]["text"],
        "nosuch: no such file or directory"
    );
    let run = check(&["nosuch", "--format", "junit"]);
    assert!(run.stdout.contains("<error"), "{}", run.stdout);
}

#[test]
fn nothing_to_check_is_never_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run = check(&[empty.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("nothing to check"), "{}", run.stderr);

    let notes = dir.path().join("notes.md");
    std::fs::write(&notes, "# not a rule\n").unwrap();
    let run = check(&[notes.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("notes.md: fpx reads rule and scenario files"),
        "{}",
        run.stderr
    );

    let blank = dir.path().join("blank.yaml");
    std::fs::write(&blank, "\n# only a comment\n").unwrap();
    let run = check(&[blank.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("blank.yaml: the file is empty"), "{}", run.stderr);

    let other = dir.path().join("other.yaml");
    std::fs::write(&other, "key: value\n").unwrap();
    let run = check(&[other.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("fpx cannot check this file"), "{}", run.stderr);
}

#[test]
fn a_bom_and_crlf_are_read_silently() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (from, to) in [
        ("rules/logmein-file-signature.yaml", "rule.yaml"),
        ("scenarios/logmein-file-signature.yaml", "scenarios.yaml"),
    ] {
        let text = std::fs::read_to_string(root.join(from)).unwrap();
        let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        std::fs::write(dir.path().join(to), crlf).unwrap();
    }
    let (v, _) = check_json_at(dir.path());
    assert_eq!(v["summary"]["input_errors"], 0, "{v}");
    assert_eq!(v["summary"]["scenarios"], 5, "the scenarios attach to the rule");
    let codes: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"FPX405"), "{codes:?}");
    // Positions are those of the file: the exclusion's line and column as without CRLF.
    let plain = fpx()
        .args(["check", "--cases", "0", "--format", "json"])
        .args([
            "rules/logmein-file-signature.yaml",
            "scenarios/logmein-file-signature.yaml",
        ])
        .output()
        .unwrap();
    let plain: Value = serde_json::from_slice(&plain.stdout).unwrap();
    let places = |v: &Value| -> Vec<(Value, Value)> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["line"].clone(), r["column"].clone()))
            .collect()
    };
    assert_eq!(places(&v), places(&plain));
}

#[test]
fn orphan_scenarios_fail_with_a_suggestion() {
    let run = check(&["scenarios/logmein-file-signature.yaml"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("FPX405"), "{}", run.stdout);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rule.yaml"), rule_text("logmein-rule")).unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "rule: logmein-rul\nscenarios:\n  - name: a\n    exclusion: 'DeviceName == \"x\"'\n",
    )
    .unwrap();
    let (v, code) = check_json_at(dir.path());
    assert_eq!(code, 1);
    let orphan = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["findings"][0]["code"] == "FPX405")
        .expect("an FPX405 result");
    assert_eq!(orphan["line"], 1);
    let message = orphan["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("logmein-rul"), "{message}");
    assert!(
        orphan["findings"][0]["help"].as_str().unwrap().contains("logmein-rule"),
        "{orphan}"
    );
}

#[test]
fn duplicate_and_missing_rule_ids_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), rule_text("same-id")).unwrap();
    std::fs::write(dir.path().join("b.yaml"), rule_text("same-id")).unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "rule: same-id\nscenarios:\n  - name: a\n    exclusion: 'DeviceName == \"x\"'\n",
    )
    .unwrap();
    let (v, code) = check_json_at(dir.path());
    assert_eq!(code, 1);
    assert_eq!(
        v["summary"]["scenarios"], 1,
        "a scenario is checked once, against the first rule"
    );
    let dup: Vec<&Value> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap())
        .filter(|f| f["code"] == "FPX404")
        .collect();
    assert_eq!(dup.len(), 1, "{v}");
    assert!(dup[0]["file"].as_str().unwrap().ends_with("b.yaml"));
    assert!(dup[0]["message"].as_str().unwrap().contains("a.yaml"), "{}", dup[0]);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yaml"), rule_text("").replacen("id: \n", "", 1)).unwrap();
    let (v, code) = check_json_at(dir.path());
    assert_eq!(code, 1);
    assert_eq!(v["results"][0]["findings"][0]["code"], "FPX404", "{v}");
}

#[test]
fn sarif_paths_are_relative_to_the_root_whatever_was_typed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().unwrap();
    let absolute = root.join("scenarios/logmein-file-signature.yaml");
    let out = fpx()
        .args(["check", "--cases", "0", "--format", "sarif", "--root"])
        .arg(&root)
        .arg(root.join("rules/logmein-file-signature.yaml"))
        .arg(&absolute)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &v["runs"][0];
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
    let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "scenarios/logmein-file-signature.yaml");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
    // From a subdirectory, with a relative path that climbs out of it.
    let out = fpx()
        .current_dir(root.join("src"))
        .args(["check", "--cases", "0", "--format", "sarif", "--root", ".."])
        .args([
            "../rules/logmein-file-signature.yaml",
            "../scenarios/logmein-file-signature.yaml",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "scenarios/logmein-file-signature.yaml"
    );
}

/// The messages of FPX403, FPX404 and FPX405 as a person reads them.
#[test]
fn gate_findings_snapshot() {
    let run = check(&["tests/fixtures/gate"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout);
}

/// Exclusions written inline in a rule's query are judged like scenario exclusions and
/// reported with `"source": "inline"` and their place in the rule file.
#[test]
fn inline_exclusions_are_judged_and_placed() {
    let (v, code) = check_json_at(Path::new("tests/fixtures/inline"));
    assert_eq!(code, 1);
    let results = v["results"].as_array().unwrap();
    let inline: Vec<&Value> = results.iter().filter(|r| r["source"] == "inline").collect();
    let find = |text: &str| -> &Value {
        inline
            .iter()
            .find(|r| r["exclusion"].as_str().unwrap().contains(text))
            .unwrap_or_else(|| panic!("no inline exclusion with {text}: {v}"))
    };
    let codes = |r: &Value| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    let unrestricted = find("Unrestricted");
    assert_eq!(codes(unrestricted), ["FPX304"], "the attacker writes Unrestricted");
    assert_eq!(unrestricted["scenario"], Value::Null);
    assert!(
        unrestricted["file"]
            .as_str()
            .unwrap()
            .ends_with("powershell-bypass.yaml")
    );
    assert_eq!(
        (unrestricted["line"].as_u64(), unrestricted["column"].as_u64()),
        (Some(8), Some(11))
    );
    assert_eq!(
        codes(find("allow_list")),
        ["FPX102"],
        "an empty allow-list removes nothing"
    );
    assert!(codes(find("svc_deploy")).is_empty());
    assert_eq!(codes(find("anydesk-portable")), ["FPX104"], "it removes every alert");
    // A property of a dynamic column is a field of its own, not an absent column.
    let property = find("svc_sync");
    assert!(codes(property).is_empty(), "{property}");
    assert_eq!(property["exclusion"], r#"FromSam != "svc_sync""#);
    // The rule whose branch can never match.
    let dead: Vec<&Value> = results
        .iter()
        .filter(|r| r["source"] == "rule")
        .flat_map(|r| r["findings"].as_array().unwrap())
        .filter(|f| f["code"] == "FPX108")
        .collect();
    assert_eq!(dead.len(), 2, "a dead branch and a dead rule: {dead:?}");
    assert!(
        dead.iter()
            .any(|f| f["message"].as_str().unwrap().contains("this branch"))
    );
    // The `rules` array.
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 4);
    let properties = rules
        .iter()
        .find(|r| {
            r["file"]
                .as_str()
                .unwrap()
                .ends_with("role-added-to-service-principal.yaml")
        })
        .unwrap();
    assert_eq!(properties["detection"], "exact");
    let bypass = rules
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("powershell-bypass.yaml"))
        .unwrap();
    assert_eq!(bypass["inline_exclusions"], 3);
    assert_eq!(bypass["detection"], "exact");
    assert_eq!(bypass["table"], "DeviceProcessEvents");
    assert_eq!(bypass["format"], "kql");
}

#[test]
fn a_sigma_selection_as_a_scenario_exclusion_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("s.yaml");
    std::fs::write(
        &scenarios,
        "rule: x\nscenarios:\n  - name: admin\n    exclusion:\n      InitiatingProcessFileName|endswith: '\\deploy.exe'\n",
    )
    .unwrap();
    let run = check(&[scenarios.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("s.yaml:5:7: scenarios[0].exclusion: a scenario's `exclusion:` is one KQL-style expression"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not a Sigma selection"), "{}", run.stderr);
}

/// A fuzz find (2026-12-06): a query of zero-width spaces (U+200B, three bytes each) got
/// a finding whose span started inside one, and placing it in the file panicked. The
/// finding is placed on the character, in text and JSON alike.
#[test]
fn a_span_inside_a_character_is_placed_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zwsp.yaml");
    std::fs::write(
        &path,
        "id: 7a1c2e34-5b6d-4e8f-9a0b-1c2d3e4f5a6b\nname: z\nquery: |\n  \u{200b}\u{200b}\u{200b}\n",
    )
    .unwrap();
    let (report, code) = check_json_at(&path);
    assert_ne!(code, 101, "no panic");
    assert!(report["results"].as_array().is_some_and(|r| !r.is_empty()), "{report}");
    let run = check(&[path.to_str().unwrap()]);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(run.stdout.contains("zwsp.yaml:4:"), "{}", run.stdout);
}
