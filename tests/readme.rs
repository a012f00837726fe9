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
