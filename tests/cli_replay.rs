//! `fpx replay`: rules and exclusions over real events, through the binary.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn replay(args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("replay")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap(),
    )
}

const RULES: [&str; 2] = ["tests/fixtures/sigma", "tests/fixtures/inline/powershell-bypass.yaml"];

fn json(extra: &[&str]) -> (Value, String, i32) {
    let mut args: Vec<&str> = RULES.to_vec();
    args.extend(["--format", "json"]);
    args.extend(extra);
    let (out, err, code) = replay(&args);
    (
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")),
        err,
        code,
    )
}

#[test]
fn sigma_and_kql_rules_over_evtx_ndjson_and_csv() {
    let (v, err, code) = json(&[
        "--events",
        "tests/fixtures/replay/sysmon.ndjson",
        "tests/fixtures/replay/DeviceProcessEvents-export.csv",
    ]);
    // Bad lines are counted and reported with file and line; the rest is replayed, and
    // the run is not a pass (exit 2: not everything given was read).
    assert_eq!(code, 2, "{err}");
    assert_eq!(v["summary"]["events"], 8);
    assert_eq!(v["summary"]["bad_events"], 2);
    assert_eq!(v["bad_events"][0]["line"], 5);
    assert!(err.contains("sysmon.ndjson:6: not a JSON event"), "{err}");
    let rule = |file: &str| -> Value {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["file"].as_str().unwrap().contains(file))
            .cloned()
            .unwrap()
    };
    // Sysmon event 1 and Security 4688 (NewProcessName is Image there); the file event
    // is not a process creation.
    let certutil = rule("certutil");
    assert_eq!(certutil["matches"], 3);
    assert_eq!(certutil["alerts"], 2);
    let backup = &certutil["exclusions"][1];
    assert_eq!(backup["name"], "filter filter_optional_backup");
    assert_eq!(backup["suppressed"], 1);
    assert_eq!(backup["top"][0]["field"], "CommandLine");
    // The CSV is DeviceProcessEvents (its name says so): the KQL rule's inline
    // exclusions suppress the Unrestricted and the svc_deploy runs.
    let powershell = rule("powershell-bypass");
    assert_eq!(powershell["matches"], 3);
    assert_eq!(powershell["alerts"], 1);
}

#[test]
fn a_suppressed_true_positive_is_fpx301_with_the_real_event() {
    let (v, _, code) = json(&["--true-positives", "tests/fixtures/replay/tp"]);
    assert_eq!(code, 1);
    let finding = &v["findings"][0];
    assert_eq!(finding["code"], "FPX301");
    assert_eq!(finding["exclusion"], "filter filter_optional_backup");
    assert!(
        finding["witness"]["CommandLine"]
            .as_str()
            .unwrap()
            .contains("backup.contoso.com.evil.example")
    );
    assert_eq!(finding["event"]["file"], "tests/fixtures/replay/tp/attack.json");
}

#[test]
fn jsonl_prints_one_line_per_match() {
    let mut args: Vec<&str> = RULES.to_vec();
    args.extend([
        "--format",
        "jsonl",
        "--events",
        "tests/fixtures/replay/DeviceProcessEvents-export.csv",
    ]);
    let (out, _, _) = replay(&args);
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["event"]["index"], 1);
    assert_eq!(lines[0]["suppressed_by"], serde_json::json!([]));
    assert_eq!(lines[2]["suppressed_by"][0]["source"], "inline");
}

#[test]
fn missing_event_paths_are_input_errors() {
    let (_, err, code) = replay(&["tests/fixtures/sigma", "--events", "nosuch.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("nosuch.json: no such file or directory"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let (_, err, code) = replay(&["tests/fixtures/sigma", "--events", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no event files"), "{err}");
}

/// The shared SigmaHQ corpus directory, and every rule in it as the replay reads it.
fn sigmahq_rules() -> (std::path::PathBuf, Vec<fpx::replay::Rule>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma");
    let report = fpx::checks::check_corpus(
        fpx::corpus::load(&[root.join("rules"), root.join("rules-placeholder")]),
        None,
    );
    (root, fpx::replay::plan(&report).0)
}

