//! fpx against Microsoft's own KQL analyzer (Kusto.Language, vendored in
//! ../shared/tools/kusto, run with node): whatever fpx says about a query's validity
//! (FPX403) must agree with it. Needs ../shared and node, so these tests are ignored by
//! default and run by CI (`cargo test -- --ignored`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// Kusto.Language's verdict on each query: `true` when it compiles (with the Sentinel
/// columns, as the rules are Sentinel rules), with its error messages.
fn kusto(queries: &[String]) -> Vec<(bool, Vec<String>)> {
    let tool = shared().join("tools/kusto/kusto-check.js");
    let schema = shared().join("reference/defender_xdr_schemas.json");
    let mut child = Command::new("node")
        .arg(tool)
        .arg(schema)
        .arg("--sentinel")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs (install Node.js to run the tests that need ../shared)");
    let mut input = String::new();
    for (i, q) in queries.iter().enumerate() {
        input.push_str(&json!({"id": i, "query": q}).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(out.status.success(), "kusto-check failed");
    let mut verdicts = vec![(false, Vec::new()); queries.len()];
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let i = v["id"].as_u64().unwrap() as usize;
        let errors = v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["code"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        verdicts[i] = (v["ok"].as_bool().unwrap(), errors);
    }
    verdicts
}

fn fpx_rejects(query: &str) -> Vec<String> {
    fpx::kql::validate(query).into_iter().map(|e| e.message).collect()
}

/// The RMM corpus's queries, by file name.
fn corpus_queries() -> Vec<(String, String)> {
    let corpus = fpx::corpus::load(&[shared().join("corpus/rmm-rules")]);
    assert_eq!(corpus.rules.len(), 168);
    corpus
        .rules
        .iter()
        .map(|r| {
            (
                r.file.file_name().unwrap().to_string_lossy().to_string(),
                r.query.clone(),
            )
        })
        .collect()
}

/// The constructs of real Sentinel rules (../shared/reference/kql_constructs.jsonl) and
/// the representative real queries (representative_queries.kql).
fn reference_queries() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let constructs = std::fs::read_to_string(shared().join("reference/kql_constructs.jsonl")).unwrap();
    for line in constructs.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        out.push((
            v["label"].as_str().unwrap().to_string(),
            v["query"].as_str().unwrap().to_string(),
        ));
    }
    let representative = std::fs::read_to_string(shared().join("reference/representative_queries.kql")).unwrap();
    for part in representative.split("// =====").filter(|p| !p.trim().is_empty()) {
        let (title, query) = part.split_once('\n').unwrap();
        out.push((title.trim().to_string(), query.to_string()));
    }
    out
}

/// Typical mistakes made in real queries: a misspelled column, operator or table, a
/// keyword in upper case, an unclosed parenthesis or string, a trailing comma, a stage
/// without its operator. Applied to every real query, they make cases neither side saw.
fn mutations(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut replace_first = |from: &str, to: &str| {
        if let Some(at) = query.find(from) {
            out.push(format!("{}{to}{}", &query[..at], &query[at + from.len()..]));
        }
    };
    replace_first("| where ", "| wher ");
    replace_first("| where ", "| ");
    replace_first("| summarize ", "| sumarize ");
    replace_first("FileName", "Filename");
    replace_first("DeviceName", "DeviceNam");
    replace_first("ProcessCommandLine", "CommandLine");
    replace_first("RemoteUrl", "RemoteURL");
    replace_first("Signer", "Signr");
    replace_first(" and ", " AND ");
    replace_first(" or ", " OR ");
    replace_first(" has ", " HAS ");
    replace_first("DeviceProcessEvents", "DeviceProcessEvent");
    replace_first("DeviceNetworkEvents", "DeviceNetworkEvent");
    replace_first(")", "");
    replace_first("(", "");
    replace_first("')", "', )");
    replace_first("\")", "\", )");
    replace_first("'", "");
    replace_first(" by ", " by AccountUpn, ");
    replace_first("| project ", "| project-rename X = DeviceName | project ");
    replace_first("| extend ", "| extend Zz = 1 | where Zz == 1 | extend ");
    replace_first("| where ", "| project DeviceName | where ");
    out
}

