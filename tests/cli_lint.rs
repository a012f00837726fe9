//! `fpx lint` and `fpx explain` driven as a user would, through the binary.

use assert_cmd::Command;
use serde_json::Value;

const SEEDS: &str = include_str!("fixtures/seed_exclusions.txt");

fn fpx() -> Command {
    let mut cmd = Command::cargo_bin("fpx").expect("binary builds");
    cmd.env("NO_COLOR", "1").env("COLUMNS", "100");
    cmd
}

fn jsonl(stdin: impl Into<Vec<u8>>) -> (Vec<Value>, i32) {
    let out = fpx()
        .args(["lint", "-", "--format", "jsonl"])
        .write_stdin(stdin)
        .output()
        .unwrap();
    let records = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON object"))
        .collect();
    (records, out.status.code().unwrap())
}

fn codes(record: &Value) -> Vec<String> {
    record["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn classifies_the_25_seed_exclusions() {
    let (records, code) = jsonl(SEEDS);
    assert_eq!(records.len(), 25);
    assert_eq!(code, 1, "errors fail the default gate");
    let parsed = records.iter().filter(|r| r["logic"] != "invalid").count();
    let prose = records.iter().filter(|r| codes(r) == ["FPX002"]).count();
    let broken = records.iter().filter(|r| codes(r) == ["FPX001"]).count();
    assert_eq!((parsed, prose, broken), (19, 5, 1));
    let always_true: Vec<usize> = (0..25).filter(|&i| records[i]["logic"] == "always-true").collect();
    assert_eq!(always_true, [3], "LogMeIn #4");
    let inverted = records
        .iter()
        .filter(|r| codes(r).contains(&"FPX103".to_string()))
        .count();
    assert_eq!(inverted, 13, "the other or-chains of != in seeds 000, 002 and 004");
}

#[test]
fn jsonl_record_has_the_documented_shape() {
    let (records, _) = jsonl(r#"process.name != "a.exe" or process.parent.name != "b.exe""#);
    let r = &records[0];
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["input", "logic", "findings", "witnesses"]);
    assert_eq!(r["logic"], "contingent");
    let f = &r["findings"][0];
    assert_eq!(f["code"], "FPX103");
    assert_eq!(f["name"], "inverted-exclusion");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["span"], serde_json::json!([0, 57]));
    assert_eq!(
        f["fix"],
        r#"process.name == "a.exe" and process.parent.name == "b.exe""#
    );
    // Every field of the expression is in each witness; "true" makes it hold.
    assert_eq!(
        r["witnesses"]["false"],
        serde_json::json!({"process.name": "a.exe", "process.parent.name": "b.exe"})
    );
    let t = r["witnesses"]["true"].as_object().unwrap();
    assert_eq!(t.len(), 2);
    assert!(t["process.name"] != "a.exe" || t["process.parent.name"] != "b.exe");
}

