//! Elastic rules through the binary: a detection-rules TOML rule, its inline
//! exclusions and a Kibana exception-list export attached by `list_id`, judged with
//! Elasticsearch's semantics and placed on their lines.

use assert_cmd::Command;
use serde_json::Value;

fn check_json(args: &[&str]) -> (Value, i32) {
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--cases", "0", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

#[test]
fn an_elastic_rule_and_its_exception_list_are_judged() {
    let (v, code) = check_json(&["tests/fixtures/elastic"]);
    assert_eq!(code, 0, "warnings only");
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["format"], "elastic");
    assert_eq!(rules[0]["table"], "elastic:ecs");
    assert_eq!(rules[0]["detection"], "exact");
    let results = v["results"].as_array().unwrap();
    let by = |source: &str, name: &str| -> Vec<String> {
        let r = results
            .iter()
            .find(|r| r["source"] == source && r["exclusion"].as_str().unwrap_or("").contains(name))
            .unwrap_or_else(|| panic!("no {source} {name}: {results:?}"));
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    // The inline `not process.executable : "?:\\..."` is case-insensitive: no FPX110.
    assert_eq!(by("inline", "Backup"), ["FPX304"]);
    // kibana #96537: *is one of* matches case-sensitively; a lower-case path escapes it.
    assert_eq!(by("exception", "inventory scanner"), ["FPX110", "FPX304"]);
    assert_eq!(by("exception", "unrelated parent"), ["FPX105"]);
    // A negated `[[rule.filters]]` entry is an exclusion too, placed at its table.
    let filter = results
        .iter()
        .find(|r| r["source"] == "filter")
        .expect("the negated filter");
    assert_eq!(filter["line"], 28);
    assert!(filter["exclusion"].as_str().unwrap().starts_with("[[rule.filters]]"));
    let scanner = results
        .iter()
        .find(|r| r["exclusion"].as_str().unwrap_or("").contains("inventory scanner"))
        .unwrap();
    let fpx110 = &scanner["findings"][0];
    assert_eq!(fpx110["line"], 2);
    assert!(fpx110["file"].as_str().unwrap().ends_with("trusted_wmi.ndjson"));
    let witness = fpx110["witness"]["process.executable"].as_str().unwrap();
    assert!(
        witness.eq_ignore_ascii_case(r"C:\Windows\System32\wbem\scanner.exe")
            && witness != r"C:\Windows\System32\wbem\scanner.exe",
        "{witness}"
    );
}

#[test]
fn a_toml_file_that_is_not_a_rule_is_skipped_and_a_broken_rule_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fpx.toml"), "[gate]\nfail_on = \"error\"\n").unwrap();
    std::fs::write(
        dir.path().join("r.toml"),
        "[rule]\nname = \"r\"\nrule_id = \"r\"\nlanguage = \"kuery\"\nquery = \"process.name:\n",
    )
    .unwrap();
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .args(["check", "--cases", "0"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("r.toml:5:") && err.contains("not a readable Elastic rule"),
        "{err}"
    );
}

/// ECS documents replayed through an Elastic rule: nested and dotted names, arrays
/// (`event.type: ["info", "start"]` is a start), the rule's index patterns, the inline
/// exclusion, the exception list's items and the negated filter each counted on the
/// events they suppress.
#[test]
fn replay_reads_ecs_documents_through_elastic_rules() {
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["replay", "tests/fixtures/elastic", "--format", "json", "--events"])
        .arg("tests/fixtures/replay/ecs-process.ndjson")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["events"], 10);
    let rule = &report["rules"][0];
    // Events 1-5 are WMI starts on Windows (the fourth's `event.type` is an array,
    // the fifth is written with dotted keys); 6 is an end, 7 has another parent. 8-10
    // are WMI starts in a data stream the rule does not search, a search hit of a
    // backing index of one it does, and a hit of an index its list excludes.
    assert_eq!(rule["matches"], 6, "{rule}");
    assert_eq!(rule["alerts"], 3, "{rule}");
    let suppressed: Vec<(String, u64)> = rule["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["suppressed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        suppressed,
        [
            ("inline exclusion 1".to_string(), 1),
            ("exception inventory scanner".to_string(), 1),
            ("exception unrelated parent".to_string(), 0),
            ("filter 1".to_string(), 1),
        ]
    );
}
