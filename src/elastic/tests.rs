use super::*;
use crate::expr::print;

fn read(language: &str, query: &str) -> RuleQuery {
    lower(query, Some(language), "query")
}

fn d(language: &str, query: &str) -> String {
    let q = read(language, query);
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    print(q.detection.as_ref().expect("a detection"))
}

#[test]
fn eql_operators_have_elasticsearch_semantics() {
    assert_eq!(
        d("eql", r#"process where process.name == "cmd.exe""#),
        r#"event.category == "process" and process.name == "cmd.exe""#
    );
    // `:` is case-insensitive with wildcards; `?` is one character.
    assert_eq!(
        d("eql", r#"any where process.executable : "?:\\Windows\\*""#),
        r#"process.executable matches regex @"(?s)^.(?i-u::\\Windows\\).*$""#
    );
    assert_eq!(
        d("eql", r#"any where process.name : ("a.exe", "*b*")"#),
        r#"process.name =~ "a.exe" or process.name contains "b""#
    );
    assert_eq!(
        d("eql", r#"any where process.name in~ ("A.exe")"#),
        r#"process.name =~ "A.exe""#
    );
    assert_eq!(
        d("eql", r#"any where process.name not in ("a")"#),
        r#"not (process.name == "a")"#
    );
    assert_eq!(d("eql", r#"any where process.pid >= 4"#), r#"process.pid >= 4"#);
    assert_eq!(
        d("eql", r#"any where startsWith~(process.name, "x", "y")"#),
        r#"process.name startswith "x" or process.name startswith "y""#
    );
    assert_eq!(
        d("eql", r#"any where process.name regex """[a-z]+\.exe""""#),
        r#"process.name matches regex @"(?s)^(?:[a-z]+\.exe)$""#
    );
}

#[test]
fn eql_negated_tests_are_inline_exclusions() {
    let q = read(
        "eql",
        r#"process where process.name : "rundll32.exe" and
  not process.parent.executable : "C:\\Windows\\System32\\svchost.exe""#,
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(q.inline.len(), 1);
    assert_eq!(
        print(&q.inline[0].suppresses),
        r#"process.parent.executable =~ @"C:\Windows\System32\svchost.exe""#
    );
}

#[test]
fn eql_sequence_steps_are_judged_each_on_its_own_events() {
    let q = read(
        "eql",
        r#"sequence by host.id with maxspan=1m
  [process where process.name : "cmd.exe" and not process.parent.name : "explorer.exe"] by process.entity_id
  [network where destination.port == 443 and not destination.ip : "10.0.0.1"] with runs=2
until [process where event.type == "end"]"#,
    );
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    assert!(q.detection.is_none(), "a sequence has no single D");
    assert!(q.notes.iter().all(|n| !n.fatal));
    assert_eq!(q.inline.len(), 2);
    assert_eq!(
        print(&q.inline[0].rest),
        r#"event.category == "process" and process.name =~ "cmd.exe""#
    );
    assert_eq!(
        print(&q.inline[1].rest),
        r#"event.category == "network" and destination.port == 443"#
    );
    assert_ne!(q.inline[0].group, q.inline[1].group, "steps are judged apart");
    // A comment before the keyword.
    let q = read(
        "eql",
        "/* Endpoint only */\nsample by host.id [any where true] [any where true]",
    );
    assert!(q.errors.is_empty() && q.detection.is_none(), "{:?}", q.errors);
}

#[test]
fn eql_syntax_errors_are_errors() {
    let q = read("eql", "process where process.name == ");
    assert!(!q.errors.is_empty());
    assert!(q.detection.is_none());
}

#[test]
fn kuery_values_by_field_type() {
    assert_eq!(
        d("kuery", "event.category:process and host.os.type:windows"),
        r#"event.category == "process" and host.os.type == "windows""#
    );
    // Keyword fields match case-sensitively; `*` unquoted is a wildcard, quoted a star.
    assert_eq!(d("kuery", "process.name:*.exe"), r#"process.name endswith_cs ".exe""#);
    assert_eq!(d("kuery", r#"process.name:"*.exe""#), r#"process.name == "*.exe""#);
    assert_eq!(d("kuery", "process.name:*"), "not (isnull(process.name))");
    assert_eq!(
        d("kuery", r#"process.name:("a.exe" or b.exe)"#),
        r#"process.name == "a.exe" or process.name == "b.exe""#
    );
    assert_eq!(d("kuery", "process.pid >= 10"), "process.pid >= 10");
    assert_eq!(d("kuery", "source.ip:10.0.0.0/8"), r#"source.ip startswith_cs "10.""#);
    // Unquoted values may hold spaces.
    assert_eq!(
        d("kuery", "user.name:John Smith or x:y"),
        r#"user.name == "John Smith" or x == "y""#
    );
}

#[test]
fn kuery_text_fields_are_approximated() {
    let q = read("kuery", "message:foo and not process.name:bar");
    assert!(!q.exact());
    assert_eq!(
        print(q.detection.as_ref().unwrap()),
        r#"true and not (process.name == "bar")"#
    );
}

#[test]
fn kuery_precedence_scope_is_marked() {
    let q = read("kuery", "a:1 or b:2 and not c:3");
    assert_eq!(q.inline.len(), 1);
    assert!(q.inline[0].by_precedence);
    let q = read("kuery", "(a:1 or b:2) and not c:3");
    assert!(!q.inline[0].by_precedence);
}

#[test]
fn toml_rule_spans_point_into_the_file() {
    let text = "[metadata]\nx = 1\n\n[rule]\nname = \"n\"\nrule_id = \"r\"\ntype = \"eql\"\nlanguage = \"eql\"\nquery = '''\nprocess where process.name : \"a\" and not process.name : \"b\"\n'''\n";
    let rule = read_rule(text).unwrap();
    assert_eq!(rule.id, "r");
    let q = &rule.lowered;
    let offsets = &rule.query_offsets;
    let e = &q.inline[0];
    assert_eq!(
        &text[offsets[e.span.start]..offsets[e.span.end]],
        "process.name : \"b\""
    );
    // A basic string's escapes: each character at its backslash.
    let text = "[rule]\nname = \"n\"\nrule_id = \"r\"\nlanguage = \"kuery\"\nquery = \"a:\\\"x\\\" and not b:y\"\n";
    let rule = read_rule(text).unwrap();
    let q = &rule.lowered;
    let offsets = &rule.query_offsets;
    let e = &q.inline[0];
    assert_eq!(&text[offsets[e.span.start]..offsets[e.span.end]], "b:y");
}

#[test]
fn eql_forms_of_real_rules_are_read() {
    // A comment before `sequence`; a space before a call's `(`; arithmetic in arguments.
    let q = read("eql", "/* Endpoint only */\n\nsequence by host.id [any where true]");
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    assert_eq!(
        d("eql", r#"any where stringContains (user.id, ":i-")"#),
        r#"user.id contains_cs ":i-""#
    );
    let q = read(
        "eql",
        "any where not startswith~(a.b, substring(c.d, 0, length(c.d) - (length(e) + 1)))",
    );
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    assert!(!q.exact());
    // Brackets inside strings do not count as nesting.
    let many = vec![r#""*load(*""#; 100].join(", ");
    assert!(
        read("eql", &format!("any where process.args like~ ({many})"))
            .errors
            .is_empty()
    );
    let deep = format!("any where {}true{}", "(".repeat(70), ")".repeat(70));
    assert!(!read("eql", &deep).errors.is_empty());
    assert!(
        !read("kuery", &format!("{}a:b{}", "(".repeat(70), ")".repeat(70)))
            .errors
            .is_empty()
    );
}

/// A documented case: language, query, event fields, whether it matches.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    bool,
);

/// What Elastic's documentation says each operator does, as cases: a query, an event
/// (field, value pairs; a field left out is absent), and whether the query matches it.
/// Sources: the EQL syntax reference (operators, wildcards, `~` forms, functions) and
/// the Kibana Query Language reference (terms, wildcards, quoted phrases, ranges,
/// `not`), as Elasticsearch runs them on keyword fields.
const DOCUMENTED: &[Case] = &[
    // EQL `==`: case-sensitive, no wildcards.
    (
        "eql",
        r#"any where process.name == "svchost.exe""#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where process.name == "svchost.exe""#,
        &[("process.name", "SVCHOST.EXE")],
        false,
    ),
    (
        "eql",
        r#"any where process.name == "svc*""#,
        &[("process.name", "svchost.exe")],
        false,
    ),
    (
        "eql",
        r#"any where process.name != "svchost.exe""#,
        &[("process.name", "cmd.exe")],
        true,
    ),
    ("eql", r#"any where process.name != "svchost.exe""#, &[], true),
    // `:`: case-insensitive, `*` and `?` wildcards.
    (
        "eql",
        r#"any where process.name : "SVCHOST.exe""#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where process.name : "svc?ost.*""#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where process.name : "svc?ost.*""#,
        &[("process.name", "svcost.exe")],
        false,
    ),
    (
        "eql",
        r#"any where process.name : ("a.exe", "svc*")"#,
        &[("process.name", "SVChost.exe")],
        true,
    ),
    // `like` (case-sensitive) and `like~`; `in` and `in~`.
    (
        "eql",
        r#"any where process.name like "SVC*""#,
        &[("process.name", "svchost.exe")],
        false,
    ),
    (
        "eql",
        r#"any where process.name like~ "SVC*""#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where process.name in ("cmd.exe", "SVCHOST.EXE")"#,
        &[("process.name", "svchost.exe")],
        false,
    ),
    (
        "eql",
        r#"any where process.name in~ ("cmd.exe", "SVCHOST.EXE")"#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where process.name not in ("cmd.exe")"#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    // `regex`: matched against the whole value; `regex~` ignores case.
    (
        "eql",
        r#"any where process.name regex "svc.*""#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where process.name regex "host""#,
        &[("process.name", "svchost.exe")],
        false,
    ),
    (
        "eql",
        r#"any where process.name regex~ "SVC[a-z]+\\.exe""#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    // Functions, and their `~` forms.
    (
        "eql",
        r#"any where startsWith(process.name, "svc")"#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where startsWith(process.name, "SVC")"#,
        &[("process.name", "svchost.exe")],
        false,
    ),
    (
        "eql",
        r#"any where startsWith~(process.name, "SVC")"#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where endsWith~(process.name, ".EXE")"#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where stringContains(process.name, "host")"#,
        &[("process.name", "svchost.exe")],
        true,
    ),
    (
        "eql",
        r#"any where cidrMatch(source.ip, "10.0.0.0/8")"#,
        &[("source.ip", "10.6.48.157")],
        true,
    ),
    (
        "eql",
        r#"any where cidrMatch(source.ip, "192.168.0.0/16")"#,
        &[("source.ip", "10.6.48.157")],
        false,
    ),
    // IPv6 on the canonical text of addresses (RFC 5952), as Sigma's `cidr`.
    (
        "eql",
        r#"any where cidrMatch(destination.ip, "127.0.0.0/8", "::1")"#,
        &[("destination.ip", "::1")],
        true,
    ),
    (
        "eql",
        r#"any where cidrMatch(destination.ip, "FE80::/10")"#,
        &[("destination.ip", "febf::1")],
        true,
    ),
    (
        "eql",
        r#"any where cidrMatch(destination.ip, "FE80::/10")"#,
        &[("destination.ip", "fec0::1")],
        false,
    ),
    (
        "kuery",
        r#"destination.ip:(10.0.0.0/8 or "FF00::/8")"#,
        &[("destination.ip", "ff02::1")],
        true,
    ),
    (
        "kuery",
        r#"destination.ip:(10.0.0.0/8 or "FF00::/8")"#,
        &[("destination.ip", "2001:db8::1")],
        false,
    ),
    // ES|QL: `TO_STRING`/`TO_IP` of an ip field is its text; `CIDR_MATCH`.
    (
        "esql",
        r#"from logs-* | where to_string(source.ip) in ("127.0.0.1", "::1")"#,
        &[("source.ip", "::1")],
        true,
    ),
    (
        "esql",
        r#"from logs-* | where cidr_match(to_ip(destination.ip), "10.0.0.0/8", "fe80::/10")"#,
        &[("destination.ip", "fe80::1")],
        true,
    ),
    (
        "esql",
        r#"from logs-* | where cidr_match(destination.ip, "10.0.0.0/8", "fe80::/10")"#,
        &[("destination.ip", "11.0.0.1")],
        false,
    ),
    // `true IN (conditions)` is their `OR`.
    (
        "esql",
        r#"from logs-* | where true in (starts_with(event.action, "Describe"), starts_with(event.action, "List"))"#,
        &[("event.action", "ListBuckets")],
        true,
    ),
    (
        "esql",
        r#"from logs-* | where true in (starts_with(event.action, "Describe"), starts_with(event.action, "List"))"#,
        &[("event.action", "GetObject")],
        false,
    ),
    // `KQL("""...""")` in ES|QL is Kibana KQL; never null (a missing field fails).
    (
        "esql",
        r#"from logs-* | where KQL("""process.name: "a.exe" and not user.name: root""")"#,
        &[("process.name", "a.exe"), ("user.name", "bob")],
        true,
    ),
    (
        "esql",
        r#"from logs-* | where KQL("""process.name: "a.exe" and not user.name: root""")"#,
        &[("process.name", "a.exe"), ("user.name", "root")],
        false,
    ),
    (
        "esql",
        r#"from logs-* | where event.outcome == "success" and not KQL("""user.name: root""")"#,
        &[("event.outcome", "success")],
        true,
    ),
    // `null`: absent; the event category.
    ("eql", r#"any where process.name == null"#, &[], true),
    (
        "eql",
        r#"any where process.name != null"#,
        &[("process.name", "a")],
        true,
    ),
    ("eql", r#"process where true"#, &[("event.category", "process")], true),
    ("eql", r#"process where true"#, &[("event.category", "network")], false),
    (
        "eql",
        r#"any where process.pid > 4 and process.pid <= 10"#,
        &[("process.pid", "8")],
        true,
    ),
    // Kibana KQL: a keyword term is the whole value, case-sensitive.
    (
        "kuery",
        "http.request.method:GET",
        &[("http.request.method", "GET")],
        true,
    ),
    (
        "kuery",
        "http.request.method:get",
        &[("http.request.method", "GET")],
        false,
    ),
    (
        "kuery",
        "http.request.method:GE*",
        &[("http.request.method", "GET")],
        true,
    ),
    // A quoted value is a phrase: `*` in it is a star.
    (
        "kuery",
        r#"http.request.method:"GE*""#,
        &[("http.request.method", "GET")],
        false,
    ),
    (
        "kuery",
        "http.request.method:(GET or POST)",
        &[("http.request.method", "POST")],
        true,
    ),
    (
        "kuery",
        "http.request.method:*",
        &[("http.request.method", "GET")],
        true,
    ),
    ("kuery", "http.request.method:*", &[], false),
    ("kuery", "not http.request.method:GET", &[], true),
    (
        "kuery",
        "http.response.bytes < 10000",
        &[("http.response.bytes", "9999")],
        true,
    ),
    (
        "kuery",
        "http.response.bytes < 10000",
        &[("http.response.bytes", "10000")],
        false,
    ),
    ("kuery", "a:1 or b:2 and c:3", &[("a", "1")], true),
    ("kuery", "(a:1 or b:2) and c:3", &[("a", "1")], false),
    (
        "kuery",
        r#"process.executable:C\:\\Windows\\*"#,
        &[("process.executable", r"C:\Windows\x.exe")],
        true,
    ),
];

#[test]
fn operators_mean_what_elastic_documents() {
    for (language, query, fields, expected) in DOCUMENTED {
        let q = read(language, query);
        assert!(
            q.errors.is_empty() && q.exact(),
            "{query}: {:?} {:?}",
            q.errors,
            q.notes
        );
        let d = q.detection.as_ref().unwrap();
        let event: crate::pred::Event = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(d.eval(&event), *expected, "{query} on {event:?} ({})", print(d));
    }
}

#[test]
fn esql_where_conditions_with_three_valued_logic() {
    let q = "FROM logs-aws.cloudtrail-*\n| WHERE event.provider == \"ec2.amazonaws.com\" and not (user_agent.original like \"*Terraform*\")\n| STATS c = COUNT(*) BY user.name\n| WHERE c > 3";
    let read = read("esql", q);
    assert!(
        read.errors.is_empty() && read.exact(),
        "{:?} {:?}",
        read.errors,
        read.notes
    );
    let d = read.detection.as_ref().unwrap();
    let event = |pairs: &[(&str, &str)]| -> crate::pred::Event {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };
    let ec2 = ("event.provider", "ec2.amazonaws.com");
    assert!(d.eval(&event(&[ec2, ("user_agent.original", "aws-cli")])));
    assert!(!d.eval(&event(&[ec2, ("user_agent.original", "Terraform/1.5")])));
    // No user agent: `user_agent.original LIKE ...` is null, so is its NOT: dropped.
    assert!(!d.eval(&event(&[ec2])));
    // The exclusion suppresses those events too, and says so.
    assert_eq!(read.inline.len(), 1);
    assert_eq!(
        print(&read.inline[0].suppresses),
        r#"user_agent.original contains_cs "Terraform" or isnull(user_agent.original)"#
    );
    // Conditions after STATS are not D's. After EVAL, a condition on a field it did not
    // make is read exactly; one on a field it made (or MV_EXPAND changed) is a computed
    // value, approximated where it is; a command fpx does not follow ends D (noted).
    let q = "FROM x | EVAL y = TO_LOWER(process.name), z = CONCAT(\"a,|\", \"b\") | WHERE process.name == \"a\"";
    let read = read_esql(q);
    assert!(read.exact(), "{:?}", read.notes);
    assert_eq!(print(read.detection.as_ref().unwrap()), r#"process.name == "a""#);
    let q = "FROM x | EVAL y = 1 // one\n| MV_EXPAND process.args | WHERE process.name == \"a\" AND y == \"1\" AND process.args == \"b\"";
    let read = read_esql(q);
    assert!(!read.exact());
    let noted: Vec<&str> = read.notes.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(noted.len(), 2, "{noted:?}");
    assert!(
        noted
            .iter()
            .all(|m| m.contains("an earlier `EVAL` or `MV_EXPAND` computes")),
        "{noted:?}"
    );
    let detection = print(read.detection.as_ref().unwrap());
    assert!(detection.starts_with(r#"(process.name == "a" and "#), "{detection}");
    let read = read_esql("FROM x | GROK message \"%{WORD:w}\" | WHERE w == \"a\"");
    assert!(!read.exact());
    assert_eq!(print(read.detection.as_ref().unwrap()), "true");
}

fn read_esql(q: &str) -> RuleQuery {
    read("esql", q)
}

#[test]
fn esql_operators() {
    for (query, fields, expected) in [
        (
            r#"FROM x | WHERE process.name LIKE "cmd*.exe""#,
            &[("process.name", "cmd.exe")][..],
            true,
        ),
        (
            r#"FROM x | WHERE process.name LIKE "CMD*""#,
            &[("process.name", "cmd.exe")][..],
            false,
        ),
        (
            r#"FROM x | WHERE TO_LOWER(process.name) LIKE "cmd*""#,
            &[("process.name", "CMD.EXE")][..],
            true,
        ),
        (
            r#"FROM x | WHERE process.name RLIKE "cm.\\.exe""#,
            &[("process.name", "cmd.exe")][..],
            true,
        ),
        (
            r#"FROM x | WHERE process.name IN ("a", "cmd.exe")"#,
            &[("process.name", "cmd.exe")][..],
            true,
        ),
        (r#"FROM x | WHERE process.name NOT IN ("a")"#, &[][..], false),
        (r#"FROM x | WHERE process.name != "a""#, &[][..], false),
        (r#"FROM x | WHERE process.name IS NULL"#, &[][..], true),
        (r#"FROM x | WHERE process.name IS NOT NULL"#, &[][..], false),
        (
            r#"FROM x | WHERE STARTS_WITH(process.name, "cm")"#,
            &[("process.name", "cmd.exe")][..],
            true,
        ),
        (r#"FROM x | WHERE process.pid > 4"#, &[("process.pid", "8")][..], true),
    ] {
        let q = read("esql", query);
        assert!(
            q.errors.is_empty() && q.exact(),
            "{query}: {:?} {:?}",
            q.errors,
            q.notes
        );
        let event: crate::pred::Event = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let d = q.detection.as_ref().unwrap();
        assert_eq!(d.eval(&event), expected, "{query} on {event:?}: {}", print(d));
    }
}

#[test]
fn deep_and_unbalanced_nesting_is_read_in_linear_time() {
    // Each grammar tries its alternatives once per bracket; an input that fails deep
    // inside must not make that exponential (a hang on 60 brackets would be one).
    let deep = 60;
    let cases = [
        (
            "eql",
            format!("any where {}a.b == {}", "(".repeat(deep), ")".repeat(deep)),
        ),
        (
            "eql",
            format!("any where {}a.b + {}", "(".repeat(deep), ")".repeat(deep)),
        ),
        ("eql", format!("any where a.b == {}", "(".repeat(deep))),
        ("kuery", format!("{}a:{}", "(".repeat(deep), ")".repeat(deep))),
        (
            "esql",
            format!("FROM x | WHERE {}a == {}", "(".repeat(deep), ")".repeat(deep)),
        ),
        (
            "esql",
            format!("FROM x | WHERE {}a + {}", "(".repeat(deep), ")".repeat(deep)),
        ),
    ];
    for (language, query) in cases {
        let start = std::time::Instant::now();
        let q = read(language, &query);
        assert!(q.detection.is_none(), "{query}");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(2),
            "{language}: {:?}",
            start.elapsed()
        );
    }
}

/// Issue 22 (a fuzz find): nested calls were parsed twice per level (EQL: 24 `in (`
/// lines of a mutated rule never finished). A value is now one rule in the EQL grammar,
/// read once, in the EQL and the ES|QL grammar (ES|QL's reader refused brackets nested
/// deeper than 16 levels before). `benches` and the fuzz run time them; here, what each
/// reads.
#[test]
fn nested_calls_are_read_once() {
    let nested = format!("process where process.name in ({}\"a\")", "in (\n".repeat(40));
    let q = read("eql", &nested);
    assert!(
        q.errors.iter().any(|e| e.message.starts_with("not valid EQL")),
        "{:?}",
        q.errors
    );
    let calls = format!(
        "process where {}process.name{} == \"a\"",
        "length(".repeat(30),
        ")".repeat(30)
    );
    assert!(read("eql", &calls).errors.is_empty());
    assert_eq!(
        d("eql", r#"process where process.name == ("a")"#),
        r#"event.category == "process" and process.name == "a""#
    );
    // ES|QL, the same grammar shape: 60 nested calls, read once each.
    let deep = format!(
        "from logs-* | where a == {}1{} and b == 2",
        "f(".repeat(60),
        ")".repeat(60)
    );
    let q = read("esql", &deep);
    assert!(q.errors.is_empty() && q.notes.iter().all(|n| !n.fatal), "{:?}", q.notes);
    assert!(q.detection.is_some());
}

/// A node's span ends at its last token, not at the whitespace and comments the grammar
/// read past it looking for arithmetic.
#[test]
fn spans_end_at_the_last_token_not_a_trailing_comment() {
    let query = "process where process.name == \"a\" and not process.parent.name == \"b\" // the updater\n";
    let q = read("eql", query);
    let e = &q.inline[0];
    assert_eq!(&query[e.span.clone()], "process.parent.name == \"b\"");
    assert_eq!(super::code_end("a == \"x // y\" /* c */ // d\n"), 13);
    assert_eq!(super::code_end("f == ?\"C:\\\" // raw"), 11);
}

/// An array field tested twice in a conjunction is read as that many values, each
/// test holding when one of them passes it, a negated test when none does: exact (no
/// FPX401), and a negated test constrains every value. The copies of before read
/// `not process.args : "a*"` on a value of its own, and found events that match this D.
#[test]
fn array_fields_are_read_as_several_values_exactly() {
    use crate::logic::{SatResult, sat};
    let both = read("eql", r#"process where process.args == "a" and process.args == "b""#);
    assert!(both.exact(), "{:?}", both.notes);
    assert_eq!(
        print(both.detection.as_ref().expect("a detection")),
        r#"event.category == "process" and ((process.args == "a" or process.args[2] == "a") and (process.args == "b" or process.args[2] == "b"))"#
    );
    let SatResult::Sat(event) = sat(both.detection.as_ref().expect("a detection")) else {
        panic!("two values of an array hold together")
    };
    let values: Vec<&str> = ["process.args", "process.args[2]"]
        .iter()
        .filter_map(|f| event.get(*f).map(String::as_str))
        .collect();
    assert!(values.contains(&"a") && values.contains(&"b"), "{event:?}");
    // Every value fails the negated test: no value can be "a".
    let dead = read(
        "eql",
        r#"process where process.args == "a" and process.args == "b" and not process.args : "a*""#,
    );
    assert!(dead.exact(), "{:?}", dead.notes);
    assert_eq!(sat(dead.detection.as_ref().expect("a detection")), SatResult::Unsat);
    // An `or` of tests, or negated tests alone, need one value: no copies. (Beside a
    // test that holds, a negated one needs two: the exclusion is judged with D.)
    assert_eq!(
        d(
            "eql",
            r#"process where (process.args == "a" or process.args == "b") and process.name == "x""#
        ),
        r#"event.category == "process" and ((process.args == "a" or process.args == "b") and process.name == "x")"#
    );
    assert_eq!(
        d(
            "eql",
            r#"process where process.name == "x" and not process.args in ("b", "c")"#
        ),
        r#"event.category == "process" and (process.name == "x" and not (process.args == "b" or process.args == "c"))"#
    );
    // `!= null` holds when one value is present, `== null` when none is.
    let present = read(
        "eql",
        r#"process where process.args != null and process.args == "a" and not (process.args == "b" and process.args == "c")"#,
    );
    assert!(present.exact(), "{:?}", present.notes);
    let detection = print(present.detection.as_ref().expect("a detection"));
    assert!(
        detection.contains(r#"not (isnull(process.args) and isnull(process.args[2]) and"#),
        "{detection}"
    );
}

/// A field is split into as many values as the tests that must hold together (an `or`
/// of forty values needs one), not one per distinct test.
#[test]
fn an_array_field_is_split_into_the_values_its_tests_need_at_once() {
    let values: Vec<String> = (0..40).map(|i| format!("\"-x{i}\"")).collect();
    let q = read(
        "eql",
        &format!(
            r#"process where process.args : ({}) and process.args == "z""#,
            values.join(", ")
        ),
    );
    assert!(q.exact(), "{:?}", q.notes);
    let fields: std::collections::BTreeSet<String> = q
        .detection
        .as_ref()
        .expect("a detection")
        .atoms()
        .iter()
        .map(|a| a.field.clone())
        .collect();
    assert!(
        fields.contains("process.args[2]") && !fields.contains("process.args[3]"),
        "{fields:?}"
    );
}

/// ES|QL's `KQL()` is read where it is: its inline exclusions placed in the ES|QL query,
/// and a call that needs two values of an array field at once is "could be true".
#[test]
fn esql_kql_calls_are_read_in_place() {
    let query = r#"from logs-* | where event.outcome == "success" and KQL("""event.category: process and not process.name: (a or b)""")"#;
    let q = read_esql(query);
    assert!(q.exact(), "{:?}", q.notes);
    let e = q.inline.first().expect("the negated part inside KQL()");
    assert_eq!(&query[e.span.clone()], "process.name: (a or b)");
    let two = read_esql(r#"from logs-* | where KQL("""process.args: a and process.args: b""")"#);
    assert!(!two.exact());
    assert!(two.notes[0].message.contains("two ways"), "{:?}", two.notes);
}

/// ES|QL: a test of a field with several values is null (and `WHERE` drops the row),
/// so two tests that must both hold hold of one value: no split, and `== "a" and ==
/// "b"` is never true.
#[test]
fn esql_reads_an_array_field_as_one_value() {
    use crate::logic::{SatResult, sat};
    let q = read_esql(r#"from logs-* | where process.args == "a" and process.args == "b""#);
    assert!(q.exact(), "{:?}", q.notes);
    let detection = q.detection.as_ref().expect("a detection");
    assert!(!print(detection).contains("process.args[2]"), "{}", print(detection));
    assert_eq!(sat(detection), SatResult::Unsat);
    // EQL reads the same tests apart.
    let eql = read("eql", r#"any where process.args == "a" and process.args == "b""#);
    assert!(matches!(
        sat(eql.detection.as_ref().expect("a detection")),
        SatResult::Sat(_)
    ));
}
