//! The README's complete example is real: its rule and scenario files, copied out of the
//! README, give the findings it describes.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// The README's ```yaml blocks whose first line names a file (`# rules/x.yaml`).
fn example_files() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| {
            let body = block.split("```").next()?;
            let name = body.lines().next()?.strip_prefix("# ")?.trim();
            (name.ends_with(".yaml") && name.contains('/')).then(|| (name.to_string(), body.to_string()))
        })
        .collect()
}

#[test]
fn the_readme_example_gives_the_findings_it_describes() {
    let files = example_files();
    assert_eq!(files.len(), 2, "a rule and a scenario file: {files:?}");
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in &files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes = |i: usize| -> Vec<String> {
        v["results"][i]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(v["results"][0]["verdict"], "pass", "{v}");
    assert_eq!(codes(0), Vec::<String>::new());
    assert_eq!(codes(1), ["FPX301", "FPX304"]);
    assert_eq!(v["results"][1]["line"], 13, "the README shows line 13");
    assert_eq!(v["results"][1]["column"], 16);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The README's terminal examples (a ```` ``` ```` block whose first line is `$ fpx ...`,
/// continued by lines ending in `\`): the command and the output lines it shows.
fn terminal_examples(readme: &str) -> Vec<(String, Vec<String>)> {
    // Code blocks by their fences (an opening fence may name a language).
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut open: Option<Vec<&str>> = None;
    for line in readme.lines() {
        match (&mut open, line.trim_start().starts_with("```")) {
            // A block in another language (```yaml) is never a terminal example.
            (None, true) if line.trim() == "```" => open = Some(Vec::new()),
            (None, true) => open = Some(vec!["<other language>"]),
            (Some(_), true) => blocks.push(open.take().expect("open")),
            (Some(block), false) => block.push(line),
            (None, false) => {}
        }
    }
    blocks
        .into_iter()
        .filter(|block| block.first().is_some_and(|l| l.starts_with("$ fpx ")))
        .map(|block| {
            let mut lines = block.into_iter();
            let mut command = String::new();
            for line in lines.by_ref() {
                let line = line.strip_prefix("$ ").unwrap_or(line);
                match line.strip_suffix('\\') {
                    Some(part) => command.push_str(part),
                    None => {
                        command.push_str(line);
                        break;
                    }
                }
            }
            (command, lines.map(str::to_string).collect())
        })
        .collect()
}

/// Every terminal example of the README is what fpx prints: each line it shows is a line
/// of the real output, in order (`...` leaves lines out; a line with `...` in it shows
/// the start of its line). They run in a copy of the bundled rules, the fixtures and the
/// README's example files, as a reader would run them.
#[test]
fn readme_terminal_examples_are_real_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for sub in ["rules", "scenarios", "tests/fixtures"] {
        copy_dir(&root.join(sub), &dir.path().join(sub));
    }
    for (name, text) in example_files() {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let bin = assert_cmd::cargo::cargo_bin("fpx");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let examples = terminal_examples(&readme);
    assert!(examples.len() >= 5, "{}", examples.len());
    let mut stale = Vec::new();
    for (command, shown) in &examples {
        let out = std::process::Command::new("bash")
            .args(["-c", command])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        let output = String::from_utf8_lossy(&out.stdout).into_owned();
        let lines: Vec<&str> = output.lines().map(str::trim_end).collect();
        let mut at = 0;
        for line in shown {
            let line = line.trim_end();
            if line.trim() == "..." {
                continue;
            }
            let found = match line.split_once("...") {
                Some((start, _)) => lines[at..].iter().position(|l| l.starts_with(start.trim_end())),
                None => lines[at..].iter().position(|l| *l == line),
            };
            match found {
                Some(i) => at += i + 1,
                None => {
                    stale.push(format!(
                        "`{command}`: not in its output (in order): {line}\n--- output:\n{output}"
                    ));
                    break;
                }
            }
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n\n"));
}

/// The JSON sample's summary is the bundled rules' (`fpx check --format json`).
#[test]
fn the_readme_json_sample_has_the_bundled_summary() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find(" \"summary\": {\"rules\"").expect("the sample's summary");
    let end = start + readme[start..].find('}').unwrap();
    let shown: Value = serde_json::from_str(&format!("{{{}}}", readme[start..=end].trim())).unwrap();
    let out = Command::cargo_bin("fpx")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shown["summary"], v["summary"]);
}