#[test]
fn always_true_has_no_false_witness() {
    let (records, _) = jsonl(r#"p != "splunkd.exe" or p != "logstash""#);
    assert_eq!(records[0]["logic"], "always-true");
    assert_eq!(records[0]["witnesses"]["false"], Value::Null);
}

#[test]
fn json_format_is_an_array_of_records() {
    let out = fpx()
        .args(["lint", "--format", "json", "a == 1", "b == 2"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn exit_codes_follow_fail_on() {
    let warning_only = "x == “a”";
    fpx().args(["lint", warning_only]).assert().code(0);
    fpx()
        .args(["lint", "--fail-on", "warning", warning_only])
        .assert()
        .code(1);
    fpx().args(["lint", "--fail-on", "never", "x == "]).assert().code(0);
    fpx().args(["lint", "x == "]).assert().code(1);
    fpx().args(["lint", "--fail-on", "info", "a == 1"]).assert().code(0);
    fpx()
        .args(["lint", "--fail-on", "info", r#"f == "a" or f =~ "A""#])
        .assert()
        .code(1);
}

#[test]
fn usage_errors_exit_2() {
    fpx().args(["lint"]).assert().code(2);
    fpx().args(["lint", "--format", "yaml", "a == 1"]).assert().code(2);
    fpx().args(["frobnicate"]).assert().code(2);
    let out = fpx().args(["explain", "FPX999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown code `FPX999`"));
}

#[test]
fn invalid_utf8_is_a_finding_not_a_crash() {
    let (records, code) = jsonl(b"a == 1\nf == \"\xff\xfe\"\nb == 2\n".to_vec());
    assert_eq!(records.len(), 3);
    assert_eq!(codes(&records[1]), ["FPX001"]);
    assert!(
        records[1]["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8")
    );
    assert_eq!(records[2]["logic"], "contingent", "later lines are still checked");
    assert_eq!(code, 1);
}

#[cfg(unix)]
#[test]
fn invalid_utf8_argument_is_a_finding() {
    use std::os::unix::ffi::OsStrExt;
    let arg = std::ffi::OsStr::from_bytes(b"f == \"\x80\"");
    let out = fpx()
        .arg("lint")
        .arg("--format")
        .arg("jsonl")
        .arg(arg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&v), ["FPX001"]);
}

#[test]
fn empty_line_is_a_finding() {
    let (records, _) = jsonl("a == 1\n\n\r\nb == 2\n");
    assert_eq!(records.len(), 4);
    assert_eq!(codes(&records[1]), ["FPX001"]);
    assert!(records[1]["findings"][0]["message"].as_str().unwrap().contains("empty"));
    assert_eq!(codes(&records[2]), ["FPX001"]);
}

#[test]
fn ten_thousand_nested_parentheses_are_refused() {
    let deep = format!("{}a == 1{}\n", "(".repeat(10_000), ")".repeat(10_000));
    let (records, code) = jsonl(deep);
    assert_eq!(codes(&records[0]), ["FPX001"]);
    assert!(
        records[0]["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nests deeper than 64")
    );
    assert_eq!(code, 1);
}

#[test]
fn hundred_kilobyte_expressions_are_decided() {
    let parts: Vec<String> = (0..5_000).map(|i| format!("f{} != \"value{i}\"", i % 13)).collect();
    let wide = parts.join(" or ");
    assert!(wide.len() > 100_000);
    let (records, _) = jsonl(wide + "\n");
    assert_eq!(records[0]["logic"], "always-true");
    let long_value = format!("f == \"{}\"\n", "a".repeat(100_000));
    let (records, code) = jsonl(long_value);
    assert_eq!(records[0]["logic"], "contingent");
    assert_eq!(code, 0);
}

#[test]
fn text_report_for_the_truncated_seed() {
    let out = fpx()
        .args(["lint", "-"])
        .write_stdin("`process.name != ”\n")
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn text_report_for_the_always_true_seed() {
    let seed = SEEDS.lines().nth(3).unwrap();
    let out = fpx().args(["lint", seed]).output().unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn text_report_for_an_inverted_seed_with_an_instruction() {
    let seed = SEEDS.lines().nth(10).unwrap();
    let out = fpx().args(["lint", seed]).output().unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn text_report_for_prose_and_typographic_quotes() {
    let out = fpx()
        .args(["lint", "-"])
        .write_stdin("Exclude processes initiated by the Kaseya VSA agent.\n`process.name == “LogMeIn.exe”`\n")
        .output()
        .unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn explain_prints_the_rule_documentation() {
    let out = fpx().args(["explain", "fpx101"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("FPX101 always-true (error)\n"));
    assert!(text.contains("## Passes"));
    let by_name = fpx().args(["explain", "inverted-exclusion"]).output().unwrap();
    assert!(String::from_utf8(by_name.stdout).unwrap().starts_with("FPX103"));
}

#[test]
fn explain_list_shows_every_code() {
    let out = fpx().args(["explain", "--list"]).output().unwrap();
    insta::assert_snapshot!(String::from_utf8(out.stdout).unwrap());
}

#[test]
fn table_adds_field_checks() {
    let out = fpx()
        .args(["lint", "--format", "jsonl", "--table", "DeviceFileCertificateInfo"])
        .arg(r#"process.parent_process_name == "x" or SHA1 == "abc""#)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(codes(&v), ["FPX201", "FPX203"]);
    assert_eq!(out.status.code(), Some(1));
    let out = fpx().args(["lint", "--table", "Nope", "a == 1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown table `Nope`; fpx knows the 86"));
    let out = fpx()
        .args(["lint", "--table", "DeviceProcesEvents", "a == 1"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `DeviceProcessEvents`?"));
}

/// `unknown` comes with the limit fpx reached; decided verdicts have no reason.
#[test]
fn unknown_says_why() {
    // A datetime in a day whose text has two 3s: no datetime fpx tries. (Numbers with
    // text tests are decided exactly: the same test with `5 < f < 6` finds `5.33`.)
    let (records, _) = jsonl(
        "f > datetime(2024-01-01) and f < datetime(2024-01-02) and f matches regex \"^2024-01-01T[0-9:]*3[0-9:]*3Z$\"\nf == \"a\"\nf > 5 and f < 6 and f matches regex \"^5\\\\.[0-9]*3[0-9]*3$\"\n",
    );
    assert_eq!(records[0]["logic"], "unknown");
    assert_eq!(records[2]["logic"], "contingent");
    assert_eq!(records[2]["witnesses"]["true"]["f"], "5.33");
    assert!(
        records[0]["unknown_reason"]
            .as_str()
            .unwrap()
            .contains("datetime comparisons with a regular expression"),
        "{}",
        records[0]
    );
    assert!(records[1].get("unknown_reason").is_none());
}

#[test]
fn empty_stdin_is_an_input_error_not_a_pass() {
    let out = fpx().args(["lint", "-"]).write_stdin("").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdin is empty"));
}

/// A long exclusion's findings are drawn on a window of it, with the `-->` position
/// counted on the whole text: 2,000 unknown fields on one line render as 2,000 short
/// snippets (each used to redraw the whole line, quadratic in its length).
#[test]
fn findings_on_a_long_line_are_drawn_on_a_window_with_the_true_column() {
    let text: Vec<String> = (0..2_000).map(|i| format!("F{i} == \"x\"")).collect();
    let text = text.join(" and ");
    let out = fpx()
        .args(["lint", "--table", "DeviceProcessEvents", "-"])
        .write_stdin(text.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.matches("error[FPX201]").count(), 2_000);
    let column = text.find("F1500 ").unwrap() + 1;
    let at = stdout.find("unknown field `F1500`").expect("F1500 is reported");
    let arrow = stdout[at..].lines().nth(1).unwrap();
    assert_eq!(arrow, format!(" --> <stdin>:1:{column}"));
    let snippet = stdout[at..].lines().nth(3).unwrap();
    assert!(snippet.contains("F1500 == \"x\""), "{snippet}");
    assert!(
        snippet.starts_with("1 | …") || snippet.starts_with("1 | ..."),
        "{snippet}"
    );
    let longest = stdout.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 400, "a line of {longest} characters");
}

/// A message or fix that quotes a huge exclusion is cut in text output, and kept whole
/// in JSON.
#[test]
fn a_huge_message_is_cut_in_text_and_whole_in_json() {
    let text: Vec<String> = (0..3_000).map(|i| format!("FileName != \"f{i}\"")).collect();
    let text = text.join(" and ");
    let out = fpx().args(["lint", "-"]).write_stdin(text.clone()).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("error[FPX103]"), "{stdout}");
    assert!(stdout.contains("(whole in `--format json`; `fpx fix` applies it)"));
    assert!(stdout.len() < 10_000, "{} bytes of text output", stdout.len());
    let (records, _) = jsonl(text);
    let fix = &records[0]["findings"][0]["fix"];
    assert!(
        fix.as_str().is_some_and(|f| f.contains("FileName == \"f2999\"")),
        "{fix}"
    );
}