/// Every positive regression test of SigmaHQ's shared corpus alerts on its own rule,
/// unsuppressed, `match_count` times. Six of the 192 event files hold more events than
/// their `match_count` (two registry writes, both matching the rule's values): there
/// every event must alert, so the alerts are at least `match_count` and at most the
/// file's events.
#[test]
#[ignore = "needs ../shared"]
fn every_sigmahq_regression_event_alerts_on_its_rule() {
    let (root, rules) = sigmahq_rules();
    let mut checked = 0;
    let mut more = 0;
    let mut failures = Vec::new();
    let infos = fpx::corpus::files_under(
        &root.join("regression_data"),
        &|p| p.file_name().is_some_and(|n| n == "info.yml"),
        &mut Vec::new(),
    );
    for info in infos {
        let doc: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(&info).unwrap()).unwrap();
        let id = doc["rule_metadata"][0]["id"].as_str().unwrap().to_string();
        let dir = info.parent().unwrap();
        // Some tests carry no `regression_tests_info` (a raw log, not an event file).
        for test in doc["regression_tests_info"].as_sequence().into_iter().flatten() {
            let Some(path) = test["path"].as_str() else { continue };
            let json = dir.join(Path::new(path).with_extension("json").file_name().unwrap());
            if !json.exists() {
                continue;
            }
            let expected = test["match_count"].as_u64().unwrap_or(1) as usize;
            let Some(index) = rules.iter().position(|r| r.id == id) else {
                failures.push(format!("{id}: rule not loaded"));
                continue;
            };
            let one = [rules[index].clone()];
            let outcome = fpx::replay::replay(&one, &[(json.clone(), fpx::replay::Label::None)], None, false).unwrap();
            checked += 1;
            let alerts = outcome.counts[0].alerts;
            if alerts > expected {
                more += 1;
            }
            if alerts < expected || alerts > outcome.events {
                failures.push(format!(
                    "{}: {} alerts (of {} matches), expected {expected}",
                    json.display(),
                    outcome.counts[0].alerts,
                    outcome.counts[0].matches
                ));
            }
        }
    }
    assert!(checked >= 190, "{checked} regression tests checked");
    assert!(more <= 6, "{more} files alert more often than their match_count");
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The literal prefilter never changes a result: over every shared SigmaHQ rule and
/// every regression event (and each event with its values upper-cased, so that
/// case-insensitive literals are exercised), the rules that match and the exclusions
/// that suppress them are the same with and without it.
#[test]
#[ignore = "needs ../shared"]
fn the_prefilter_changes_no_result() {
    let (root, rules) = sigmahq_rules();
    let fast = fpx::replay::Engine::new(&rules);
    let reference = fpx::replay::Engine::without_prefilter(&rules);
    let mut events = Vec::new();
    let files = fpx::corpus::files_under(
        &root.join("regression_data"),
        &|p| p.extension().is_some_and(|e| e == "json"),
        &mut Vec::new(),
    );
    for file in files {
        fpx::replay::events::read_file(&file, |_, e| events.push(e), |_| {}).unwrap();
    }
    let upper: Vec<_> = events
        .iter()
        .map(|e| e.iter().map(|(k, v)| (k.clone(), v.to_uppercase())).collect())
        .collect();
    events.extend(upper);
    let mut matched = 0;
    for event in &events {
        let expected = reference.matching(event, None);
        assert_eq!(fast.matching(event, None), expected, "{event:?}");
        matched += expected.len();
    }
    assert!(
        events.len() >= 400 && matched >= 300,
        "{} events, {matched} matches",
        events.len()
    );
}