/// Flags fpx raises that Kusto does not, and the other way round.
fn compare(cases: &[(String, String)]) -> (Vec<String>, Vec<String>, usize) {
    let queries: Vec<String> = cases.iter().map(|(_, q)| q.clone()).collect();
    let verdicts = kusto(&queries);
    let (mut wrong, mut missed, mut agreed_rejections) = (Vec::new(), Vec::new(), 0);
    for ((name, query), (ok, errors)) in cases.iter().zip(verdicts) {
        let fpx = fpx_rejects(query);
        match (ok, fpx.is_empty()) {
            (true, false) => wrong.push(format!("{name}: fpx says {fpx:?}\n{query}")),
            (false, true) => missed.push(format!("{name}: Kusto says {errors:?}")),
            (false, false) => agreed_rejections += 1,
            (true, true) => {}
        }
    }
    (wrong, missed, agreed_rejections)
}

/// The acceptance test of FPX403: on the corpus, fpx rejects exactly the queries
/// Kusto.Language rejects.
#[test]
#[ignore = "needs ../shared and node"]
fn corpus_rejections_equal_kusto() {
    let (wrong, missed, agreed) = compare(&corpus_queries());
    assert!(
        wrong.is_empty(),
        "fpx rejects queries Kusto accepts:\n{}",
        wrong.join("\n")
    );
    assert!(
        missed.is_empty(),
        "fpx misses queries Kusto rejects:\n{}",
        missed.join("\n")
    );
    assert_eq!(agreed, 62);
}

/// On real queries and on mutations of them that neither side was tuned on, fpx never
/// rejects a query Kusto accepts; and it catches most of what Kusto rejects.
#[test]
#[ignore = "needs ../shared and node"]
fn fpx_never_rejects_a_query_kusto_accepts() {
    let mut cases = reference_queries();
    cases.extend(corpus_queries());
    let originals = cases.clone();
    for (name, query) in &originals {
        for (i, m) in mutations(query).into_iter().enumerate() {
            cases.push((format!("{name} (mutation {i})"), m));
        }
    }
    let (wrong, missed, agreed) = compare(&cases);
    assert!(
        wrong.is_empty(),
        "fpx rejects queries Kusto accepts:\n{}",
        wrong.join("\n\n")
    );
    let recall = agreed as f64 / (agreed + missed.len()) as f64;
    eprintln!(
        "{} queries: fpx rejects {agreed} of the {} Kusto rejects ({:.1}%)",
        cases.len(),
        agreed + missed.len(),
        100.0 * recall
    );
    for m in missed.iter().take(40) {
        eprintln!("missed: {m}");
    }
    assert!(
        recall >= 0.9,
        "fpx catches only {:.1}% of the invalid queries",
        100.0 * recall
    );
}

/// `fpx replay --emit kql`: every query emitted for the KQL rules of the bundled corpus,
/// the fixtures and the shared RMM corpus (with their scenarios) compiles in Kusto.Language
/// with Sentinel's columns.
#[test]
#[ignore = "needs ../shared and node"]
fn emitted_replay_queries_compile_in_kusto() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut queries = Vec::new();
    for paths in [
        vec![root.join("rules"), root.join("scenarios")],
        vec![root.join("tests/fixtures/inline"), root.join("tests/fixtures/emit")],
        vec![root.join("tests/fixtures/gate")],
        vec![shared().join("corpus/rmm-rules")],
    ] {
        let report = fpx::checks::check_corpus(fpx::corpus::load(&paths), None);
        let (rules, _) = fpx::replay::plan(&report);
        for since in [None, Some("30d")] {
            queries.extend(rules.iter().filter_map(|r| fpx::replay::emit::query(r, since).ok()));
        }
    }
    let verdicts = kusto(&queries);
    let rejected: Vec<String> = queries
        .iter()
        .zip(&verdicts)
        .filter(|(_, (ok, _))| !ok)
        .map(|(q, (_, errors))| format!("{q}\n{}", errors.join("\n")))
        .collect();
    assert!(rejected.is_empty(), "Kusto rejects:\n{}", rejected.join("\n\n"));
    eprintln!("{} emitted queries compile in Kusto.Language", queries.len());
    assert!(queries.len() >= 300, "{} queries", queries.len());
}

