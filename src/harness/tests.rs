use proptest::prelude::*;

use super::*;
use crate::expr::{ParseOutcome, parse_exclusion};
use crate::logic::{Verdict, classify};
use crate::pred::Value;
use crate::pred::strategy as pred_strategy;
use crate::schema::schema;

const TABLE: &str = "DeviceProcessEvents";

fn parse(text: &str) -> Pred {
    match parse_exclusion(text) {
        ParseOutcome::Parsed(p) => p.pred,
        other => panic!("{other:?}"),
    }
}

fn event(fields: &[(&str, &str)]) -> Event {
    fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn setup<'a>(detection: &'a Pred, exclusion: &'a Pred, benign: &'a [Event], malicious: &'a [Event]) -> Setup<'a> {
    setup_on(TABLE, detection, exclusion, benign, malicious)
}

fn setup_on<'a>(
    table: &str,
    detection: &'a Pred,
    exclusion: &'a Pred,
    benign: &'a [Event],
    malicious: &'a [Event],
) -> Setup<'a> {
    let constants = exclusion
        .atoms()
        .iter()
        .chain(detection.atoms().iter())
        .flat_map(|a| a.values.iter().map(|v| v.text().to_string()))
        .collect();
    Setup {
        members: Vec::new(),
        columns: schema().table(table).unwrap(),
        detection: Some(detection),
        exclusion: Some(exclusion),
        benign,
        malicious,
        constants,
        salt: 7,
    }
}

#[test]
fn same_seed_same_outcome() {
    let d = parse(r#"FileName =~ "litemanager.exe""#);
    let e = parse(r#"ProcessCommandLine contains "schtasks.exe""#);
    let benign = [event(&[
        ("FileName", "LiteManager.exe"),
        ("ProcessCommandLine", "LiteManager.exe /task schtasks.exe"),
    ])];
    let malicious = [event(&[
        ("FileName", "LiteManager.exe"),
        ("DeviceName", "fin-ws-042.contoso.com"),
    ])];
    let s = setup(&d, &e, &benign, &malicious);
    let config = Config { seed: 42, cases: 64 };
    let a = run(&s, config);
    let b = run(&s, config);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    let c = run(&s, Config { seed: 43, cases: 64 });
    assert_eq!(a.stats.events, c.stats.events);
    // The attacker puts the exclusion's own constant into the command line.
    let tp = a.suppresses_true_positive.expect("an attacker can use schtasks.exe");
    assert!(
        tp.event["ProcessCommandLine"]
            .to_ascii_lowercase()
            .contains("schtasks.exe")
    );
    assert!(d.eval(&tp.event) && e.eval(&tp.event), "the shrunk event still fails");
    assert_eq!(
        tp.event["ProcessCommandLine"], "schtasks.exe",
        "shrunk to the bare constant"
    );
    assert!(a.misses_benign.is_none());
    assert_eq!(a.stats.benign_suppressed, a.stats.benign);
}

#[test]
fn benign_events_outside_the_rule_are_not_false_positives() {
    let d = parse(r#"FileName =~ "litemanager.exe""#);
    let e = parse(r#"AccountName == "svc_it""#);
    let benign = [
        event(&[("FileName", "kaseya.exe")]),
        event(&[("FileName", "LiteManager.exe")]),
    ];
    let s = setup(&d, &e, &benign, &[]);
    let out = run(&s, Config { seed: 1, cases: 32 });
    assert_eq!(out.not_a_false_positive.unwrap().source, Source::Benign(0));
    let missed = out.misses_benign.expect("a random account is not svc_it");
    assert_eq!(missed.source, Source::Benign(1));
    assert!(d.eval(&missed.event) && !e.eval(&missed.event));
}

#[test]
fn generated_alerts_are_a_statistic_not_evidence() {
    // Suppressing the WinRM port's alerts is what this exclusion is for: no FPX301
    // without a malicious event, however many generated alerts it suppresses.
    let d = parse("RemotePort in (5985, 5986, 3389)");
    let e = parse("RemotePort == 5985");
    let s = setup_on("DeviceNetworkEvents", &d, &e, &[], &[]);
    let out = run(&s, Config { seed: 1, cases: 64 });
    assert!(
        out.stats.alerts > 0 && out.stats.alerts_suppressed > 0,
        "{:?}",
        out.stats
    );
    assert!(out.suppresses_true_positive.is_none());
    // What is inconclusive is the scenario's missing malicious template, nothing else.
    let properties: Vec<Property> = out.inconclusive.iter().map(|(p, _)| *p).collect();
    assert_eq!(properties, [Property::Malicious], "{:?}", out.inconclusive);
    assert!(out.inconclusive[0].1.contains("no malicious template"));
}

#[test]
fn a_property_with_nothing_to_test_is_inconclusive() {
    let d = parse(r#"FileName =~ "litemanager.exe""#);
    let e = parse(r#"AccountName == "svc_it""#);
    // The malicious template is not an alert of the rule.
    let malicious = [event(&[("FileName", "kaseya.exe")])];
    let out = run(&setup(&d, &e, &[], &malicious), Config { seed: 1, cases: 16 });
    assert_eq!(out.inconclusive.len(), 1, "{:?}", out.inconclusive);
    assert_eq!(out.inconclusive[0].0, Property::Malicious);
    // A rule that matches nothing: no alert to sample.
    let dead = parse(r#"FileName == "a" and FileName == "b""#);
    let out = run(&setup(&dead, &e, &[], &malicious), Config { seed: 1, cases: 16 });
    assert!(
        out.inconclusive.iter().any(|(p, _)| *p == Property::Alerts),
        "{:?}",
        out.inconclusive
    );
}

fn column_value() -> BoxedStrategy<Value> {
    prop_oneof![
        Just("GoTo, Inc"),
        Just("goto"),
        Just("DigiCert"),
        Just("fin-ws"),
        Just("")
    ]
    .prop_map(|s| Value::Str(s.to_string()))
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The harness and the logic engine never disagree: an always-true exclusion
    /// suppresses every generated event, a never-true one none.
    #[test]
    fn harness_agrees_with_the_logic_engine(
        e in pred_strategy::pred(pred_strategy::atom(vec!["Signer", "Issuer", "CrlDistributionPointUrls"], column_value(), false), 2),
        seed in any::<u64>(),
    ) {
        let d = parse(r#"Signer has "GoTo""#);
        let benign = [event(&[("Signer", "GoTo, Inc.")])];
        let malicious = [event(&[("Signer", "GoTo, Inc."), ("DeviceName", "fin-ws-042")])];
        let s = setup_on("DeviceFileCertificateInfo", &d, &e, &benign, &malicious);
        let out = run(&s, Config { seed, cases: 8 });
        let total = out.stats.benign + out.stats.malicious + out.stats.alerts;
        let suppressed = out.stats.benign_suppressed + out.stats.malicious_suppressed + out.stats.alerts_suppressed;
        match classify(&e).verdict {
            Verdict::AlwaysTrue => prop_assert_eq!(suppressed, total),
            Verdict::NeverTrue => prop_assert_eq!(suppressed, 0),
            _ => {}
        }
        if let Some(c) = &out.suppresses_true_positive {
            prop_assert!(d.eval(&c.event) && e.eval(&c.event));
        }
        if let Some(c) = &out.misses_benign {
            prop_assert!(d.eval(&c.event) && !e.eval(&c.event));
        }
    }
}