/// The emitted KQL, read back the way fpx reads fields (`tostring(C)` and
/// `column_ifexists("F", "")` are the field's text; the null and decimal-number guards of
/// a number comparison are the comparison).
fn unwrap_typed(kql: &str) -> String {
    let rewrites = [
        (r#"tostring\(column_ifexists\("([^"]+)", ""\)\)"#, "$1"),
        // A property: `tostring(parse_json(C).a[2]['b c'])` is the field `C.a[2]['b c']`.
        (
            r"tostring\(parse_json\((\w+)\)((?:\.\w+|\[-?\d+\]|\['[^']*'\])+)\)",
            "$1$2",
        ),
        (r"tostring\((\w+)\)", "$1"),
        (r"\(isnotnull\((\w+)\) and (\w+ [<>]=? [-0-9.]+)\)", "$2"),
        (
            r#"\((\w+) matches regex @"\^-\?\[0-9\]\+\(\\\.\[0-9\]\+\)\?\$" and todouble\(\w+\) ([<>]=?) ([-0-9.]+)\)"#,
            "$1 $2 $3",
        ),
    ];
    let mut text = kql.to_string();
    for (pattern, replacement) in rewrites {
        text = regex::Regex::new(pattern)
            .unwrap()
            .replace_all(&text, replacement)
            .into_owned();
    }
    text
}

/// `--emit kql` evaluates on the SIEM the predicates the local replay evaluates: for
/// every KQL rule of the bundled corpus and the fixtures, the query's `where` is the
/// detection and each `fpx_N = ...` column its exclusion, and each, read back, is
/// logically equivalent to the predicate fpx replays.
#[test]
fn emitted_queries_evaluate_the_predicates_replayed_here() {
    use fpx::expr::{ParseOutcome, parse_exclusion};
    use fpx::replay::emit;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let report = fpx::checks::check_corpus(
        fpx::corpus::load(&[
            root.join("rules"),
            root.join("scenarios"),
            root.join("tests/fixtures/inline"),
            root.join("tests/fixtures/emit"),
        ]),
        None,
    );
    let (rules, _) = fpx::replay::plan(&report);
    let same = |kql: &str, pred: &fpx::pred::Pred| {
        let text = unwrap_typed(kql);
        let ParseOutcome::Parsed(back) = parse_exclusion(&text) else {
            panic!("{text} does not parse")
        };
        assert_eq!(
            fpx::logic::equivalent(&back.pred, pred),
            fpx::logic::Validity::Valid,
            "{kql} is not {pred}"
        );
    };
    let (mut queries, mut typed, mut exclusions) = (0, 0, 0);
    for rule in &rules {
        let Ok(query) = emit::query(rule, Some("30d")) else {
            continue;
        };
        queries += 1;
        let columns = fpx::schema::schema().table(rule.table.as_deref().unwrap()).unwrap();
        let d = emit::kql(&rule.detection, columns);
        assert!(query.contains(&format!("\n    | where {d}")), "{query}");
        same(&d, &rule.detection);
        for (i, e) in rule.exclusions.iter().enumerate() {
            let Some(pred) = &e.pred else { continue };
            let k = emit::kql(pred, columns);
            assert!(query.contains(&format!("fpx_{} = {k}", i + 1)), "{query}");
            same(&k, pred);
            exclusions += 1;
            typed += usize::from(k.contains("isnotnull(") || k.contains("tostring("));
        }
    }
    assert!(
        queries >= 8 && exclusions >= 25 && typed >= 2,
        "{queries} {exclusions} {typed}"
    );
}

#[test]
fn emit_kql_prints_one_query_per_kql_rule() {
    let (out, err, code) = replay(&[
        "tests/fixtures/emit",
        "tests/fixtures/sigma",
        "--emit",
        "kql",
        "--since",
        "30d",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("Sigma and Elastic rules skipped"), "{err}");
    let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["rule_id"], "3f9d2c71-8a4e-4b6f-9c1d-7e5a0b2c4d18");
    // A union of tables is read as the rule reads it.
    let union = lines[1]["query"].as_str().unwrap();
    assert!(
        union.contains("materialize(union DeviceFileEvents, DeviceProcessEvents\n"),
        "{union}"
    );
    let query = lines[0]["query"].as_str().unwrap();
    assert!(query.contains("| where TimeGenerated > ago(30d)"), "{query}");
    assert!(query.contains("alerts = countif(not(fpx_3 or fpx_4))"), "{query}");
    assert!(query.contains("(isnotnull(LocalPort) and LocalPort < 1024)"), "{query}");

    // A time range that is not a KQL timespan is a usage error; `--since` needs `--emit`.
    let (_, err, code) = replay(&["tests/fixtures/emit", "--emit", "kql", "--since", "30 days"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since 30 days: expected a KQL timespan"), "{err}");
    let (_, _, code) = replay(&["tests/fixtures/emit", "--events", "x.json", "--since", "30d"]);
    assert_eq!(code, 2);
    // Only Sigma rules: nothing to emit.
    let (_, err, code) = replay(&["tests/fixtures/sigma", "--emit", "kql"]);
    assert_eq!(code, 2);
    assert!(err.contains("no KQL rule"), "{err}");
}

/// A rule over a union of tables replays the events of files of each of its tables,
/// and of no other table.
#[test]
fn a_union_rule_replays_the_events_of_its_tables() {
    let dir = tempfile::tempdir().unwrap();
    let events = concat!(
        r#"{"FolderPath": "C:\\Users\\a\\AppData\\Local\\Temp\\x", "FileName": "a.ps1", "InitiatingProcessFileName": "explorer.exe"}"#,
        "\n",
        r#"{"FolderPath": "C:\\Temp\\y", "FileName": "b.ps1", "InitiatingProcessFileName": "msiexec.exe"}"#,
        "\n"
    );
    for table in ["DeviceProcessEvents", "DeviceFileEvents", "DeviceNetworkEvents"] {
        std::fs::write(dir.path().join(format!("{table}.ndjson")), events).unwrap();
    }
    let files: Vec<String> = ["DeviceProcessEvents", "DeviceFileEvents", "DeviceNetworkEvents"]
        .iter()
        .map(|t| dir.path().join(format!("{t}.ndjson")).to_string_lossy().to_string())
        .collect();
    let mut args = vec!["tests/fixtures/emit/script-dropped-or-run.yaml", "--format", "json"];
    for f in &files {
        args.extend(["--events", f.as_str()]);
    }
    let (out, err, code) = replay(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let rule = &v["rules"][0];
    assert_eq!(rule["matches"], 4, "{out}");
    assert_eq!(rule["alerts"], 2, "{out}");
}

#[test]
fn true_positives_no_kql_rule_can_see_are_said_and_fail_and_undetected_ones_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let rule = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/logmein-file-signature.yaml");
    // Named after no table: the KQL rule never sees the event.
    let attack = dir.path().join("attack.json");
    std::fs::write(&attack, r#"[{"Signer": "LogMeIn, Inc.", "DeviceName": "x"}]"#).unwrap();
    let (out, err, code) = replay(&[rule.to_str().unwrap(), "--true-positives", attack.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("its 1 event was not evaluated against the KQL rules"),
        "{err}"
    );
    assert!(out.contains("not evaluated against the KQL rules"), "{out}");
    // Named after the table: evaluated; a true positive no rule matches is reported.
    let missed = dir.path().join("DeviceFileCertificateInfo-tp.json");
    std::fs::write(&missed, r#"[{"Signer": "Other", "DeviceName": "x"}]"#).unwrap();
    let (out, _, code) = replay(&[rule.to_str().unwrap(), "--true-positives", missed.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("holds true positives, and no rule matches any of its events"),
        "{out}"
    );
}

/// A filter bound to one `or` branch suppresses only that branch's matches: `nc.exe
/// --version` still alerts (the version filter binds to the nmap branch), and the
/// check judges each filter on its own branch.
#[test]
fn a_filter_inside_an_or_branch_suppresses_that_branch_only() {
    let rule = "tests/fixtures/scoped/scanner.yml";
    let (out, err, code) = replay(&[
        rule,
        "--events",
        "tests/fixtures/scoped/events.ndjson",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = &v["rules"][0];
    assert_eq!(r["matches"], 5);
    assert_eq!(r["alerts"], 3);
    assert_eq!(r["exclusions"][0]["name"], "filter filter_listen");
    assert_eq!(r["exclusions"][0]["suppressed"], 1);
    assert_eq!(r["exclusions"][1]["suppressed"], 1);
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", rule, "--cases", "0", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    let listen = results.iter().find(|r| r["line"] == 14).unwrap();
    let message = listen["findings"][0]["message"].as_str().unwrap();
    assert_eq!(listen["findings"][0]["code"], "FPX304");
    assert!(message.contains("only its `or` branch raises"), "{message}");
}

/// JSON nested past serde's 128 levels is a bad event with its position, not a crash,
/// and the run exits 2.
#[test]
fn deeply_nested_json_is_a_bad_event_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.json");
    std::fs::write(&path, format!("{}{}", "[".repeat(100_000), "]".repeat(100_000))).unwrap();
    let (out, err, code) = replay(&["tests/fixtures/sigma", "--events", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("recursion limit exceeded"), "{err}");
    assert!(out.contains("1 bad events"), "{out}");
}

#[test]
fn an_unknown_table_and_events_no_rule_can_see_are_input_errors_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("r.yaml"),
        "id: 11111111-1111-1111-1111-111111111111\nname: PsExec run\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"psexec.exe\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("export.csv"), "FileName,AccountName\npsexec.exe,bob\n").unwrap();
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("fpx")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code().unwrap(),
        )
    };
    let (stderr, code) = run(&[
        "replay",
        "r.yaml",
        "--events",
        "export.csv",
        "--table",
        "DeviceProcesEvents",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--table DeviceProcesEvents: not a table fpx knows; did you mean `DeviceProcessEvents`?"),
        "{stderr}"
    );
    // A CSV export not named after its table: nothing was replayed, and the run says how.
    let (stderr, code) = run(&["replay", "r.yaml", "--events", "export.csv"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("pass `--table DeviceProcessEvents` (the table the KQL rules read), or name the file `DeviceProcessEvents.csv`"),
        "{stderr}"
    );
    let (stderr, code) = run(&[
        "replay",
        "r.yaml",
        "--events",
        "export.csv",
        "--table",
        "DeviceProcessEvents",
    ]);
    assert_eq!(code, 0, "{stderr}");
}
