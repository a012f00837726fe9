//! `fpx diff` through the binary: rule pairs in KQL, Sigma and seed format for each change
//! class, scenario exclusions, the gate, the formats, and `--git` on a temporary
//! repository.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// Writes `files` (name, text) under `dir`.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

fn fpx(dir: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap(),
    )
}

/// `fpx diff old new --format json` of two versions of the files.
fn diff_json(old: &[(&str, &str)], new: &[(&str, &str)], more: &[&str]) -> (Value, i32) {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("old"), old);
    write(&dir.path().join("new"), new);
    let mut args = vec!["diff", "old", "new", "--format", "json", "--isolated"];
    args.extend(more);
    let (stdout, stderr, code) = fpx(dir.path(), &args);
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    (v, code)
}

fn kql(query: &str) -> String {
    let indented: String = query.lines().map(|l| format!("  {l}\n")).collect();
    format!("id: 11111111-1111-1111-1111-111111111111\nname: Remote tool run\nquery: |\n{indented}")
}

fn only_rule(v: &Value) -> &Value {
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{v:#}");
    &rules[0]
}

#[test]
fn a_widened_inline_exclusion_narrows_the_rule_with_the_event_it_stops() {
    let old =
        kql("DeviceProcessEvents\n| where FileName =~ \"psexec.exe\"\n| where InitiatingProcessFileName !~ \"a.exe\"");
    let new = kql(
        "DeviceProcessEvents\n| where FileName =~ \"psexec.exe\"\n| where InitiatingProcessFileName !endswith \"a.exe\"",
    );
    let (v, code) = diff_json(&[("r.yaml", &old)], &[("r.yaml", &new)], &[]);
    let r = only_rule(&v);
    assert_eq!(r["change"], "narrowed", "{r:#}");
    assert_eq!(code, 0, "no new error finding: the default gate passes");
    let event = &r["stops_alerting"]["event"];
    let parent = event["InitiatingProcessFileName"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(parent.ends_with("a.exe") && parent != "a.exe", "{event}");
    assert_eq!(event["FileName"].as_str().unwrap().to_ascii_lowercase(), "psexec.exe");
    let cause = r["stops_alerting"]["cause"].as_str().unwrap();
    assert!(
        cause.contains("!endswith \"a.exe\"") && cause.contains("(new or changed)"),
        "{cause}"
    );
    assert!(r["starts_alerting"].is_null());
    // The stricter gate fails on it.
    let (_, code) = diff_json(
        &[("r.yaml", &old)],
        &[("r.yaml", &new)],
        &["--fail-on", "stops-alerting"],
    );
    assert_eq!(code, 1);
}

#[test]
fn a_refactor_over_two_wheres_is_equivalent() {
    let old =
        kql("DeviceProcessEvents\n| where FileName in~ (\"a.exe\", \"b.exe\")\n| where ProcessCommandLine has \"-s\"");
    let new = kql(
        "DeviceProcessEvents\n| where ProcessCommandLine has \"-s\"\n| where FileName =~ \"a.exe\" or FileName =~ \"B.EXE\"",
    );
    let (v, code) = diff_json(
        &[("r.yaml", &old)],
        &[("r.yaml", &new)],
        &["--fail-on", "stops-alerting"],
    );
    let r = only_rule(&v);
    assert_eq!(r["change"], "equivalent", "{r:#}");
    assert!(r["stops_alerting"].is_null() && r["starts_alerting"].is_null());
    assert_eq!(code, 0);
}

#[test]
fn a_broadened_detection_and_a_dropped_exclusion_start_alerting() {
    let old =
        kql("DeviceProcessEvents\n| where FileName in~ (\"a.exe\")\n| where FolderPath !startswith @\"C:\\Tools\"");
    let new = kql("DeviceProcessEvents\n| where FileName in~ (\"a.exe\", \"b.exe\")");
    let (v, code) = diff_json(&[("r.yaml", &old)], &[("r.yaml", &new)], &["--fail-on", "broadened"]);
    let r = only_rule(&v);
    assert_eq!(r["change"], "broadened", "{r:#}");
    assert_eq!(code, 1);
    let starts = &r["starts_alerting"];
    let cause = starts["cause"].as_str().unwrap();
    // Either reason is right for some event; the one printed must fit its event.
    let file = starts["event"]["FileName"].as_str().unwrap().to_ascii_lowercase();
    if file == "b.exe" {
        assert_eq!(cause, "the detection now matches it");
    } else {
        assert!(cause.starts_with("no longer suppressed by the exclusion"), "{cause}");
        assert!(cause.contains("(removed or changed)"), "{cause}");
    }
}

#[test]
fn a_value_swapped_is_changed_with_both_events() {
    let old = kql("DeviceProcessEvents\n| where FileName =~ \"a.exe\"");
    let new = kql("DeviceProcessEvents\n| where FileName =~ \"b.exe\"");
    let (v, _) = diff_json(&[("r.yaml", &old)], &[("r.yaml", &new)], &[]);
    let r = only_rule(&v);
    assert_eq!(r["change"], "changed");
    assert_eq!(
        r["stops_alerting"]["event"]["FileName"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        "a.exe"
    );
    assert_eq!(
        r["starts_alerting"]["event"]["FileName"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        "b.exe"
    );
    assert_eq!(r["stops_alerting"]["cause"], "the detection no longer matches it");
}

const SIGMA_OLD: &str = r"title: Wevtutil log size or WMIC
id: 22222222-2222-2222-2222-222222222222
status: test
logsource:
    category: process_creation
    product: windows
detection:
    selection_wevtutil:
        Image|endswith: '\wevtutil.exe'
        CommandLine|contains: ' sl '
    selection_wmic:
        Image|endswith: '\wmic.exe'
    filter_main_msiexec:
        ParentImage|endswith: '\msiexec.exe'
    condition: selection_wevtutil or selection_wmic and not filter_main_msiexec
level: medium
";

#[test]
fn a_sigma_precedence_fix_narrows_the_rule_by_the_filtered_branch() {
    let new = SIGMA_OLD.replace(
        "condition: selection_wevtutil or selection_wmic and not filter_main_msiexec",
        "condition: (selection_wevtutil or selection_wmic) and not filter_main_msiexec",
    );
    let (v, _) = diff_json(&[("r.yml", SIGMA_OLD)], &[("r.yml", &new)], &[]);
    let r = only_rule(&v);
    assert_eq!(r["format"], "sigma");
    assert_eq!(r["change"], "narrowed", "{r:#}");
    // An event of the wevtutil branch that the filter describes: it alerted, and no
    // longer does.
    let event = &r["stops_alerting"]["event"];
    assert!(
        event["Image"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .ends_with("\\wevtutil.exe"),
        "{event}"
    );
    assert!(event["CommandLine"].as_str().unwrap().contains(" sl "), "{event}");
    assert!(
        event["ParentImage"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .ends_with("\\msiexec.exe"),
        "{event}"
    );
    assert!(
        r["stops_alerting"]["cause"]
            .as_str()
            .unwrap()
            .starts_with("suppressed by the exclusion")
    );
    // A title change alone changes nothing a rule alerts on.
    let retitled = SIGMA_OLD.replace("title: Wevtutil log size or WMIC", "title: Another title");
    let (v, _) = diff_json(&[("r.yml", SIGMA_OLD)], &[("r.yml", &retitled)], &[]);
    assert_eq!(only_rule(&v)["change"], "unchanged");
}

const SEED: &str = "A test seed.
KQL Query
DeviceProcessEvents
| where FileName =~ 'agent.exe'
id: 33333333-3333-3333-3333-333333333333
name: Remote Management and Monitoring tool - Agent - Create Process
description: |
Test rule.
dataTypes:
- DeviceProcessEvents
query: |
DeviceProcessEvents
| where FileName =~ 'agent.exe'
Scenario: Admin runs the agent
Description: The admin runs it with the --update flag.
Filter/Exclusion: ProcessCommandLine contains \"--update\"
";

#[test]
fn a_seed_scenario_exclusion_that_widens_suppresses_more() {
    let new = SEED.replace(
        "Filter/Exclusion: ProcessCommandLine contains \"--update\"",
        "Filter/Exclusion: ProcessCommandLine contains \"--up\"",
    );
    let (v, code) = diff_json(&[("seed.txt", SEED)], &[("seed.txt", &new)], &[]);
    let r = only_rule(&v);
    assert_eq!(r["format"], "seed");
    assert_eq!(r["change"], "unchanged", "the rule's own query did not change");
    let s = &r["scenarios"][0];
    assert_eq!(s["change"], "suppresses-more", "{s:#}");
    let command = s["suppresses_more"]["ProcessCommandLine"].as_str().unwrap();
    assert!(command.contains("--up") && !command.contains("--update"), "{command}");
    assert_eq!(code, 0);
}

#[test]
fn added_and_removed_rules_and_a_new_error_finding_fail_the_default_gate() {
    let kept = kql("DeviceProcessEvents\n| where FileName =~ \"a.exe\"");
    let other = kql("DeviceProcessEvents\n| where FileName =~ \"b.exe\"").replace(
        "11111111-1111-1111-1111-111111111111",
        "44444444-4444-4444-4444-444444444444",
    );
    // The new version adds an exclusion that removes everything the rule matches.
    let dead = kql("DeviceProcessEvents\n| where FileName =~ \"a.exe\"\n| where FileName !~ \"a.exe\"");
    let added = kql("DeviceNetworkEvents\n| where RemotePort == 4444").replace(
        "11111111-1111-1111-1111-111111111111",
        "55555555-5555-5555-5555-555555555555",
    );
    let (v, code) = diff_json(
        &[("a.yaml", &kept), ("b.yaml", &other)],
        &[("a.yaml", &dead), ("c.yaml", &added)],
        &[],
    );
    let changes: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["narrowed", "removed", "added"], "{v:#}");
    let narrowed = &v["rules"][0];
    let new_codes: Vec<&str> = narrowed["new_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(new_codes.contains(&"FPX108"), "{new_codes:?}");
    assert_eq!(code, 1, "a new error finding fails the default gate");
    assert_eq!(v["gate"]["failed"], true);
    assert_eq!(v["gate"]["rules"][0], "11111111-1111-1111-1111-111111111111");
}

#[test]
fn text_and_markdown_put_the_summary_first_and_markdown_fits_a_comment() {
    let dir = tempfile::tempdir().unwrap();
    let mut old = Vec::new();
    let mut new = Vec::new();
    for i in 0..400 {
        let id = format!("{i:08}-0000-0000-0000-000000000000");
        let rule = |value: &str| {
            format!(
                "id: {id}\nname: Rule {i} with a long name to fill the table {}\nquery: |\n  DeviceProcessEvents\n  | where FileName =~ \"{value}\"\n",
                "x".repeat(60)
            )
        };
        old.push((format!("r{i}.yaml"), rule("a.exe")));
        new.push((format!("r{i}.yaml"), rule("b.exe")));
    }
    write(&dir.path().join("old"), &as_refs(&old));
    write(&dir.path().join("new"), &as_refs(&new));
    let (text, _, code) = fpx(dir.path(), &["diff", "old", "new", "--isolated"]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with("fpx diff: 400 rules differ (400 changed), 0 unchanged"),
        "{text}"
    );
    assert!(text.contains("stops alerting: {FileName: \"a.exe\"}"), "{text}");
    let (md, _, _) = fpx(
        dir.path(),
        &["diff", "old", "new", "--isolated", "--format", "markdown"],
    );
    assert!(md.len() <= 65_536, "{}", md.len());
    assert!(md.starts_with("### fpx diff\n\n400 rules differ"), "{md}");
    assert!(md.contains("| Rule 0 with a long name"), "{md}");
    assert!(
        md.contains("left out to fit a comment") || md.contains("more differ than fit here"),
        "{md}"
    );
    assert!(md.trim_end().ends_with("gate: passed (--fail-on new-findings)"));
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let (_, stderr, code) = fpx(dir.path(), &["diff", "only-one"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("give two versions to compare"), "{stderr}");
    let (_, stderr, code) = fpx(dir.path(), &["diff", "a", "b"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("a: no such file or directory"), "{stderr}");
    // A broken rule in the new version is an input error.
    write(
        dir.path(),
        &[
            ("old/r.yaml", &kql("DeviceProcessEvents")),
            ("new/r.yaml", "id: x\nqeury: |\n  T\n"),
        ],
    );
    let (_, stderr, code) = fpx(dir.path(), &["diff", "old", "new", "--isolated"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fpx: error: new/r.yaml"), "{stderr}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn git_revisions_and_the_working_tree_are_compared() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    git(root, &["init", "-q", "-b", "main"]);
    let v1 = kql("DeviceProcessEvents\n| where FileName =~ \"a.exe\"");
    let v2 = kql("DeviceProcessEvents\n| where FileName =~ \"a.exe\"\n| where FolderPath !startswith @\"C:\\Tools\"");
    write(root, &[("rules/r.yaml", &v1), ("notes.md", "not a rule")]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "v1"]);
    write(root, &[("rules/r.yaml", &v2)]);
    git(root, &["commit", "-q", "-am", "v2"]);
    // Two revisions: the exclusion added narrows the rule.
    let (out, stderr, code) = fpx(
        root,
        &["diff", "--git", "HEAD~1", "HEAD", "--format", "json", "--isolated"],
    );
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = only_rule(&v);
    assert_eq!(r["change"], "narrowed", "{r:#}");
    assert_eq!(r["new_file"], "rules/r.yaml", "files are named as in the repository");
    // The working tree against HEAD: unchanged, then an uncommitted edit.
    let (out, _, _) = fpx(root, &["diff", "--git", "HEAD", "--isolated"]);
    assert!(
        out.starts_with("fpx diff: no rule's alerts changed, 1 unchanged"),
        "{out}"
    );
    write(root, &[("rules/r.yaml", &v1)]);
    let (out, _, code) = fpx(root, &["diff", "--git", "HEAD", "--isolated", "--fail-on", "broadened"]);
    assert!(out.contains("broadened"), "{out}");
    assert_eq!(code, 1);
    // Paths before --git limit what is compared; a rule set that did not exist yet is
    // all added.
    git(root, &["checkout", "-q", "rules/r.yaml"]);
    write(root, &[("more/m.yaml", &v1.replace("11111111", "66666666"))]);
    let (out, stderr, code) = fpx(
        root,
        &["diff", "more", "--git", "HEAD", "--isolated", "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(only_rule(&v)["change"], "added");
    // A revision that does not exist is an input error.
    let (_, stderr, code) = fpx(root, &["diff", "--git", "nosuchrev", "--isolated"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("`nosuchrev` is not a commit"), "{stderr}");
}

/// The README's example: its rule and scenario files (the ```yaml blocks that name a
/// file), committed, then the pull request it describes.
#[test]
fn the_readme_diff_example_is_what_fpx_prints() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for block in readme.split("```yaml\n").skip(1) {
        let body = block.split("```").next().unwrap();
        if let Some(name) = body.lines().next().and_then(|l| l.strip_prefix("# "))
            && name.ends_with(".yaml")
            && name.contains('/')
        {
            write(root, &[(name.trim(), body)]);
        }
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "base"]);
    let rule = root.join("rules/anydesk-process.yaml");
    let text = std::fs::read_to_string(&rule).unwrap();
    let changed = text.replace(
        "FileName =~ \"AnyDesk.exe\"",
        "FileName in~ (\"AnyDesk.exe\", \"AnyDesk-portable.exe\")",
    );
    assert_ne!(changed, text);
    std::fs::write(&rule, changed).unwrap();
    let (out, stderr, code) = fpx(root, &["diff", "--git", "HEAD", "--format", "markdown", "--isolated"]);
    assert_eq!(code, 0, "{stderr}");
    let shown = readme
        .split("```markdown\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .unwrap();
    assert_eq!(out.trim_end(), shown.trim_end());
}

/// 100 SigmaHQ rules given a filter each (`selection and not fpx_filter`), next to 200
/// unchanged: each is narrowed by exactly the events the filter describes (or equivalent,
/// where its selection already fixes the parent process), nothing broadens.
#[test]
#[ignore = "needs ../shared"]
fn a_hundred_sigmahq_rules_given_a_filter_are_narrowed_by_it() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma/rules/windows/process_creation");
    let mut files: Vec<_> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    let dir = tempfile::tempdir().unwrap();
    let (mut changed, mut kept) = (0, 0);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let plain = text.contains("\n    condition: selection\n") && text.contains("\ndetection:\n");
        if plain && changed < 100 {
            let new = text
                .replace(
                    "\ndetection:\n",
                    "\ndetection:\n    fpx_filter:\n        ParentImage|endswith: '\\fpx-test.exe'\n",
                )
                .replace(
                    "\n    condition: selection\n",
                    "\n    condition: selection and not fpx_filter\n",
                );
            write(
                dir.path(),
                &[(&format!("old/{name}"), &text), (&format!("new/{name}"), &new)],
            );
            changed += 1;
        } else if kept < 200 {
            write(
                dir.path(),
                &[(&format!("old/{name}"), &text), (&format!("new/{name}"), &text)],
            );
            kept += 1;
        }
    }
    assert_eq!((changed, kept), (100, 200));
    let (stdout, stderr, code) = fpx(dir.path(), &["diff", "old", "new", "--format", "json", "--isolated"]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let counts = &v["summary"]["rules"];
    assert_eq!(counts["unchanged"], 200, "{counts}");
    assert_eq!(
        counts["narrowed"].as_u64().unwrap() + counts["equivalent"].as_u64().unwrap(),
        100,
        "{counts}"
    );
    // Equivalent only where the rule already fixes the parent (a child-process rule):
    // the filter can never apply.
    for r in v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == "equivalent")
    {
        let text = std::fs::read_to_string(dir.path().join(r["new_file"].as_str().unwrap())).unwrap();
        let selection = text.split("\n    selection:").nth(1).unwrap_or_default();
        assert!(selection.contains("ParentImage"), "{}", r["new_file"]);
    }
    for r in v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["change"] == "narrowed")
    {
        let event = &r["stops_alerting"]["event"];
        let parent = event["ParentImage"].as_str().unwrap_or_default().to_ascii_lowercase();
        assert!(parent.ends_with("\\fpx-test.exe"), "{}: {event}", r["id"]);
        assert!(r["starts_alerting"].is_null());
        let cause = r["stops_alerting"]["cause"].as_str().unwrap();
        assert!(
            cause.contains("fpx-test.exe") && cause.contains("(new or changed)"),
            "{cause}"
        );
    }
}

#[test]
fn events_replayed_through_both_versions_are_counted_with_the_exclusion_that_stops_them() {
    let dir = tempfile::tempdir().unwrap();
    let old = kql("DeviceProcessEvents\n| where FileName =~ \"psexec.exe\"");
    let new = kql(
        "DeviceProcessEvents\n| where FileName =~ \"psexec.exe\" or FileName =~ \"paexec.exe\"\n| where InitiatingProcessFileName !~ \"deploy.exe\"",
    );
    write(
        dir.path(),
        &[
            ("old/r.yaml", &old),
            ("new/r.yaml", &new),
            (
                "events/DeviceProcessEvents.jsonl",
                concat!(
                    "{\"FileName\": \"psexec.exe\", \"InitiatingProcessFileName\": \"cmd.exe\"}\n",
                    "{\"FileName\": \"PsExec.exe\", \"InitiatingProcessFileName\": \"deploy.exe\"}\n",
                    "{\"FileName\": \"paexec.exe\", \"InitiatingProcessFileName\": \"cmd.exe\"}\n",
                    "{\"FileName\": \"notepad.exe\", \"InitiatingProcessFileName\": \"cmd.exe\"}\n",
                ),
            ),
        ],
    );
    let (stdout, stderr, code) = fpx(
        dir.path(),
        &[
            "diff",
            "old",
            "new",
            "--isolated",
            "--format",
            "json",
            "--events",
            "events",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let r = only_rule(&v);
    assert_eq!(r["change"], "changed");
    assert_eq!(r["events"]["stop_alerting"], 1, "{r:#}");
    assert_eq!(r["events"]["stopped_by"][0][0], "inline exclusion 1");
    assert_eq!(r["events"]["stopped_by"][0][1], 1);
    assert_eq!(r["events"]["start_alerting"], 1);
    assert_eq!(r["events"]["no_longer_suppressed_by"], serde_json::json!([]));
    let (text, _, _) = fpx(dir.path(), &["diff", "old", "new", "--isolated", "--events", "events"]);
    assert!(
        text.contains("events: 1 stop alerting (suppressed 1 by inline exclusion 1), 1 start alerting"),
        "{text}"
    );
    // A bad event is said, and the run is not a pass.
    write(
        dir.path(),
        &[("events/DeviceProcessEvents.jsonl", "{\"FileName\": \"psexec.exe\"\n")],
    );
    let (_, stderr, code) = fpx(dir.path(), &["diff", "old", "new", "--isolated", "--events", "events"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("fpx: bad event:"), "{stderr}");
}
