use super::*;
use crate::expr::print;

const RULE: &str = "title: Suspicious cmd
id: 1f2e3d4c-0000-4000-8000-000000000001
status: test
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '\\cmd.exe'
        CommandLine|contains|windash: '-c '
    filter_main_system:
        User|contains: 'SYSTEM'
    filter_optional_null:
        ParentImage: null
    condition: selection and not 1 of filter_*
level: high
";

#[test]
fn a_rule_lowers_to_d_and_its_filters_to_inline_exclusions() {
    let q = lower(RULE);
    assert_eq!(q.table.as_deref(), Some("sigma:windows/process_creation"));
    assert!(q.exact(), "{:?}", q.notes);
    let d = print(q.detection.as_ref().unwrap());
    assert!(
        d.contains(r#"Image endswith @"\cmd.exe" and (CommandLine contains "-c " or CommandLine contains "/c " or "#),
        "{d}"
    );
    assert_eq!(q.inline.len(), 2);
    assert_eq!(q.inline[0].name.as_deref(), Some("filter_main_system"));
    assert_eq!(print(&q.inline[0].suppresses), r#"User contains "SYSTEM""#);
    assert_eq!(&RULE[q.inline[0].span.clone()], "User|contains: 'SYSTEM'");
    assert_eq!(print(&q.inline[1].suppresses), "isnull(ParentImage)");
    // The atoms point at their item's line.
    let atom = q.inline[0].suppresses.atoms()[0].span.clone();
    assert_eq!(&RULE[atom], "User|contains: 'SYSTEM'");
}

#[test]
fn modifiers_follow_the_specification() {
    let rule = |item: &str| {
        let text = format!(
            "title: t\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        {item}\n    condition: selection\n"
        );
        let q = lower(&text);
        (print(q.detection.as_ref().unwrap()), q.exact())
    };
    // `\*` is a literal star; `\\*` a backslash and a wildcard.
    assert_eq!(
        rule("Image: 'C:\\Windows\\*\\cmd.exe'").0,
        r#"Image =~ @"C:\Windows*\cmd.exe""#
    );
    assert_eq!(
        rule("Image: 'C:\\Windows\\\\*\\cmd.exe'").0,
        r#"Image matches regex @"(?s)^(?i-u:C:\\Windows\\).*(?i-u:\\cmd\.exe)$""#
    );
    assert_eq!(rule("Image|cased: 'Cmd.exe'").0, r#"Image == "Cmd.exe""#);
    assert_eq!(rule("Image: 'cmd.exe'").0, r#"Image =~ "cmd.exe""#);
    assert_eq!(
        rule("CommandLine|contains|all: ['a', 'b']").0,
        r#"CommandLine contains "a" and CommandLine contains "b""#
    );
    assert_eq!(rule("EventID|gte: 4624").0, "EventID >= 4624");
    assert_eq!(rule("Image|exists: true").0, "isnotnull(Image)");
    // Sigma tells null (an absent field) from the empty string; a lone `*` is any value.
    assert_eq!(rule("Image: null").0, "isnull(Image)");
    assert_eq!(rule("Image: ''").0, r#"Image =~ "" and isnotnull(Image)"#);
    assert_eq!(rule("Image: '*'").0, "isnotnull(Image)");
    assert_eq!(
        rule("Image: '?'").0,
        r#"Image matches regex "(?s)^.$" and isnotnull(Image)"#
    );
    assert_eq!(
        rule("Image|re: '.*'").0,
        r#"Image matches regex ".*" and isnotnull(Image)"#
    );
    // A wildcard folds ASCII letters only, as `contains` does: U+017F is no `s`.
    let q = lower(
        "title: t\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    selection:\n        Image: '*\\s?.exe'\n    condition: selection\n",
    );
    let d = q.detection.unwrap();
    let event = |image: &str| crate::pred::Event::from([("Image".to_string(), image.to_string())]);
    assert!(d.eval(&event("C:\\S1.EXE")));
    assert!(!d.eval(&event("C:\\\u{17f}1.exe")));
    // A look-ahead is beyond the regex engine: unknown (FPX401), not "never".
    assert!(!rule("Image|re: '(?=a)a'").1);
    assert_eq!(
        rule("DestinationIp|cidr: '10.0.0.0/8'").0,
        r#"DestinationIp startswith_cs "10.""#
    );
    assert_eq!(
        rule("CommandLine|re|i: 'a.c'").0,
        r#"CommandLine matches regex "(?i)a.c""#
    );
    assert_eq!(
        rule("CommandLine|base64offset|contains: 'http'").0,
        r#"CommandLine contains "aHR0c" or CommandLine contains "h0dH" or CommandLine contains "odHRw""#
    );
    // UTF-16LE text under base64: `whoami` as PowerShell's -EncodedCommand writes it.
    assert_eq!(
        rule("CommandLine|wide|base64: 'whoami'").0,
        r#"CommandLine =~ "dwBoAG8AYQBtAGkA""#
    );
    assert_eq!(
        rule("CommandLine|re|m|s: '^a.b$'").0,
        r#"CommandLine matches regex "(?ms)^a.b$""#
    );
    assert_eq!(
        rule("Image: 'cmd?.exe'").0,
        r#"Image matches regex @"(?s)^(?i-u:cmd).(?i-u:\.exe)$""#
    );
    assert_eq!(rule("Image: '**'").0, "isnotnull(Image)");
    assert_eq!(
        rule("CommandLine|neq: 'x'").0,
        r#"not (CommandLine =~ "x") and isnotnull(CommandLine)"#
    );
    assert_eq!(rule("EventID|lte: 10").0, "EventID <= 10");
    assert_eq!(rule("EventID|lt: 10").0, "EventID < 10");
    assert_eq!(rule("EventID|gt: 10").0, "EventID > 10");
    assert_eq!(
        rule("CommandLine|utf16le|base64: 'ab'").0,
        r#"CommandLine =~ "YQBiAA==""#
    );
    assert_eq!(
        rule("CommandLine|utf16be|base64: 'ab'").0,
        r#"CommandLine =~ "AGEAYg==""#
    );
    assert_eq!(rule("CommandLine|utf16|base64: 'ab'").0, r#"CommandLine =~ "//5hAGIA""#);
    assert!(!rule("User|expand: '%Admins%'").1, "placeholders are approximated");
    let (_, exact) = rule("CommandLine|fieldref: Image");
    assert!(!exact, "fieldref is approximated");
}

#[test]
fn a_filter_that_removes_every_alert_is_reported_by_its_name() {
    let text = RULE.replace("User|contains: 'SYSTEM'", "Image|endswith: 'cmd.exe'");
    let q = lower(&text);
    assert_eq!(q.inline[0].name.as_deref(), Some("filter_main_system"));
    assert_eq!(
        crate::logic::implies(&q.inline[0].rest, &q.inline[0].suppresses),
        crate::logic::Validity::Valid
    );
}

#[test]
fn chained_encoders_are_approximated_past_a_limit_not_run_out_of_memory() {
    for chain in [
        vec!["base64offset"; 14],
        vec!["base64"; 70],
        [vec!["wide"; 26], vec!["base64"]].concat(),
    ] {
        let rule = RULE.replace(
            "CommandLine|contains|windash: '-c '",
            &format!(
                "CommandLine|{}|contains: 'IEX (New-Object Net.WebClient)'",
                chain.join("|")
            ),
        );
        let q = lower(&rule);
        assert!(!q.exact(), "{}", chain.join("|"));
        assert!(
            q.notes.iter().any(|n| n.message.contains("bytes of text")),
            "{:?}",
            q.notes
        );
    }
    // One encoder, as real rules write it, stays exact.
    let rule = RULE.replace(
        "CommandLine|contains|windash: '-c '",
        "CommandLine|base64offset|contains: 'IEX'",
    );
    assert!(lower(&rule).exact());
}

#[test]
fn a_negated_selection_at_any_depth_is_an_exclusion_of_its_branch() {
    let rule = |condition: &str| {
        let text = format!(
            "title: t\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    a:\n        Image|endswith: '\\a.exe'\n    b:\n        Image|endswith: '\\b.exe'\n    filter:\n        CommandLine|contains: 'x'\n    filter_2:\n        User: 'SYSTEM'\n    condition: {condition}\n"
        );
        let q = lower(&text);
        q.inline
            .iter()
            .map(|e| (e.name.clone().unwrap(), e.scoped))
            .collect::<Vec<_>>()
    };
    // SigmaHQ PR #6180's shape: the filter binds to the first branch only.
    assert_eq!(rule("(a and not filter) or b"), [("filter".to_string(), true)]);
    assert_eq!(rule("a and not not not filter"), [("filter".to_string(), false)]);
    // `not (x and y)` is one exclusion of both selections.
    assert_eq!(
        rule("a and not (filter and filter_2)"),
        [("filter, filter_2".to_string(), false)]
    );
    // A branch that is only a negation is what that branch detects.
    assert!(rule("a or not filter").is_empty());
}
