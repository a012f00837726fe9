use proptest::prelude::*;
use rstest::rstest;

use super::*;
use crate::pred::strategy;
use crate::pred::{Op, Value};

fn parsed(text: &str) -> ParsedExclusion {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => p,
        other => panic!("{text}: {other:?}"),
    }
}

fn error(text: &str) -> SyntaxError {
    match parse_exclusion(text) {
        ParseOutcome::Invalid(e) => e,
        other => panic!("{text}: expected a syntax error, got {other:?}"),
    }
}

/// Values with quotes, backslashes, non-ASCII and escapes, to stress the printer.
fn printable_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => "[a-zA-Z0-9 \\\\\"'._é\\-]{0,8}".prop_map(Value::Str),
        1 => "[a-z]{0,3}\n[a-z]{0,2}".prop_map(Value::Str),
        1 => "-?[0-9]{1,3}(\\.[0-9]{1,2})?".prop_map(Value::Num),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_round_trips(
        p in strategy::pred(strategy::atom(vec!["process.name", "FileName", "a_b.c"], printable_value(), true), 4)
    ) {
        let text = print(&p);
        let back = parsed(&text);
        prop_assert_eq!(back.pred.without_spans(), p, "printed as {}", text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
        let _ = parse_exclusion(&text);
    }

    #[test]
    fn mangled_expressions_never_panic(
        p in strategy::pred(strategy::atom(vec!["f", "g"], printable_value(), true), 3),
        cut in 0usize..200,
    ) {
        let text = print(&p);
        let mut end = cut.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let _ = parse_exclusion(&text[..end]);
    }
}

#[rstest]
#[case(r#"f == "a\"b""#, "a\"b")]
#[case(r#"f == 'it\'s'"#, "it's")]
#[case(r#"f == "tab\there""#, "tab\there")]
#[case(r#"f == @"C:\Windows\""#, "C:\\Windows\\")]
#[case(r#"f == @'say "hi"'"#, "say \"hi\"")]
#[case(r#"f == "C:\\Temp""#, "C:\\Temp")]
// KQL's other escapes, read as Kusto.Language reads them.
#[case(r#"f == "\x41\u00A0\U0001F600""#, "A\u{a0}\u{1F600}")]
#[case(r#"f == "\101\0\12x\477""#, "A\0\nx\u{27}7")]
#[case(r#"f == "\a\b\f\v""#, "\u{7}\u{8}\u{c}\u{b}")]
// Adjacent literals are one string.
#[case(r#"f == "a" 'b' @"c\d" h"e""#, "abc\\de")]
fn string_literals(#[case] text: &str, #[case] expected: &str) {
    let p = parsed(text).pred;
    let Pred::Atom(a) = p else { panic!() };
    assert_eq!(a.value(), &Value::Str(expected.into()));
}

#[rstest]
#[case("f == 'a'", Op::Equals, false, true)]
#[case("f = 'a'", Op::Equals, false, true)]
#[case("f <> 'a'", Op::Equals, true, true)]
#[case("f !~ 'a'", Op::Equals, true, false)]
#[case("f NOT CONTAINS 'a'", Op::Contains, true, false)]
#[case("f !contains_cs 'a'", Op::Contains, true, true)]
#[case("f StartsWith 'a'", Op::StartsWith, false, false)]
#[case("f !endswith_cs 'a'", Op::EndsWith, true, true)]
#[case("f has_cs 'a'", Op::Has, false, true)]
#[case("f hasprefix 'a'", Op::HasPrefix, false, false)]
#[case("f !hassuffix 'a'", Op::HasSuffix, true, false)]
#[case("f in~ ('a')", Op::In, false, false)]
#[case("f !in ('a')", Op::In, true, true)]
#[case("f not in~ ('a')", Op::In, true, false)]
#[case("f has_any ('a')", Op::HasAny, false, false)]
#[case("f has_all ('a')", Op::HasAll, false, false)]
#[case("f matches regex 'a+'", Op::MatchesRegex, false, true)]
#[case("f >= 5", Op::Ge, false, true)]
fn operator_spellings(#[case] text: &str, #[case] op: Op, #[case] negated: bool, #[case] cs: bool) {
    let Pred::Atom(a) = parsed(text).pred else { panic!() };
    assert_eq!((a.op, a.negated, a.case_sensitive), (op, negated, cs), "{text}");
}

