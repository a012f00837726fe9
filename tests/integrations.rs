//! The pre-commit hook and the GitHub Action, run the way pre-commit and GitHub would
//! run them: the hook's `entry`, `files` and `pass_filenames` from
//! `.pre-commit-hooks.yaml` on the files a commit changes in a temporary git repository,
//! and the Action's `run:` steps from `action.yml` with its inputs in the environment.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn yaml(name: &str) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap()).unwrap()
}

/// A PATH with the built fpx first.
fn path_with_fpx() -> String {
    let bin = assert_cmd::cargo::cargo_bin("fpx");
    let dir = bin.parent().unwrap().display().to_string();
    format!("{dir}:{}", std::env::var("PATH").unwrap_or_default())
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=fpx", "-c", "user.email=fpx@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The README's example rule and scenario file (a rule that passes with one warning).
fn example_project(dir: &Path) {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    for block in readme.split("```yaml\n").skip(1) {
        let body = block.split("```").next().unwrap();
        let Some(name) = body.lines().next().and_then(|l| l.strip_prefix("# ")) else {
            continue;
        };
        if name.ends_with(".yaml") && name.contains('/') {
            let path = dir.join(name.trim());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
    }
}

/// Runs the hook as pre-commit would for the files a commit changes: not at all when
/// none matches `files`, else `entry` (with the files when `pass_filenames`).
fn run_hook(dir: &Path, changed: &[String]) -> Option<std::process::Output> {
    let hooks = yaml(".pre-commit-hooks.yaml");
    let hook = &hooks[0];
    assert_eq!(hook["id"], "fpx");
    let files = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
    let matching: Vec<&String> = changed.iter().filter(|f| files.is_match(f)).collect();
    if matching.is_empty() {
        return None;
    }
    let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
    let mut cmd = Command::new(entry[0]);
    cmd.current_dir(dir).env("PATH", path_with_fpx()).args(&entry[1..]);
    if hook["pass_filenames"].as_bool().unwrap_or(true) {
        cmd.args(matching);
    }
    Some(cmd.output().unwrap())
}

#[test]
fn the_pre_commit_hook_checks_the_whole_rule_set_when_a_scenario_changes() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    example_project(dir.path());
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "rules"]);
    // Only the scenario file changes (a scenario whose exclusion is fine).
    let scenarios = dir.path().join("scenarios/anydesk-process.yaml");
    let text = std::fs::read_to_string(&scenarios).unwrap();
    let fixed = text.replace(
        "    exclusion: ProcessCommandLine contains \"--install\"",
        "    exclusion: ProcessCommandLine contains \"--install\" and AccountName =~ \"svc_deploy\"",
    );
    assert_ne!(text, fixed);
    std::fs::write(&scenarios, fixed).unwrap();
    git(dir.path(), &["add", "."]);
    let changed: Vec<String> = git(dir.path(), &["diff", "--cached", "--name-only"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(changed, ["scenarios/anydesk-process.yaml"]);
    let out = run_hook(dir.path(), &changed).expect("a scenario file runs the hook");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("FPX405"), "no false orphan: {stdout}");
    assert!(
        stdout.contains("fpx: 1 rule, 2 scenarios"),
        "the rule with its scenarios: {stdout}"
    );
    // A change to a file fpx does not read does not run it.
    assert!(run_hook(dir.path(), &["README.md".to_string()]).is_none());
    assert!(run_hook(dir.path(), &["fpx.toml".to_string()]).is_some());
}

/// The shell command of one of the Action's steps.
fn action_step(id: &str) -> String {
    let action = yaml("action.yml");
    let steps = action["runs"]["steps"].as_sequence().unwrap();
    let step = steps
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id}"));
    assert_eq!(step["shell"], "bash");
    step["run"].as_str().unwrap().to_string()
}

fn run_step(dir: &Path, id: &str, paths: &str, args: &str, summary: &Path) -> std::process::Output {
    run_step_with(dir, id, paths, args, summary, &[])
}

fn run_step_with(
    dir: &Path,
    id: &str,
    paths: &str,
    args: &str,
    summary: &Path,
    env: &[(&str, &str)],
) -> std::process::Output {
    Command::new("bash")
        .current_dir(dir)
        .env("PATH", path_with_fpx())
        .env("FPX_PATHS", paths)
        .env("FPX_ARGS", args)
        .env("GITHUB_STEP_SUMMARY", summary)
        .envs(env.iter().copied())
        .args(["-e", "-c", &action_step(id)])
        .output()
        .unwrap()
}

#[test]
fn the_actions_steps_write_sarif_and_a_summary_and_fail_the_job_on_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    example_project(dir.path());
    let summary: PathBuf = dir.path().join("summary.md");
    let args = "--cases 32";
    let out = run_step(dir.path(), "sarif", "", args, &summary);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sarif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("fpx.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let out = run_step(dir.path(), "summary", "", args, &summary);
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&summary).unwrap().contains("AnyDesk"));
    // The example has an error (FPX301): the gate step fails with annotations.
    let out = run_step(dir.path(), "gate", "rules scenarios", args, &summary);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("::error file=scenarios/anydesk-process.yaml,line="),
        "{stdout}"
    );
    // With the finding baselined, the gate passes.
    let out = Command::new(assert_cmd::cargo::cargo_bin("fpx"))
        .current_dir(dir.path())
        .args(["check", "--cases", "32", "--write-baseline", ".fpx-baseline.json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = run_step(
        dir.path(),
        "gate",
        "",
        "--cases 32 --baseline .fpx-baseline.json",
        &summary,
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_actions_diff_step_writes_what_a_pull_request_changes_to_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    example_project(dir.path());
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    let base = git(dir.path(), &["rev-parse", "HEAD"]).trim().to_string();
    // The pull request adds a file name to the rule.
    let rule = dir.path().join("rules/anydesk-process.yaml");
    let text = std::fs::read_to_string(&rule).unwrap();
    let widened = text.replacen(
        "FileName =~ \"AnyDesk.exe\"",
        "FileName in~ (\"AnyDesk.exe\", \"anydesk-portable.exe\")",
        1,
    );
    assert_ne!(text, widened, "the example rule names AnyDesk.exe");
    std::fs::write(&rule, widened).unwrap();
    git(dir.path(), &["commit", "-q", "-am", "pr"]);
    let summary: PathBuf = dir.path().join("summary.md");
    let out = run_step_with(
        dir.path(),
        "diff",
        "",
        "",
        &summary,
        &[("FPX_BASE", &base), ("FPX_COMMENT", "false")],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("### fpx diff"), "{summary}");
    assert!(summary.contains("| broadened |"), "{summary}");
    assert!(summary.contains("anydesk-portable.exe"), "{summary}");
}
