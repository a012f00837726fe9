//! fpx's verdicts against the z3 SMT solver (its string theory) on exclusions that
//! compare fields with each other: `tests/smt/related_fields.py` draws them, runs
//! `fpx lint --table` and z3 on each, and fails on a disagreement. Needs python3 with
//! z3-solver, so it is ignored by default and run by CI (`.ci/run` installs z3-solver).

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs python3 with z3-solver"]
fn fields_compared_with_each_other_agree_with_z3() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for seed in ["1", "2", "3"] {
        let out = Command::new("python3")
            .arg(root.join("tests/smt/related_fields.py"))
            .arg(env!("CARGO_BIN_EXE_fpx"))
            .arg(seed)
            .arg("400")
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        eprintln!("seed {seed}: {stdout}");
        assert!(
            out.status.success(),
            "seed {seed}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains(" 0 disagreements"), "{stdout}");
    }
}