/// FPX204 type-mismatch agrees with Kusto.Language on every operator (plain, negated,
/// case-sensitive forms), every column type of the Defender/Sentinel tables, and string,
/// long and real values: fpx reports FPX204 on `T | where not(E)` exactly when Kusto
/// refuses it.
#[test]
#[ignore = "needs ../shared and node"]
fn type_mismatch_agrees_with_kusto() {
    let schema: serde_json::Value = serde_yaml::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/tables.yaml")).unwrap(),
    )
    .unwrap();
    // One column of each type, with its table.
    let mut columns: Vec<(String, String, String)> = Vec::new();
    for (table, cols) in schema.as_object().unwrap() {
        for c in cols.as_array().unwrap() {
            let ty = c["type"].as_str().unwrap().to_string();
            if !columns.iter().any(|(_, _, t)| *t == ty) {
                columns.push((table.clone(), c["name"].as_str().unwrap().to_string(), ty));
            }
        }
    }
    assert!(columns.len() >= 8, "{columns:?}");
    let scalar = [
        "==",
        "!=",
        "=~",
        "!~",
        "contains",
        "!contains",
        "contains_cs",
        "!contains_cs",
        "startswith",
        "!startswith",
        "startswith_cs",
        "!startswith_cs",
        "endswith",
        "!endswith",
        "endswith_cs",
        "!endswith_cs",
        "has",
        "!has",
        "has_cs",
        "!has_cs",
        "hasprefix",
        "!hasprefix",
        "hassuffix",
        "!hassuffix",
        "matches regex",
        "<",
        "<=",
        ">",
        ">=",
    ];
    let list = ["in", "!in", "in~", "!in~", "has_any", "has_all"];
    let values = ["\"12\"", "12", "1.5"];
    let mut cases: Vec<(String, String)> = Vec::new();
    for (table, column, _) in &columns {
        for op in scalar {
            for v in values {
                cases.push((table.clone(), format!("{column} {op} {v}")));
            }
        }
        for op in list {
            for v in values {
                cases.push((table.clone(), format!("{column} {op} ({v}, \"a\")")));
                cases.push((table.clone(), format!("{column} {op} ({v})")));
            }
        }
    }
    let queries: Vec<String> = cases.iter().map(|(t, e)| format!("{t} | where not({e})")).collect();
    let verdicts = kusto(&queries);
    let mut disagreements = Vec::new();
    let mut refused = 0;
    for (table, group) in cases.chunk_by(|a, b| a.0 == b.0).map(|g| (g[0].0.clone(), g)) {
        let input: String = group.iter().map(|(_, e)| format!("{e}\n")).collect();
        let out = Command::new(env!("CARGO_BIN_EXE_fpx"))
            .args([
                "lint",
                "--table",
                &table,
                "--format",
                "jsonl",
                "--fail-on",
                "never",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                child.stdin.take().unwrap().write_all(input.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let exclusion = v["input"].as_str().unwrap();
            let fpx204 = v["findings"].as_array().unwrap().iter().any(|f| f["code"] == "FPX204");
            let i = cases.iter().position(|(t, e)| *t == table && e == exclusion).unwrap();
            let (ok, errors) = &verdicts[i];
            refused += usize::from(!ok);
            if fpx204 == *ok {
                disagreements.push(format!("{}: fpx204={fpx204}, kusto: {errors:?}", queries[i]));
            }
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    eprintln!(
        "{} exclusions: FPX204 on exactly the {refused} Kusto refuses",
        cases.len()
    );
    assert!(refused > 100);
}

/// FPX005 not-kql: every exclusion fpx calls valid KQL once its safe fixes (FPX004,
/// FPX005) are applied compiles in Kusto.Language as `T | where not(E)`; every one it
/// reports FPX005 for is refused there as written; and those it has nothing to say
/// about compile as written.
#[test]
#[ignore = "needs ../shared and node"]
fn fixed_exclusions_compile_in_kusto() {
    use fpx::checks::{Code, RuleContext, analyze_in_context, fixed_text};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut exclusions: Vec<(String, String)> = Vec::new();
    // Lenient spellings over real columns, each alone and combined.
    let table = "DeviceProcessEvents";
    let forms = [
        r#"FileName == "a.exe" AND FolderPath CONTAINS "temp""#,
        r#"FileName == "a.exe" && FolderPath contains "temp" || AccountName =~ "svc""#,
        r#"not FileName == "a.exe""#,
        r#"NOT FileName == "a.exe""#,
        r#"!(FileName == "a.exe") and not not AccountName has "x""#,
        r#"FileName = "a.exe""#,
        r#"FileName NOT IN ("a.exe", "b.exe")"#,
        r#"FileName not in~ ("a.exe",)"#,
        r#"FileName In~ ("a.exe", "b.exe",)"#,
        r#"ProcessCommandLine not contains "x" Or FileName Has_Any ("a", "b")"#,
        r#"ProcessCommandLine MATCHES REGEX "a+" and FileName <> "b""#,
        r#"`FileName == “a.exe” AND not AccountName startswith "svc"`"#,
        r#"not (FileName == "a.exe") and FileName !in ("b") or FileName has_all ("c", "d")"#,
        r#"ProcessId == 4 OR ProcessId > 100 AND ProcessId <= 1000"#,
        r#"FileName endswith_cs ".EXE" && not ProcessCommandLine hasprefix "-enc""#,
    ];
    exclusions.extend(forms.iter().map(|f| (table.to_string(), f.to_string())));
    // Every scenario exclusion of the bundled corpus and the fixtures, with its table.
    for paths in [
        vec![root.join("rules"), root.join("scenarios")],
        vec![root.join("tests/fixtures/gate"), root.join("tests/fixtures/emit")],
        vec![shared().join("corpus/rmm-rules")],
    ] {
        let report = fpx::checks::check_corpus(fpx::corpus::load(&paths), None);
        for r in &report.rules {
            let Some(table) = &r.query.table else { continue };
            for s in r.exclusions() {
                exclusions.push((table.clone(), s.exclusion.clone()));
                // And the same written leniently: upper-case connectives and operators.
                let loud = s
                    .exclusion
                    .replace(" and ", " AND ")
                    .replace(" or ", " OR ")
                    .replace(" contains ", " CONTAINS ");
                exclusions.push((table.clone(), loud));
            }
        }
    }
    let not_kql_otherwise = [
        Code::Fpx001,
        Code::Fpx002,
        Code::Fpx003,
        Code::Fpx201,
        Code::Fpx202,
        Code::Fpx204,
    ];
    let (mut fixed, mut flagged, mut clean) = (Vec::new(), Vec::new(), Vec::new());
    for (table, text) in &exclusions {
        let context = RuleContext { table, detection: None };
        let a = analyze_in_context(text, Some(&context)).analysis;
        if a.findings.iter().any(|f| not_kql_otherwise.contains(&f.rule.code)) {
            continue;
        }
        let after = fixed_text(text, &a.findings, false).map_or(text.clone(), |(t, _)| t);
        fixed.push(format!("{table} | where not({after})"));
        if a.findings.iter().any(|f| f.rule.code == Code::Fpx005) {
            flagged.push(format!("{table} | where not({text})"));
        } else if !a.findings.iter().any(|f| f.rule.code == Code::Fpx004) {
            clean.push(format!("{table} | where not({text})"));
        }
    }
    let all: Vec<String> = fixed.iter().chain(&flagged).chain(&clean).cloned().collect();
    let verdicts = kusto(&all);
    let mut wrong = Vec::new();
    for (i, (q, (ok, errors))) in all.iter().zip(&verdicts).enumerate() {
        let should_compile = i < fixed.len() || i >= fixed.len() + flagged.len();
        if *ok != should_compile {
            wrong.push(format!(
                "{q}: expected {}, Kusto: {errors:?}",
                if should_compile { "ok" } else { "refused" }
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    eprintln!(
        "{} exclusions: {} fixed compile; {} flagged FPX005 are refused as written; {} clean compile",
        exclusions.len(),
        fixed.len(),
        flagged.len(),
        clean.len()
    );
    assert!(
        fixed.len() >= 20 && flagged.len() >= 15,
        "{} {}",
        fixed.len(),
        flagged.len()
    );
}