#[test]
fn precedence_is_not_then_and_then_or() {
    let p = parsed("not a == 1 or b == 2 and c == 3").pred;
    let Pred::Or(items) = &p else { panic!("{p:?}") };
    assert!(matches!(items[0], Pred::Not(_)));
    assert!(matches!(&items[1], Pred::And(x) if x.len() == 2));
    let q = parsed("a == 1 && b == 2 || !(c == 3)").pred;
    assert_eq!(print(&q), r#"a == 1 and b == 2 or not (c == 3)"#);
}

#[test]
fn keywords_are_case_insensitive_and_whole_words() {
    assert_eq!(
        print(&parsed("a == 1 OR b == 2 AnD c == 3").pred),
        "a == 1 or b == 2 and c == 3"
    );
    assert_eq!(print(&parsed("order == 1").pred), "order == 1");
    assert_eq!(print(&parsed("notes == 1").pred), "notes == 1");
}

#[test]
fn spans_cover_each_atom() {
    let text = r#"a == "x" or InitiatingProcessFileName has 'y'"#;
    let atoms: Vec<_> = parsed(text)
        .pred
        .atoms()
        .into_iter()
        .map(|a| text[a.span.clone()].to_string())
        .collect();
    assert_eq!(atoms, [r#"a == "x""#, "InitiatingProcessFileName has 'y'"]);
}

#[test]
fn tolerated_forms_are_reported_with_replacements() {
    let p = parsed("`process.name == “LogMeIn.exe” or x == y`");
    assert_eq!(
        p.irregularities,
        vec![
            Irregularity::BacktickWrapping {
                open: 0..1,
                close: 44..45
            },
            Irregularity::TypographicQuotes {
                span: 17..34,
                replacement: "\"LogMeIn.exe\"".into()
            },
            Irregularity::UnquotedValue {
                span: 43..44,
                replacement: "\"y\"".into()
            },
        ]
    );
}

#[rstest]
#[case("known_good_hashes", true)]
#[case("<patch-server-name>", true)]
#[case("TODO", true)]
#[case("xxx", true)]
#[case("your_domain", true)]
#[case("LogMeIn.exe", false)]
#[case("C:\\Program Files\\x", false)]
#[case("Known Good Software Inc", false)]
fn placeholders(#[case] value: &str, #[case] expected: bool) {
    assert_eq!(parse::is_placeholder(value), expected, "{value}");
}

#[test]
fn truncated_typographic_string_points_at_the_quote() {
    let e = error("`process.name != ”");
    assert_eq!(e.span, 17..20);
    assert_eq!(
        e.hint.as_deref(),
        Some("the string that starts with ” (at the caret) is never closed; use straight quotes \"...\"")
    );
}

#[test]
fn errors_say_what_was_expected_in_words() {
    let e = error("process.name ==");
    assert_eq!(
        e.message,
        "syntax error: expected a value in quotes, found the end of the exclusion"
    );
    let e = error("process.name LogMeIn.exe");
    assert_eq!(e.span, 13..24);
    assert!(
        e.label.starts_with("expected an operator (==, !=, contains"),
        "{}",
        e.label
    );
    let e = error(r#"a == "x" b == "y""#);
    assert!(e.message.contains("`and` or `or`"), "{}", e.message);
    let e = error(r#"f == "C:\Windows""#);
    assert_eq!(e.span, 8..10);
    assert!(e.hint.unwrap().contains("verbatim"));
}

#[test]
fn a_parenthesised_expression_after_an_expression_is_not_a_note() {
    assert!(matches!(
        parse_exclusion(r#"a == "x" (b == "y")"#),
        ParseOutcome::Invalid(_)
    ));
    let p = parsed("a == 1 (TODO: check the (real) id)");
    assert!(matches!(p.irregularities[0], Irregularity::Annotation { .. }));
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}a == 1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(error(&deep).message.contains("nests deeper"));
    let nots = format!("{}a == 1", "not ".repeat(10_000));
    assert!(error(&nots).message.contains("nests deeper"));
    let bangs = format!("{}a == 1", "!".repeat(10_000));
    assert!(error(&bangs).message.contains("nests deeper"));
    let ok = format!("{}a == 1{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
    parsed(&ok);
    // Text the guard once misread as an unclosed string, hiding the brackets after it
    // (the fuzz campaign's stack overflows): a verbatim string ending in a backslash, a
    // typographic quote, an apostrophe in a `//` comment.
    for start in [
        r#"FileName == @"C:\" or "#,
        "FileName == \u{201c}x\" or ",
        "FileName == \"a\" // it's\n or ",
    ] {
        let deep = format!("{start}{}x == 1{}", "(".repeat(6_000), ")".repeat(6_000));
        assert!(error(&deep).message.contains("nests deeper"), "{start}");
    }
}

#[test]
fn prose_is_not_a_syntax_error() {
    assert!(matches!(
        parse_exclusion("Exclude processes initiated by the Kaseya VSA agent."),
        ParseOutcome::Prose(_)
    ));
    assert!(matches!(
        parse_exclusion("process.name = = 'x'"),
        ParseOutcome::Invalid(_)
    ));
}

#[test]
fn verbatim_doubled_quotes_and_obfuscated_strings_are_kql_literals() {
    let value = |text: &str| match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => match p.pred {
            Pred::Atom(a) => a.values[0].text().to_string(),
            other => panic!("{other:?}"),
        },
        other => panic!("{text}: {other:?}"),
    };
    assert_eq!(
        value(r#"x == @"reg query ""HKCU\Software""""#),
        r#"reg query "HKCU\Software""#
    );
    assert_eq!(value("x == @'it''s'"), "it's");
    assert_eq!(value(r#"x == h"secret""#), "secret");
    assert_eq!(value(r#"x == H@"C:\temp""#), r"C:\temp");
    // A word that starts with h is still a (bare) word.
    assert_eq!(value("x == hello"), "hello");
}

#[rstest]
#[case("f == 0x10", "16")]
#[case("f == -0X1f", "-31")]
#[case("f == 1e3", "1000")]
#[case("f == 1.5E-3", "0.0015")]
#[case("f == 5.", "5")]
#[case("f == 2.50", "2.50")]
fn number_literals_compare_as_their_decimal_text(#[case] text: &str, #[case] expected: &str) {
    let Pred::Atom(a) = parsed(text).pred else { panic!() };
    assert_eq!(a.value(), &Value::Num(expected.into()));
}

#[rstest]
#[case(r#"f == "\x4""#)]
#[case(r#"f == "\u00A""#)]
#[case(r#"f == "\9""#)]
#[case(r#"f == "\ud800x""#)]
fn malformed_escapes_are_errors(#[case] text: &str) {
    assert!(!error(text).message.is_empty());
}

#[test]
fn datetime_values_are_instants() {
    let text = |e: &str| parsed(e).pred.atoms()[0].value().text().to_string();
    assert_eq!(text("Timestamp > datetime(2024-01-01)"), "2024-01-01T00:00:00Z");
    assert_eq!(
        text(r#"Timestamp > datetime("2024-01-01 10:00")"#),
        "2024-01-01T10:00:00Z"
    );
    assert_eq!(
        text("Timestamp == datetime(2024-01-01T10:00:00.1234567+01:00)"),
        "2024-01-01T09:00:00.1234567Z"
    );
    let now = crate::time::now();
    assert_eq!(
        text("Timestamp > ago(1d)"),
        crate::time::format_datetime(now - 864_000_000_000)
    );
    assert_eq!(text("Timestamp < now(-1h)"), text("Timestamp < ago(1h)"));
    assert_eq!(text("Timestamp < now()"), crate::time::format_datetime(now));
    // Printed as written.
    let p = parsed("Timestamp in (datetime(2024-01-01), ago(7d))").pred;
    assert_eq!(p.to_string(), "Timestamp in (datetime(2024-01-01), ago(7d))");
    // `==` compares instants, not text.
    let a = &p.atoms()[0];
    let event = |t: &str| [("Timestamp".to_string(), t.to_string())].into_iter().collect();
    assert!(a.eval(&event("2024-01-01T00:00:00.0000000Z")));
    assert!(a.eval(&event("2024-01-01 00:00")));
    assert!(!a.eval(&event("2024-01-01T00:00:01Z")));
    assert!(!a.eval(&event("")));
}

#[rstest]
#[case("Timestamp > datetime(2024-02-30)", "`2024-02-30` is not a datetime KQL reads")]
#[case("Timestamp > ago(7y)", "`7y` is not a timespan KQL reads")]
#[case("Timestamp > ago(9999999d)", "is outside the datetimes KQL holds")]
fn malformed_datetimes_are_errors(#[case] text: &str, #[case] message: &str) {
    let e = error(text);
    assert!(e.message.contains(message), "{}", e.message);
}

#[test]
fn an_escaped_multi_byte_character_is_read_not_panicked() {
    // Found by the fuzzer: `\Υ` sliced the string inside the character.
    let _ = parse_exclusion("process.name != \"fileverif\\Υx\"");
    let _ = parse_exclusion("a == \"\\é\\u00e9\"");
}
