use super::*;
use crate::expr::print;

const SEED_QUERY: &str = "let Time_start = now(-5d);
let Time_end = now();
//
DeviceFileCertificateInfo
| where Timestamp between (Time_start..Time_end)
| where Signer has_any ('LogMeIn', 'GoTo, Inc')
| summarize FirstSeen=min(Timestamp), LastSeen=max(Timestamp),
Report=make_set(ReportId), Count=count() by DeviceId, DeviceName
";

#[test]
fn the_seed_query_lowers_exactly() {
    let q = read_query(SEED_QUERY);
    assert_eq!(q.table.as_deref(), Some("DeviceFileCertificateInfo"));
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"true and Signer has_any ("LogMeIn", "GoTo, Inc")"#
    );
    assert_eq!(
        q.output_columns,
        ["FirstSeen", "LastSeen", "Report", "Count", "DeviceId", "DeviceName"]
    );
}

#[test]
fn multi_line_where_with_and_or_and_lists() {
    let q = read_query(
        "DeviceProcessEvents
| where ProcessVersionInfoCompanyName has_any ('anydesk software', 'philandro software')
    and ProcessVersionInfoProductName has 'anydesk'
    or (FileName in~ ('a.exe', \"b.exe\") and not(isempty(AccountName)))
| summarize count() by DeviceId",
    );
    assert!(q.exact());
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"ProcessVersionInfoCompanyName has_any ("anydesk software", "philandro software") and ProcessVersionInfoProductName has "anydesk" or FileName in~ ("a.exe", "b.exe") and not (AccountName == "")"#
    );
    assert_eq!(q.output_columns, ["count_", "DeviceId"]);
}

#[test]
fn let_bound_lists_are_substituted() {
    let q = read_query(
        "let WhiteList = pack_array('svchost.exe', 'msmpeng.exe');
let Name = 'cmd.exe';
DeviceProcessEvents
| where InitiatingProcessFileName !in~ (WhiteList) and FileName == Name",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"InitiatingProcessFileName !in~ ("svchost.exe", "msmpeng.exe") and FileName == "cmd.exe""#
    );
}

#[test]
fn opaque_conditions_are_over_approximated_by_polarity() {
    let q = read_query(
        "DeviceProcessEvents | where tolower(FileName) == 'a' and not(strlen(FolderPath) > 3) and AccountName == 'x'",
    );
    assert!(!q.exact());
    assert_eq!(q.notes.len(), 2);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"true and not (false) and AccountName == "x""#
    );
}

#[test]
fn subquery_sets_are_approximated_and_datatables_refused() {
    let q = read_query(
        "let s = DeviceFileCertificateInfo | where Signer has 'DWSNET' | distinct Sha1;
DeviceProcessEvents
| Sha1 in (s)
| summarize count() by DeviceId",
    );
    assert!(q.detection.is_some());
    assert!(q.notes.iter().any(|n| n.message.contains("has no operator")));
    let q = read_query(
        "let t = datatable(URI:string)['a.com'];\nDeviceNetworkEvents | where RemoteUrl has_any ((t | distinct URI))",
    );
    // A datatable the rule only compares with (or joins) leaves D, approximated; one
    // the rule reads as its rows leaves none.
    assert!(q.detection.is_some() && !q.exact(), "{:?}", q.notes);
    let q = read_query("let t = datatable(URI:string)['a.com'];\nt | where URI has 'a'");
    assert!(q.detection.is_none());
    assert!(q.notes.iter().any(|n| n.fatal && n.message.contains("datatable")));
}

#[test]
fn joins_keep_the_detection_before_them_and_garbage_is_refused_not_panicked() {
    // A join that keeps the rule's rows: D is read on the rule's table, conditions after
    // it on its columns too; those on the other table's columns are the other table's.
    let q = read_query(
        "DeviceProcessEvents | where FileName == 'a' | join kind=inner (DeviceNetworkEvents) on DeviceId | where RemotePort == 1 and ProcessCommandLine has 'x'",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert!(
        q.notes[0]
            .message
            .contains("matches the rule's rows with another table's"),
        "{:?}",
        q.notes
    );
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName == "a" and (true and ProcessCommandLine has "x")"#
    );
    // A join whose rows are the other table's, or after columns fpx no longer knows
    // (`project-away`): D up to it, noted.
    for query in [
        "DeviceProcessEvents | where FileName == 'a' | join kind=rightsemi (DeviceNetworkEvents) on DeviceId | where RemotePort == 1",
        "DeviceProcessEvents | where FileName == 'a' | project DeviceId, FileName | project-away FileName | join (DeviceNetworkEvents) on DeviceId | where FileName == 'b'",
    ] {
        let q = read_query(query);
        assert!(!q.exact());
        assert!(q.notes[0].message.contains("`| join` combines"), "{:?}", q.notes);
        assert_eq!(print(&q.detection.unwrap()), r#"FileName == "a""#);
    }
    // A comparison with the joined table's column is about the match, as the join is.
    let q = read_query(
        "DeviceFileEvents | where FileName == 'a' | join kind=inner (DeviceNetworkEvents) on DeviceId | where FolderPath endswith RemoteIP1 and Timestamp1 >= Timestamp and FolderPath has 'x'",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName == "a" and (true and true and FolderPath has "x")"#
    );
    // Not a number, nor a computed column.
    let q = read_query(
        "DeviceFileEvents | join kind=inner (DeviceNetworkEvents) on DeviceId | extend m = indexof(FolderPath, 'x') | where m > -1",
    );
    assert!(!q.exact(), "{:?}", q.notes);
    // The same join after columns fpx no longer knows, that no condition follows
    // (before `summarize`), costs nothing: D up to it is exact for the rule's table.
    for query in [
        "DeviceProcessEvents | where FileName == 'a' | project-away FileName | join (DeviceNetworkEvents) on DeviceId",
        "DeviceProcessEvents | where FileName == 'a' | project-away FileName | join kind=fullouter (DeviceNetworkEvents) on DeviceId | summarize count() by DeviceId | where count_ > 2",
    ] {
        let q = read_query(query);
        assert!(q.exact(), "{:?}", q.notes);
        assert!(q.notes[0].message.contains("no condition follows it"), "{:?}", q.notes);
        assert_eq!(print(&q.detection.unwrap()), r#"FileName == "a""#);
    }
    // After a `project`, the projected names are the rule's columns and any other name
    // is the joined table's, also when the `project` is inside a `let`-bound query.
    for query in [
        "DeviceProcessEvents | where FileName == 'a' | project DeviceId, Pid = ProcessId, FileName | join (DeviceNetworkEvents) on DeviceId | where Pid == RemotePort and FileName has 'x' and RemoteUrl has 'y'",
        "let v = DeviceProcessEvents | where FileName == 'a' | project DeviceId, Pid = ProcessId, FileName;\nv | join (DeviceNetworkEvents) on DeviceId | where Pid == RemotePort and FileName has 'x' and RemoteUrl has 'y'",
    ] {
        let q = read_query(query);
        assert!(q.exact(), "{query}: {:?}", q.notes);
        assert_eq!(
            print(&q.detection.unwrap()),
            r#"FileName == "a" and (true and FileName has "x" and true)"#,
            "{query}"
        );
    }
    // A time window after it is no condition on a row.
    let (d, exact) = detection(
        "DeviceProcessEvents | where FileName == 'a' | project-away FileName | join (DeviceNetworkEvents) on DeviceId | where (Timestamp - Timestamp1) between (0min .. 5min) | distinct *",
    );
    assert!(exact);
    assert_eq!(d, r#"FileName == "a""#);
    // A `| union` adds other rows: a condition after it on the rule's columns is read
    // on the rule's rows; one on a column only the added table has is not.
    let q =
        read_query("DeviceProcessEvents | where FileName == 'a' | union DeviceFileEvents | where FolderPath has 'x'");
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName == "a" and FolderPath has "x""#
    );
    let q = read_query(
        "DeviceProcessEvents | where FileName == 'a' | union DeviceRegistryEvents | where RegistryKey has 'x'",
    );
    assert!(!q.exact());
    assert_eq!(print(&q.detection.unwrap()), r#"FileName == "a" and true"#);
    // After a `project`, which columns the rule's rows have is not followed: as before.
    let q = read_query(
        "DeviceProcessEvents | where FileName == 'a' | project FileName, FolderPath | union DeviceFileEvents | where FolderPath has 'x'",
    );
    assert!(!q.exact());
    for text in [
        "",
        "|",
        "let",
        "DeviceProcessEvents | where (",
        "DeviceProcessEvents | where FileName == ",
        "(((((",
    ] {
        let q = read_query(text);
        assert!(q.detection.is_none(), "{text:?}");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let query = format!(
        "DeviceProcessEvents | where {}FileName == 'a'{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let q = read_query(&query);
    assert!(q.detection.is_none());
    assert!(q.notes[0].message.contains("nests deeper than 100"), "{:?}", q.notes);
}

#[test]
fn numeric_between_is_exact() {
    let q = read_query("DeviceNetworkEvents | where RemotePort between (1 .. 1024)");
    assert!(q.exact());
    assert_eq!(print(&q.detection.unwrap()), "RemotePort >= 1 and RemotePort <= 1024");
}

/// Every rule of the corpus: table and D (the datatable one compares with its rows,
/// approximated), quickly.
#[test]
#[ignore = "needs ../shared"]
fn corpus_queries() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rmm-rules");
    let corpus = crate::corpus::load(&[dir]);
    assert_eq!(corpus.rules.len(), 168);
    let mut without_d = Vec::new();
    for rule in &corpus.rules {
        let q = read_query(&rule.query);
        assert!(q.table.is_some(), "{}: {:?}", rule.file.display(), q.notes);
        if q.detection.is_none() {
            without_d.push(rule.file.file_name().unwrap().to_string_lossy().to_string());
        }
    }
    assert!(without_d.is_empty(), "{without_d:?}");
    let exact = corpus.rules.iter().filter(|r| read_query(&r.query).exact()).count();
    assert!(exact >= 160, "{exact} exact");
}

/// Exactly the corpus rules whose queries need an FPX401 note: the two that compare with
/// another query's rows, the one with invalid KQL, and the datatable one.
#[test]
#[ignore = "needs ../shared"]
fn corpus_queries_that_need_notes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rmm-rules");
    let mut noted: Vec<String> = crate::corpus::load(&[dir])
        .rules
        .iter()
        .filter(|r| !read_query(&r.query).notes.is_empty())
        .map(|r| r.file.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    noted.sort();
    assert_eq!(
        noted,
        [
            "rmm_DWService_createproc.yaml",
            "rmm_DWService_netconn.yaml",
            "rmm_Level_createproc.yaml",
            "rmm__all_netconn.yaml"
        ]
    );
}

#[test]
fn verbatim_strings_with_doubled_quotes_lower_exactly() {
    let q = read_query("DeviceProcessEvents\n| where ProcessCommandLine =~ @\"reg query \"\"HKCU\\Software\"\"\"");
    assert!(q.exact(), "{:?}", q.notes);
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    let d = q.detection.unwrap();
    assert_eq!(d.atoms()[0].values[0].text(), r#"reg query "HKCU\Software""#);
}

/// A string column is never null: `isnull` of one is false and `isnotnull` true (not an
/// emptiness test); a number column is null where fpx reads the empty text.
#[test]
fn null_tests_follow_the_column_type() {
    let q = read_query(
        "DeviceProcessEvents\n| where FileName =~ \"cmd.exe\" and isnotnull(ProcessCommandLine) and not(isnull(AccountName)) and isnull(ProcessId)",
    );
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName =~ "cmd.exe" and true and not (false) and ProcessId == """#
    );
    let q = read_query("DeviceProcessEvents\n| where isnotempty(ProcessCommandLine)");
    assert_eq!(print(&q.detection.unwrap()), r#"ProcessCommandLine != """#);
}

/// KQL compares a bool column with 1 and 0 as true and false (three real Sentinel rules
/// write `IsSigned == 1`).
#[test]
fn bool_columns_compare_with_one_and_zero_as_true_and_false() {
    let q = read_query("DeviceFileCertificateInfo\n| where IsSigned == 1 and IsTrusted in (0) and SignatureType == 1");
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"IsSigned == true and IsTrusted in (false) and SignatureType == 1"#
    );
}

/// Names given to columns are read as the columns: `project-rename`, `project X = Y`,
/// `extend X = Y`, and `tolower`/`toupper` of a column (a case-insensitive test; a
/// case-sensitive value it can never equal drops out). Computed columns stay FPX401.
#[test]
fn aliases_of_columns_are_the_columns() {
    let d = |q: &str| {
        let q = read_query(q);
        let exact = q.exact();
        (print(&q.detection.unwrap()), exact)
    };
    assert_eq!(
        d("DeviceProcessEvents\n| project-rename Cmd = ProcessCommandLine\n| where Cmd has \"x\""),
        (r#"ProcessCommandLine has "x""#.to_string(), true)
    );
    assert_eq!(
        d(
            "DeviceProcessEvents\n| project Cmd = ProcessCommandLine, FileName\n| where Cmd has \"x\" and FileName == \"a\""
        ),
        (r#"ProcessCommandLine has "x" and FileName == "a""#.to_string(), true)
    );
    assert_eq!(
        d("DeviceProcessEvents\n| extend P = tolower(FileName)\n| where P == \"cmd.exe\" or P == \"CMD.exe\""),
        (r#"FileName =~ "cmd.exe" or false"#.to_string(), true)
    );
    assert_eq!(
        d(
            "DeviceProcessEvents\n| extend U = toupper(FileName), F = U\n| where F in (\"CMD.EXE\", \"pwsh.exe\") and U !contains_cs \"TEMP\""
        ),
        (
            r#"FileName in~ ("CMD.EXE") and FileName !contains "TEMP""#.to_string(),
            true
        )
    );
    let (text, exact) = d("DeviceProcessEvents\n| extend L = strlen(FileName)\n| where L > 5");
    assert!(!exact, "{text}");
    let (text, exact) = d("DeviceProcessEvents\n| extend P = tolower(FileName)\n| where P matches regex \"a\"");
    assert!(!exact, "{text}");
}

#[test]
fn parenthesised_scalar_values_are_values() {
    let q = read_query("DeviceProcessEvents\n| where ProcessCommandLine has(\"bcdedit\") and FileName == (\"a.exe\")");
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"ProcessCommandLine has "bcdedit" and FileName == "a.exe""#
    );
}

#[test]
fn a_union_source_is_one_table_of_its_tables_rows() {
    for query in [
        "union DeviceProcessEvents, DeviceEvents\n| where FileName =~ \"a.exe\"",
        "(union isfuzzy=true DeviceProcessEvents, DeviceEvents)\n| where FileName =~ \"a.exe\"",
    ] {
        let q = read_query(query);
        assert_eq!(
            q.table.as_deref(),
            Some("union(DeviceProcessEvents, DeviceEvents)"),
            "{query}"
        );
        assert!(q.exact(), "{:?}", q.notes);
        assert_eq!(print(&q.detection.unwrap()), r#"FileName =~ "a.exe""#);
    }
}

/// A parse error at the end of the query is placed on its last character, inside it.
#[test]
fn parse_errors_are_inside_the_query() {
    let query = "DeviceProcessEvents\n| where FileName == \"a\" and (\n";
    let q = read_query(query);
    assert!(q.detection.is_none());
    let note = &q.notes[0];
    assert!(note.message.contains("line 2, column 29"), "{}", note.message);
    assert!(note.span.end <= query.trim_end().len(), "{:?}", note.span);
}

#[test]
fn numbers_compare_with_number_columns_as_numbers() {
    let q = read_query("DeviceNetworkEvents\n| where RemotePort == 443.0 or RemotePort in (80.00, 8080.5)");
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"RemotePort == 443 or RemotePort in (80, 8080.5)"#
    );
}

/// `make-series` and `top-nested` aggregate as `summarize` does: what follows them does
/// not cost D.
#[test]
fn make_series_is_an_aggregation() {
    let (d, exact) = detection(
        "CloudAppEvents | where ActionType == 'MailItemsAccessed' | make-series Total=count() on Timestamp step 1h | extend (anomalies, score, baseline) = series_decompose_anomalies(Total) | where anomalies > 0",
    );
    assert!(exact);
    assert_eq!(d, r#"ActionType == "MailItemsAccessed""#);
}

/// `summarize (a, b) = arg_max(...)` names two columns; D is what comes before it.
#[test]
fn tuple_aggregates_do_not_cost_the_detection() {
    let q = read_query(
        "DeviceProcessEvents\n| where FileName =~ \"a.exe\"\n| summarize (T, Cmd) = arg_max(Timestamp, ProcessCommandLine) by DeviceId\n| where Cmd has \"x\"",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(print(&q.detection.unwrap()), r#"FileName =~ "a.exe""#);
    assert_eq!(q.output_columns, ["T", "Cmd", "DeviceId"]);
}

#[test]
fn find_in_tables_reads_their_rows() {
    let q =
        read_query("find in (DeviceProcessEvents, DeviceFileEvents) where FileName =~ \"a.exe\" | project DeviceId");
    assert_eq!(q.table.as_deref(), Some("union(DeviceProcessEvents, DeviceFileEvents)"));
    assert!(q.exact());
    assert_eq!(print(&q.detection.unwrap()), r#"FileName =~ "a.exe""#);
}

/// A function that is the condition itself is an FPX401 naming it, not a parse error.
#[test]
fn a_boolean_function_is_named_and_approximated() {
    let q = read_query("DeviceNetworkEvents\n| where RemotePort == 3389 and not(ipv4_is_private(RemoteIP))");
    assert_eq!(q.table.as_deref(), Some("DeviceNetworkEvents"));
    assert!(q.detection.is_some());
    assert!(
        q.notes.iter().any(|n| n.message.contains("calls `ipv4_is_private`")),
        "{:?}",
        q.notes
    );
}

/// D as printed, with whether it is exact.
fn detection(query: &str) -> (String, bool) {
    let q = read_query(query);
    (q.detection.as_ref().map(print).unwrap_or_default(), q.exact())
}

#[test]
fn time_windows_with_names_and_arithmetic_are_dropped() {
    for query in [
        "let MaxAge = ago(1d); DeviceProcessEvents | where Timestamp > MaxAge | where FileName == \"a\"",
        "DeviceProcessEvents | where Timestamp < AlertTime + 5d and FileName == \"a\"",
        "DeviceProcessEvents | where (LogonTime - TimeEmail) between (0min .. 30min) | where FileName == \"a\"",
        "DeviceProcessEvents | where LastTime - FirstTime < 1d | where FileName == \"a\"",
    ] {
        let (d, exact) = detection(query);
        assert!(exact, "{query}");
        assert!(d.ends_with(r#"FileName == "a""#), "{query}: {d}");
    }
    // Times compared with times, computed or not, are time windows too.
    let (d, exact) = detection(
        "DeviceEvents | extend DetectionTime = bin(Timestamp, 1h) | where DetectionTime > UsbFirstSeen and FileName == \"a\"",
    );
    assert!(exact, "{d}");
    assert_eq!(d, r#"true and FileName == "a""#);
    // Arithmetic that is not about time is read (and noted) as "could be true".
    let (d, exact) = detection("DeviceProcessEvents | where ProcessId > avg + k * stdev | where FileName == \"a\"");
    assert!(!exact);
    assert!(d.ends_with(r#"FileName == "a""#), "{d}");
}

#[test]
fn dynamic_properties_are_fields_of_their_own() {
    let (d, exact) = detection(
        "DeviceEvents | extend P = parse_json(AdditionalFields) | where P.PipeName has \"x\" and parse_json(AdditionalFields).IsLocalLogon != true",
    );
    assert!(exact);
    assert_eq!(
        d,
        r#"AdditionalFields.PipeName has "x" and AdditionalFields.IsLocalLogon != true"#
    );
    let (d, _) = detection(
        "CloudAppEvents | where RawEventData['AppId'] == \"1\" | extend S = tostring(RawEventData.Status) | where S == \"ok\"",
    );
    assert_eq!(d, r#"RawEventData.AppId == "1" and RawEventData.Status == "ok""#);
    let (d, exact) = detection(
        "CloudAppEvents | extend AppId = RawEventData['AppId'], Status = RawEventData.Status | where isnotempty(RawEventData['ClientAppId']) and notempty(Status) and AppId == \"1\"",
    );
    assert!(exact);
    assert_eq!(
        d,
        r#"RawEventData.ClientAppId != "" and RawEventData.Status != "" and RawEventData.AppId == "1""#
    );
    let (d, _) = detection(
        "CloudAppEvents | extend rawData = parse_json(RawEventData) | extend AppId = tostring(parse_json(rawData.AppId)) | where AppId == \"x\"",
    );
    assert_eq!(d, r#"RawEventData.AppId == "x""#);
    // Array elements and keys that are not names are properties too, in one form.
    let (d, exact) = detection(
        "CloudAppEvents | extend T = RawEventData.Target[2], F = parse_json(AdditionalFields)['FROM SAM'] | where RawEventData.Items[0].Name == \"x\" and T.ID == \"y\" and RawEventData[\"Actor\"][-1].ID has \"z\" and F !has \"$\"",
    );
    assert!(exact);
    assert_eq!(
        d,
        r#"RawEventData.Items[0].Name == "x" and RawEventData.Target[2].ID == "y" and RawEventData.Actor[-1].ID has "z" and AdditionalFields['FROM SAM'] !has "$""#
    );
}

#[test]
fn made_columns_and_let_values_are_not_misread() {
    // `parse` and `mv-expand` make columns; an `isempty` of a `let` value is a constant.
    let (d, exact) = detection(
        "let Name = \"\"; IdentityQueryEvents | parse Query with * \"Filter: \" SearchFilter | where SearchFilter has \"x\" and (isempty(Name) or ActionType == Name)",
    );
    assert!(!exact);
    assert_eq!(d, r#"true and (true or ActionType == "")"#);
    let (d, _) =
        detection("DeviceProcessEvents | extend D = base64_decodestring(ProcessCommandLine) | where isnotempty(D)");
    assert_eq!(d, "true");
}

#[test]
fn a_union_with_a_table_fpx_does_not_know_is_checked_on_one_that_has_the_columns() {
    let q = read_query("union DeviceFileEvents, DeviceProcessEvents | where ProcessCommandLine has \"x\"");
    assert_eq!(q.table.as_deref(), Some("union(DeviceFileEvents, DeviceProcessEvents)"));
    assert_eq!(print(&q.detection.unwrap()), r#"ProcessCommandLine has "x""#);
    // A table fpx does not know may have any column.
    let q = read_query("union MyTable, DeviceProcessEvents | where ProcessCommandLine has \"x\"");
    assert_eq!(q.table.as_deref(), Some("MyTable"));
    assert!(!q.exact());
    let q = read_query("union DeviceFileEvents, MyTable | where RegistryKey has \"x\" and FolderPath has \"y\"");
    assert_eq!(q.table.as_deref(), Some("MyTable"));
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"RegistryKey has "x" and FolderPath has "y""#
    );
}

/// Two string columns compared (`A == B`, `A != B`): a test of both, exact; other
/// comparisons of columns stay approximated. A comparison of columns is part of the
/// detection, not an inline exclusion (it removes nothing by constants).
#[test]
fn string_columns_compared_with_each_other() {
    let q = read_query(
        "DeviceLogonEvents | where AccountDomain == DeviceName and AccountName != InitiatingProcessAccountName | where RemoteIP !startswith '127.'",
    );
    assert!(q.exact(), "{:?}", q.notes);
    let d = q.detection.clone().unwrap();
    assert_eq!(
        print(&d),
        r#"(AccountDomain == DeviceName and AccountName != InitiatingProcessAccountName) and RemoteIP !startswith "127.""#
    );
    assert_eq!(q.inline.len(), 1);
    assert_eq!(print(&q.inline[0].suppresses), r#"RemoteIP startswith "127.""#);
    let event = fpx_event(&[("AccountDomain", "pc1"), ("DeviceName", "pc1"), ("AccountName", "a")]);
    assert!(d.eval(&event));
    let event = fpx_event(&[("AccountDomain", "pc1"), ("DeviceName", "PC1")]);
    assert!(!d.eval(&event));
    for query in [
        // Case-insensitive, a number column, an order: approximated.
        "DeviceLogonEvents | where AccountDomain =~ DeviceName",
        "DeviceNetworkEvents | where LocalPort == RemotePort",
        "DeviceLogonEvents | where AccountDomain > DeviceName",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
}

/// A `let` string compared with a column (`Objects contains QueryTarget`): a test of
/// the column, checked against `contains` on every short text.
#[test]
fn a_let_string_compared_with_a_column_is_a_test_of_the_column() {
    let q = read_query(
        "let Objects = \"[Admins, DnsAdmin]\";\nIdentityQueryEvents | where Objects contains QueryTarget or Objects == Query",
    );
    assert!(q.exact(), "{:?}", q.notes);
    let d = q.detection.unwrap();
    assert_eq!(
        print(&d),
        r#""[Admins, DnsAdmin]" contains QueryTarget or Query == "[Admins, DnsAdmin]""#
    );
    for text in short_texts(&['a', 'A', 'd', 'm', 'n', 'x', ','], 4) {
        let holds = "[admins, dnsadmin]".contains(&text.to_ascii_lowercase());
        assert_eq!(d.eval(&fpx_event(&[("QueryTarget", &text)])), holds, "{text:?}");
    }
    // The literal written on the left reads the same (as `--emit kql` prints it).
    let (d, exact) =
        detection("IdentityQueryEvents | where \"[Admins, DnsAdmin]\" contains QueryTarget or \"x\" !~ Query");
    assert!(exact, "{d}");
    assert_eq!(d, r#""[Admins, DnsAdmin]" contains QueryTarget or Query !~ "x""#);
    // Another operator, a column on both sides of `has`: approximated.
    let (d, exact) = detection("let Objects = \"x\";\nIdentityQueryEvents | where Objects has QueryTarget");
    assert!(!exact, "{d}");
}

/// Constructs of Azure-Sentinel's Defender XDR analytic rules: `column_ifexists` of a
/// column the table has, typed number literals, `distinct` of expressions and an
/// aggregate the `summarize` rules do not cover (both aggregations: D is read before).
#[test]
fn constructs_of_published_analytic_rules() {
    let (d, exact) = detection(
        "DeviceProcessEvents | where column_ifexists('ProcessVersionInfoOriginalFileName', 'x') =~ 'bitsadmin.exe' or FileName =~ 'b.exe'",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"ProcessVersionInfoOriginalFileName =~ "bitsadmin.exe" or FileName =~ "b.exe""#
    );
    // A column the table lacks reads the default: not followed.
    let (_, exact) = detection("DeviceProcessEvents | where column_ifexists('Nope', '') == 'a'");
    assert!(!exact);
    let (d, exact) = detection(
        "let ids = pack_array(int(20892), long(15600));\nCloudAppEvents | where ApplicationId in (ids) and ApplicationId != real(5)",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"ApplicationId in (20892, 15600) and (ApplicationId != 5 and ApplicationId != "")"#
    );
    // A condition after `distinct` on one of its columns holds of the rows it came from.
    for (query, expected) in [
        (
            "IdentityLogonEvents | where Protocol == 'Kerberos' | distinct tostring(AdditionalFields), DeviceName, bin(Timestamp, 2m) | where DeviceName != ''",
            r#"Protocol == "Kerberos" and DeviceName != """#,
        ),
        (
            "IdentityLogonEvents | where Protocol == 'Kerberos' | summarize count(), S = (make_list(DeviceName, 10)) by AccountUpn | where count_ > 5",
            r#"Protocol == "Kerberos""#,
        ),
    ] {
        let q = read_query(query);
        assert!(q.exact(), "{query}: {:?}", q.notes);
        assert_eq!(print(&q.detection.unwrap()), expected, "{query}");
    }
}

/// `union (A | where P), (B | where P)`: the same conditions on each table's rows are
/// `union A, B | where P`; different conditions stay a union of queries (noted).
#[test]
fn a_union_of_queries_with_one_condition_is_a_union_of_tables() {
    let q = read_query(
        "let H = dynamic(['a1', 'b2']);\nunion isfuzzy=true(DeviceEvents | where InitiatingProcessSHA256 in (H)),\n(DeviceImageLoadEvents | where InitiatingProcessSHA256 in (H))\n| extend x = 1",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(q.table.as_deref(), Some("union(DeviceEvents, DeviceImageLoadEvents)"));
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"InitiatingProcessSHA256 in ("a1", "b2")"#
    );
    let q = read_query(
        "union (DeviceProcessEvents | where FileName == 'a'), (DeviceFileEvents | where FileName == 'a')\n| where FolderPath has 'x'",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName == "a" and FolderPath has "x""#
    );
    for query in [
        "union (DeviceProcessEvents | where FileName == 'a'), (DeviceFileEvents | where FileName == 'b')",
        "union (DeviceProcessEvents | where FileName == 'a'), DeviceFileEvents",
        "union (DeviceProcessEvents | where FileName == 'a'), (DeviceFileEvents | where FileName == 'a' | extend F = 1)",
        "union (DeviceProcessEvents | where FileName == 'a'), (MyTable | where FileName == 'a')",
    ] {
        let q = read_query(query);
        assert!(!q.exact(), "{query}");
        assert_eq!(q.table.as_deref(), Some("DeviceProcessEvents"), "{query}");
    }
}

/// `union V1, V2` of `let`-bound queries on one table: the rows of either, each read
/// with the stages after the union in its own columns.
#[test]
fn a_union_of_queries_on_one_table_is_the_or_of_their_detections() {
    let q = read_query(
        "let A = DeviceProcessEvents | where FileName == 'a.exe' | extend W = FileName;
let B = DeviceProcessEvents | extend W = tolower(FolderPath) | where FolderPath has 'x';
union kind=outer A, B | where W == 'y' | summarize count() by DeviceId",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(q.table.as_deref(), Some("DeviceProcessEvents"));
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName == "a.exe" and FileName == "y" or FolderPath has "x" and FolderPath =~ "y""#
    );
    // A column only one query makes is null in the other's rows: fpx does not read that.
    let q = read_query(
        "let A = DeviceProcessEvents | where FileName == 'a.exe';
let B = DeviceProcessEvents | project-rename Cmd = ProcessCommandLine | where FolderPath has 'x';
union A, B | where Cmd has 'y'",
    );
    assert!(!q.exact());
    // Queries on different tables are a union of tables (checked on one, noted).
    let q = read_query(
        "let A = DeviceProcessEvents | where FileName == 'a.exe';
let B = DeviceFileEvents | where FolderPath has 'x';
union A, B",
    );
    assert!(!q.exact());
}

#[test]
fn sources_and_conditions_real_queries_use() {
    // A bool column alone is the condition; a zero-width space is white space.
    let (d, exact) = detection("\u{200B}DeviceFileCertificateInfo\u{A0}| where IsSigned or Signer has \"x\"");
    assert!(exact);
    assert_eq!(d, r#"IsSigned == true or Signer has "x""#);
    // Sources that are not one table leave the rule without D, with the reason.
    for query in ["print a = 1", "MyFunction('foo') | where x == 1"] {
        let q = read_query(query);
        assert!(q.detection.is_none(), "{query}");
        assert!(
            q.notes.iter().any(|n| n.fatal && n.message.contains("not one table")),
            "{query}: {:?}",
            q.notes
        );
    }
    // A union of queries is checked on the first (noted); a query in parentheses is read.
    let q = read_query(
        "union (DeviceFileEvents | where FileName == \"a\"), (DeviceProcessEvents | where FileName == \"b\") | where FolderPath has \"x\"",
    );
    assert_eq!(q.table.as_deref(), Some("DeviceFileEvents"));
    assert!(!q.exact());
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"FileName == "a" and FolderPath has "x""#
    );
    let (d, exact) = detection("(DeviceFileEvents | where FileName == \"a\") | where FolderPath has \"x\"");
    assert!(exact);
    assert_eq!(d, r#"FileName == "a" and FolderPath has "x""#);
    // A `let` function body holds statements of its own.
    let (d, _) = detection(
        "let f = view() { DeviceProcessEvents | where FileName == \"a\"; }; DeviceProcessEvents | where FileName == \"b\"",
    );
    assert_eq!(d, r#"FileName == "b""#);
}

#[test]
fn the_checker_reads_what_real_queries_write() {
    let errors = |q: &str| validate(q).into_iter().map(|e| e.message).collect::<Vec<_>>();
    assert!(errors("DeviceProcessEvents | mvexpand x = split(ProcessCommandLine, \" \")").is_empty());
    assert!(errors("DeviceProcessEvents\u{202F}| take 1").is_empty());
    assert!(
        errors("DeviceProcessEvents | summarize R = arg_max(Timestamp, ReportId) by DeviceId | project R, ReportId1")
            .is_empty()
    );
    // Two queries pasted as one; an unknown column inside a join; a `let` of an unknown table.
    assert_eq!(
        errors("DeviceProcessEvents | where FileName == \"a\"\n\nDeviceFileEvents | take 1"),
        ["`DeviceFileEvents` starts another query: KQL expects `;` before it"]
    );
    assert!(errors("DeviceProcessEvents | join (DeviceFileEvents | where Nope == 1) on DeviceId")[0].contains("Nope"));
    assert!(errors("let a = DeviceAlertEvents | take 1; a")[0].contains("DeviceAlertEvents"));
    // `count` of a value `mv-expand` made (dynamic), unless expanded to a bool or redefined.
    let count = "DeviceProcessEvents | summarize L = make_set(FileName) by DeviceId | mv-expand C = L";
    assert!(errors(&format!("{count} | summarize count(C)"))[0].contains("dynamic value made by `mv-expand`"));
    assert!(
        errors(&format!(
            "{count} | where isnotempty(C) | summarize n = count(C) by DeviceId"
        ))[0]
            .contains("`C`")
    );
    for fine in [
        "DeviceProcessEvents | summarize L = make_set(IsInitiatingProcessRemoteSession) by DeviceId | mv-expand C = L to typeof(bool) | summarize count(C)",
        &format!("{count} | extend C = isnotempty(C) | summarize count(C)"),
        &format!("{count} | summarize count()"),
    ] {
        assert!(errors(fine).is_empty(), "{fine}: {:?}", errors(fine));
    }
    // `| join` then the table on the next line is the join's, not a second query.
    assert!(errors("DeviceProcessEvents | join\nDeviceFileEvents on DeviceId").is_empty());
}

#[test]
fn one_reader_for_queries_and_exclusions() {
    // The author's grouping is kept, as in exclusions.
    let (d, _) =
        detection("DeviceProcessEvents | where FileName == 'a' and (FolderPath has 'b' and FolderPath has 'c')");
    assert_eq!(d, r#"FileName == "a" and (FolderPath has "b" and FolderPath has "c")"#);
    // Every literal form an exclusion reads, a where clause reads the same way.
    for (query, exclusion) in [
        (r#"FileName == @"a""b""#, r#"FileName == "a\"b""#),
        (r#"FileName == h"secret""#, r#"FileName == "secret""#),
        (r#"FileName == "a" 'b'"#, r#"FileName == "ab""#),
        (r#"FileName == "\x41""#, r#"FileName == "A""#),
    ] {
        let (d, exact) = detection(&format!("DeviceProcessEvents | where {query}"));
        assert!(exact, "{query}");
        let crate::expr::ParseOutcome::Parsed(e) = crate::expr::parse_exclusion(exclusion) else {
            panic!("{exclusion}")
        };
        assert_eq!(d, print(&e.pred), "{query}");
    }
    // A `let` value is read as an exclusion's value is.
    let (d, _) =
        detection("let Port = 0x1BB; let Since = datetime(2024-01-01); DeviceNetworkEvents | where RemotePort == Port");
    assert_eq!(d, "RemotePort == 443");
}

#[test]
fn count_takes_a_condition() {
    let errors = |q: &str| validate(q).into_iter().map(|e| e.message).collect::<Vec<_>>();
    assert_eq!(
        errors("DeviceEvents | summarize count(RemoteUrl) by DeviceId"),
        ["`count` takes a condition, and `RemoteUrl` is not a bool"]
    );
    assert!(errors("DeviceFileCertificateInfo | summarize count(IsSigned), count() by DeviceId").is_empty());
}

#[test]
fn memberships_in_another_tables_query_are_about_its_rows() {
    let q = read_query(
        "let mails = EmailAttachmentInfo | where FileType startswith \"Jar\" | distinct NetworkMessageId;\nEmailEvents | where NetworkMessageId in (mails) and AttachmentCount > 0",
    );
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(print(&q.detection.unwrap()), "true and AttachmentCount > 0");
    assert!(q.notes[0].correlates && q.notes[0].message.contains("a query on EmailAttachmentInfo"));
    let (d, exact) = detection(
        "let devices = DeviceInfo | where MachineGroup == 'g' | summarize makelist(DeviceName);\nDeviceLogonEvents | where DeviceName !in (devices) | where AccountName == 'a'",
    );
    assert!(exact);
    assert_eq!(d, r#"true and AccountName == "a""#);
    // Not when the query constrains the value it returns, reads the rule's own table,
    // cannot return a row, returns a computed value, its table is already compared with
    // (the two memberships are not independent), or the types differ.
    for query in [
        "let v = DeviceInfo | where DeviceName startswith 'a' | distinct DeviceName;\nDeviceLogonEvents | where DeviceName in (v)",
        "let v = DeviceLogonEvents | where AccountName == 'x' | distinct DeviceName;\nDeviceLogonEvents | where DeviceName in (v)",
        "let v = DeviceInfo | where MachineGroup == 'g' and MachineGroup == 'h' | distinct DeviceName;\nDeviceLogonEvents | where DeviceName in (v)",
        "let v = DeviceInfo | extend N = tolower(DeviceName) | distinct N;\nDeviceLogonEvents | where DeviceName in (v)",
        "let v = DeviceInfo | distinct DeviceName;\nlet w = DeviceInfo | distinct DeviceName;\nDeviceLogonEvents | where DeviceName in (v) and DeviceName !in (w)",
        "let v = DeviceNetworkEvents | distinct RemotePort;\nDeviceLogonEvents | where DeviceName in (v)",
    ] {
        let q = read_query(query);
        assert!(!q.exact(), "{query}: {:?}", q.notes);
    }
}

#[test]
fn the_rest_of_a_parsed_text_contains_a_value_exactly() {
    // `SearchFilter` is the text after the first ", Search Filter: " that follows the
    // first "Search Scope: " and the first ", Base Object:" after it.
    let (d, exact) = detection(
        "IdentityQueryEvents | parse Query with * \"Search Scope: \" SearchScope \", Base Object:\" BaseObject \", Search Filter: \" SearchFilter | where SearchFilter contains \"admincount=1\" and SearchFilter !contains_cs 'x.y'",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"Query matches regex "(?s).*Search Scope: .*, Base Object:.*, Search Filter: .*[aA][dD][mM][iI][nN][cC][oO][uU][nN][tT]=1" and not (Query matches regex @"(?s).*Search Scope: .*, Base Object:.*, Search Filter: .*x\.y")"#
    );
    // A comment after the pattern is not part of it.
    let (d, exact) = detection(
        "IdentityQueryEvents | parse Query with * \"F: \" SearchFilter // the rest\n| where SearchFilter contains_cs \"k\"",
    );
    assert!(exact, "{d}");
    let (d, exact) = detection(
        "let K = \"kerb\";\nIdentityQueryEvents | parse Query with * \"F: \" SearchFilter | where SearchFilter contains_cs K",
    );
    assert!(exact);
    assert_eq!(d, r#"Query matches regex "(?s).*F: .*kerb""#);
    // Against `parse` as KQL runs it (the first "a", then the first "b" after it, the
    // rest after that), on every text of up to 7 characters over a small alphabet.
    let q = read_query("IdentityQueryEvents | parse Query with * \"a\" X \"b\" Rest | where Rest contains \"aB\"");
    assert!(q.exact());
    let d = q.detection.unwrap();
    for text in &short_texts(&['a', 'b', 'A', 'B', 'x'], 7) {
        let rest = text
            .find('a')
            .and_then(|i| text[i + 1..].find('b').map(|j| &text[i + 1 + j + 1..]))
            .unwrap_or("");
        let kql = rest.to_ascii_lowercase().contains("ab");
        let event = fpx_event(&[("Query", text)]);
        assert_eq!(d.eval(&event), kql, "{text:?}");
    }
    // Not the rest of the text, another operator, a typed column, a column redefined,
    // or a regex parse: approximated.
    for query in [
        "IdentityQueryEvents | parse Query with * \"a\" X \"b\" * | where X contains \"v\"",
        "IdentityQueryEvents | parse Query with * \"a\" X | where X startswith \"v\"",
        "IdentityQueryEvents | parse Query with * \"a\" X:int \"b\" Y | where Y contains \"v\"",
        "IdentityQueryEvents | parse Query with * \"a\" X | extend X = 'k' | where X contains \"v\"",
        "IdentityQueryEvents | parse kind=regex Query with * \"a\" X | where X contains \"v\"",
        "IdentityQueryEvents | parse Query with \"a\" X | where X contains \"v\"",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
}

fn fpx_event(fields: &[(&str, &str)]) -> crate::pred::Event {
    fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn an_extracted_value_is_empty_exactly_when_its_regex_does_not_match() {
    let (d, exact) = detection(
        "DeviceProcessEvents | extend Target = extract(\"(?i)(user|group) (\\\"*[a-zA-Z0-9_ ]+\\\"*)\", 2, ProcessCommandLine) | where Target != '' and isnotempty(Target)",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"ProcessCommandLine matches regex "(?i)(user|group) (\"*[a-zA-Z0-9_ ]+\"*)" and ProcessCommandLine matches regex "(?i)(user|group) (\"*[a-zA-Z0-9_ ]+\"*)""#
    );
    let (d, exact) =
        detection("DeviceProcessEvents | extend P = extract('-p ([0-9]+)', 1, ProcessCommandLine) | where isempty(P)");
    assert!(exact);
    assert_eq!(d, r#"not (ProcessCommandLine matches regex "-p ([0-9]+)")"#);
    // A group that may be empty or absent, a typed result, a value compared: approximated.
    for query in [
        "DeviceProcessEvents | extend P = extract('-p ([0-9]*)', 1, ProcessCommandLine) | where isnotempty(P)",
        "DeviceProcessEvents | extend P = extract('a|(b)', 1, ProcessCommandLine) | where isnotempty(P)",
        "DeviceProcessEvents | extend P = extract('-p ([0-9]+)', 1, ProcessCommandLine, typeof(long)) | where isnotempty(P)",
        "DeviceProcessEvents | extend P = extract('-p ([0-9]+)', 1, ProcessCommandLine) | where P == '4'",
        "DeviceProcessEvents | extend P = extract('-p ([0-9]+)', 1, ProcessId) | where isnotempty(P)",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
    // Against extract as it runs (leftmost-first match, the group's text).
    let re = regex::Regex::new("-p ([0-9]+)").unwrap();
    let q =
        read_query("DeviceProcessEvents | extend P = extract('-p ([0-9]+)', 1, ProcessCommandLine) | where P != ''");
    let d = q.detection.unwrap();
    for text in ["", "-p", "-p 1", "x -p  2", "-p x -p 3", "-P 4"] {
        let value = re.captures(text).map_or("", |c| c.get(1).map_or("", |g| g.as_str()));
        assert_eq!(
            d.eval(&fpx_event(&[("ProcessCommandLine", text)])),
            !value.is_empty(),
            "{text:?}"
        );
    }
}

/// A `let` function whose body is a query: a call reads that query; a condition on a
/// parameter (whose value fpx does not know) is approximated, a time window dropped.
#[test]
fn a_call_of_a_let_function_reads_its_query() {
    let (d, exact) = detection(
        "let f = (start:datetime, end:datetime) {\nCloudAppEvents\n| where Timestamp between (start .. end)\n| where ActionType == \"MailItemsAccessed\" // a comment\n| summarize by AccountId\n};\nf(ago(1d), now())\n| join kind=leftanti f(ago(7d), ago(2d)) on AccountId",
    );
    assert!(exact);
    assert_eq!(d, r#"true and ActionType == "MailItemsAccessed""#);
    let (d, exact) = detection(
        "let g = (name:string) { DeviceProcessEvents | where FileName == name and ProcessCommandLine has 'x' };\ng('a.exe')",
    );
    assert!(!exact);
    assert_eq!(d, r#"true and ProcessCommandLine has "x""#);
    // A function whose body is not a query is not a source; one that calls itself
    // is not read forever.
    let q = read_query("let h = (x:long) { x + 1 };\nh(1)");
    assert!(q.detection.is_none());
    let q = read_query("let r = () { r() | where FileName == 'a' };\nr()");
    assert!(q.detection.is_none());
}

/// The first or last part of a split column compared with values, as conditions on the
/// column, checked against `split` as KQL runs it on every short text.
#[test]
fn a_split_part_compared_with_values_is_exact() {
    let (d, exact) = detection(
        "DeviceProcessEvents | extend Name = tostring(split(FolderPath, '\\\\')[-1]) | where Name in~ ('a.exe', 'b.exe')",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"(FolderPath =~ "a.exe" or FolderPath endswith @"\a.exe") or (FolderPath =~ "b.exe" or FolderPath endswith @"\b.exe")"#
    );
    // Against split: every text up to 6 characters over a small alphabet.
    let texts = short_texts(&['a', 'A', ':', 'x'], 6);
    for (definition, condition, reference) in [
        (
            "split(FolderPath, ':')[0]",
            "P != 'a'",
            &(|t: &str| t.split(':').next().unwrap() != "a") as &dyn Fn(&str) -> bool,
        ),
        ("split(FolderPath, ':')[-1]", "P == 'aA'", &|t: &str| {
            t.split(':').next_back().unwrap() == "aA"
        }),
        (
            "tolower(tostring(split(FolderPath, ':')[0]))",
            "P in ('aa', 'Ax')",
            &|t: &str| t.split(':').next().unwrap().eq_ignore_ascii_case("aa"),
        ),
        ("split(FolderPath, 'a:')[0]", "P == 'x'", &|t: &str| {
            t.split("a:").next().unwrap() == "x"
        }),
        ("split(FolderPath, ':')[0]", "P =~ 'x'", &|t: &str| {
            t.split(':').next().unwrap().eq_ignore_ascii_case("x")
        }),
        ("split(FolderPath, ':')[-1]", "P == ''", &|t: &str| {
            t.split(':').next_back().unwrap().is_empty()
        }),
    ] {
        let q = read_query(&format!(
            "DeviceFileEvents | extend P = {definition} | where {condition}"
        ));
        assert!(q.exact(), "{definition} {condition}: {:?}", q.notes);
        let d = q.detection.unwrap();
        for text in &texts {
            assert_eq!(
                d.eval(&fpx_event(&[("FolderPath", text)])),
                reference(text),
                "{definition} {condition} on {text:?}"
            );
        }
    }
    // A `let` list is expanded into its values (`P in (ExtensionList)`).
    let (d, exact) = detection(
        "let L = pack_array('asp', 'php');\nDeviceFileEvents | extend P = tolower(tostring(split(FileName, '.')[-1])) | where P in (L)",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"(FileName =~ "asp" or FileName endswith ".asp") or (FileName =~ "php" or FileName endswith ".php")"#
    );
    // A value the separator could end early in, another part, another operator: approximated.
    for query in [
        "let L = pack_array('asp');\nDeviceFileEvents | extend P = split(FileName, '.')[-1] | where P == L",
        "DeviceFileEvents | extend P = split(FolderPath, 'aa')[0] | where P == 'xa'",
        "DeviceFileEvents | extend P = split(FolderPath, ':')[1] | where P == 'x'",
        "DeviceFileEvents | extend P = split(FolderPath, ':')[0] | where P has 'x'",
        "DeviceFileEvents | extend P = split(FolderPath, 'a:')[0] | where P =~ 'x'",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
}

/// `extract(".*(G)$", 1, C)` compared with values: conditions on C's ending, checked
/// against the regex's first match (leftmost-first, as RE2 and Rust's regex take it) on
/// every short text.
#[test]
fn the_last_part_a_regex_extracts_compared_with_values_is_exact() {
    let (d, exact) = detection(
        "DeviceFileEvents | extend extension = extract(@\".*(\\..*)$\", 1, FileName) | where extension !in (\".ps1\", \".bat\")",
    );
    assert!(exact, "{d}");
    assert_eq!(d, r#"not (FileName endswith_cs ".ps1" or FileName endswith_cs ".bat")"#);
    let texts = short_texts(&['a', 'A', '.', '\n', 'b'], 6);
    for (pattern, condition) in [
        (r#"".*(\..*)$""#, "X in ('.a', '.b.a', 'a', '')"),
        (r#"".*(\..*)$""#, "X =~ '.A'"),
        (r#"".*(\.[a-z]*)$""#, "X == '.ab'"),
        (r#"".*(\.[ab]+)$""#, "X != '.ab'"),
        (r#"".*(b+)$""#, "X in ('b', 'bb', '')"),
        (r#"".*(a|\.a)$""#, "X in ('.a', 'a')"),
        (r#"".*(\..*)$""#, "X == '.b.a'"),
        (r#"".*(b+)$""#, "X == 'bb'"),
        (r#"".*(a|\.a)$""#, "X == '.a'"),
    ] {
        let q = read_query(&format!(
            "DeviceFileEvents | extend X = extract(@{pattern}, 1, FileName) | where {condition}"
        ));
        assert!(q.exact(), "{pattern} {condition}: {:?}", q.notes);
        let d = q.detection.unwrap();
        let re = regex::Regex::new(&pattern[1..pattern.len() - 1]).unwrap();
        let values: Vec<String> = condition.split('\'').skip(1).step_by(2).map(str::to_string).collect();
        for text in &texts {
            let value = re.captures(text).and_then(|c| c.get(1)).map_or("", |m| m.as_str());
            let hit = if condition.contains("=~") {
                values.iter().any(|v| v.eq_ignore_ascii_case(value))
            } else {
                values.iter().any(|v| v == value)
            };
            let holds = if condition.contains("!=") { !hit } else { hit };
            assert_eq!(
                d.eval(&fpx_event(&[("FileName", text)])),
                holds,
                "{pattern} {condition} on {text:?}"
            );
        }
    }
    // A case-insensitive test of a case-sensitive language, a regex that looks at its
    // context, a line end in the language, a lazy `.*`: approximated.
    for query in [
        "DeviceFileEvents | extend X = extract(@'.*(\\.[a-z]*)$', 1, FileName) | where X =~ '.ab'",
        "DeviceFileEvents | extend X = extract(@'.*(\\b\\.a)$', 1, FileName) | where X == '.a'",
        "DeviceFileEvents | extend X = extract(@'.*(\\.[^x]*)$', 1, FileName) | where X == '.a'",
        "DeviceFileEvents | extend X = extract(@'.*?(\\..*)$', 1, FileName) | where X == '.a'",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
}

/// Every text of up to `n` characters over `alphabet`.
fn short_texts(alphabet: &[char], n: usize) -> Vec<String> {
    let mut texts = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..n {
        last = last
            .iter()
            .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
            .collect();
        texts.extend(last.iter().cloned());
    }
    texts
}

/// A count of a text's occurrences compared with a number, as regex tests of the column,
/// checked against counting on every short text.
#[test]
fn a_count_of_occurrences_compared_with_a_number_is_exact() {
    let texts = short_texts(&['.', 'e', 'x'], 7);
    for condition in ["N > 1", "N >= 2", "N < 2", "N <= 1", "N == 1", "N != 0", "N == 0"] {
        let q = read_query(&format!(
            "DeviceFileEvents | extend N = countof(InitiatingProcessCommandLine, '.e') | where {condition}"
        ));
        assert!(q.exact(), "{condition}: {:?}", q.notes);
        let d = q.detection.unwrap();
        let (op, k) = condition[2..].split_once(' ').unwrap();
        let k: usize = k.parse().unwrap();
        for text in &texts {
            let n = text.matches(".e").count();
            let expected = match op {
                ">" => n > k,
                ">=" => n >= k,
                "<" => n < k,
                "<=" => n <= k,
                "==" => n == k,
                _ => n != k,
            };
            assert_eq!(
                d.eval(&fpx_event(&[("InitiatingProcessCommandLine", text)])),
                expected,
                "{condition} on {text:?}"
            );
        }
    }
    // A definition followed by a comment line (strings with `//` stay whole).
    let (d, exact) = detection(
        "DeviceFileEvents\n| extend N = countof(InitiatingProcessCommandLine, '.exe'), P = tolower(FileName)\n// two or more\n| where N > 1 and P == 'a.exe' and FileOriginUrl != @\"http://x\" // c\n",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"InitiatingProcessCommandLine matches regex @"(?s)(?:.*\.exe){2}" and FileName =~ "a.exe" and FileOriginUrl != "http://x""#
    );
    // A text that can overlap itself (`aa` occurs 3 times in `aaaa`), a regex count:
    // approximated.
    for query in [
        "DeviceFileEvents | extend N = countof(FolderPath, 'aa') | where N > 1",
        "DeviceFileEvents | extend N = countof(FolderPath, 'a.c', 'regex') | where N > 1",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
}

/// `extractjson("$.a", C)` is the property `C.a`, as `parse_json(C).a` is.
#[test]
fn extractjson_of_a_simple_path_is_a_property() {
    let (d, exact) = detection(
        "let name = \"Invoke-RickAscii\";\nDeviceEvents | where ActionType == \"PowerShellCommand\" | project Cmd = extractjson(\"$.Command\", AdditionalFields, typeof(string)), Ip = extractjson('$.Items[0].Ip', AdditionalFields) // note\n| where Cmd =~ name and Ip != '1'",
    );
    assert!(exact, "{d}");
    assert_eq!(
        d,
        r#"ActionType == "PowerShellCommand" and (AdditionalFields.Command =~ "Invoke-RickAscii" and AdditionalFields.Items[0].Ip != "1")"#
    );
    // A filter in the path, another type: approximated.
    for query in [
        "DeviceEvents | extend X = extractjson('$..Command', AdditionalFields) | where X == 'a'",
        "DeviceEvents | extend X = extractjson('$.Count', AdditionalFields, typeof(long)) | where X == 1",
    ] {
        let (d, exact) = detection(query);
        assert!(!exact, "{query}: {d}");
    }
}

/// A name that is both a `let` and a column of the row is the column, as KQL reads it
/// (Kusto.Language types `let DeviceId = 5; T | where DeviceId contains "x"` as the
/// string column).
#[test]
fn a_column_comes_before_a_let_of_the_same_name() {
    let (d, exact) =
        detection("let DeviceId = \"474908f4\";\nDeviceEvents | where DeviceId == DeviceId and ActionType == \"a\"");
    assert!(exact, "{d}");
    assert_eq!(d, r#"true and ActionType == "a""#);
    let (d, exact) = detection("let FileName = \"a\";\nDeviceEvents | where ProcessCommandLine has FileName");
    assert!(!exact, "{d}");
    let (d, exact) = detection("let FileName = \"\";\nDeviceEvents | where isempty(FileName)");
    assert!(exact);
    assert_eq!(d, r#"FileName == """#);
    let (d, exact) = detection("let Name = \"a\";\nDeviceEvents | where FileName == Name");
    assert!(exact);
    assert_eq!(d, r#"FileName == "a""#);
}

#[test]
fn a_syntax_error_before_a_multi_byte_last_character_is_read_not_panicked() {
    for last in ['\u{200b}', '\u{feff}', 'é'] {
        let query = format!("DeviceProcessEvents | where FileName ==  {last}");
        let q = read_query(&query);
        assert!(q.detection.is_none(), "{query}");
        let query = format!("DeviceProcessEvents | where f({last}");
        read_query(&query);
    }
}

#[test]
fn unmatched_brackets_and_unclosed_strings_stop_before_the_grammar_backtracks() {
    // Each unclosed `(` used to double the grammar's time (24: 41 s); the fuzzer found
    // the same behind a stray `]` and behind a string that never ends.
    for query in [
        format!("DeviceProcessEvents | where f({}", "(".repeat(24)),
        format!("DeviceProcessEvents | where f({} ]", "(".repeat(24)),
        format!("DeviceProcessEvents | where f({} \"x\n| take 1", "(".repeat(24)),
    ] {
        let q = read_query(&query);
        assert!(q.detection.is_none() && !q.errors.is_empty(), "{query}");
    }
}

#[test]
fn brackets_in_a_comment_are_nothing_to_the_grammar() {
    // Found by the fuzzer: 20 `[` in a `//` comment took the grammar over 20 s.
    let query = format!(
        "DeviceProcessEvents\n| where FileName =~ \"a.exe\" // note {}\n| where AccountName != \"x\"",
        "[".repeat(5_000)
    );
    let q = read_query(&query);
    assert!(q.exact(), "{:?}", q.notes);
    assert!(q.errors.is_empty(), "{:?}", q.errors);
    assert_eq!(q.inline.len(), 1);
}

/// Issue 26: queries Kusto rejects for their syntax or characters fail the gate
/// (FPX403), each with where it is wrong.
#[test]
fn syntax_errors_and_stray_characters_are_errors() {
    for (q, at) in [
        ("DeviceProcessEvents | where FileName ~ \"powershell.exe\"", "~"),
        ("DeviceProcessEvents | project , FileName", ","),
        (
            "DeviceProcessEvents | where FileName =~ \n and FolderPath has \"x\"",
            "and",
        ),
        ("DeviceProcessEvents where FileName == \"x\"", "where"),
        ("DeviceProcéssEvents | take 1", "é"),
        ("DeviceProcessEvents ｜ take 1", "｜"),
        ("DeviceProcessEvents | where ProcessId > −1", "−"),
        ("DeviceProcessEvents | where FileName 🙂 \"x\"", "🙂"),
        ("DeviceProcessEvents | where FileName == \"x\" \u{7}", "\u{7}"),
    ] {
        let errors = validate(q);
        assert!(!errors.is_empty(), "{q}");
        assert!(errors.iter().any(|e| &q[e.span.clone()] == at), "{q}: {errors:?}");
    }
}

/// Issue 26: `mv-expand X = ...` remakes `X`; what `extend X = extract(".*(exe)$", ...)`
/// said about it no longer holds, so the condition on `X` is not read as one on
/// `FileName` (the rule was reported exact, and an exclusion got a false FPX105).
/// Kusto.Language accepts the query (`tests/kusto_agreement.rs`,
/// `the_queries_of_unit_tests_compile_in_kusto`).
#[test]
fn mv_expand_forgets_what_an_earlier_extend_derived() {
    let q = read_query(MV_EXPAND_REMAKES_A_COLUMN);
    assert!(validate(MV_EXPAND_REMAKES_A_COLUMN).is_empty());
    assert!(q.detection.is_some() && !q.exact(), "{:?} {:?}", q.detection, q.notes);
    let d = q.detection.unwrap().to_string();
    assert!(!d.contains("FileName"), "{d}");
}

pub const MV_EXPAND_REMAKES_A_COLUMN: &str = "DeviceProcessEvents\n| extend X = extract(@\".*(exe)$\", 1, FileName)\n| mv-expand X = split(ProcessCommandLine, \" \")\n| where X == \"exe\"";

/// One binder (issue 26): FPX403's checks and the lowering read the same scope, in which
/// a column keeps its type and its meaning through `project`, `project-rename`,
/// `summarize ... by` and `distinct`. So Kusto's type errors are found after those stages
/// (each of these is one Kusto.Language reports), and a condition on a column renamed
/// after a case change is one on the table's column.
#[test]
fn names_keep_their_meaning_through_the_stages_that_pass_them_on() {
    let errors = |q: &str| validate(q).into_iter().map(|e| e.message).collect::<Vec<_>>();
    for (q, expected) in [
        (
            "DeviceNetworkEvents | project RemoteUrl, Timestamp | summarize count(RemoteUrl)",
            "`RemoteUrl` is not a bool",
        ),
        (
            "DeviceNetworkEvents | project RemoteUrl, Timestamp | where Timestamp > 7d",
            "`Timestamp` is a datetime",
        ),
        (
            "DeviceProcessEvents | summarize L = make_set(FileName) by DeviceId | mv-expand C = L | project C | summarize count(C)",
            "dynamic value made by `mv-expand`",
        ),
        (
            "DeviceProcessEvents | summarize hint.strategy=shuffle count() by Fil",
            "`Fil` is not a column",
        ),
    ] {
        let found = errors(q);
        assert!(found.iter().any(|e| e.contains(expected)), "{q}: {found:?}");
    }
    for fine in [
        "DeviceNetworkEvents | project RemoteUrl | summarize dcount(RemoteUrl)",
        "DeviceNetworkEvents | project RemoteUrl, Timestamp | where Timestamp > ago(7d)",
        "DeviceNetworkEvents | distinct RemoteUrl, Timestamp | where Timestamp > ago(7d)",
    ] {
        assert!(errors(fine).is_empty(), "{fine}: {:?}", errors(fine));
    }
    let q = "DeviceProcessEvents | extend F = tolower(FileName) | project-rename G = F | project G, ProcessCommandLine | where G == \"psexec.exe\"";
    assert!(errors(q).is_empty(), "{:?}", errors(q));
    let read = read_query(q);
    assert!(read.exact(), "{:?}", read.notes);
    let d = read.detection.expect("D").to_string();
    assert!(d.contains("FileName =~ \"psexec.exe\""), "{d}");
}

/// The binder's `let`s (issue 26): a name bound to another `let`-bound query reads that
/// query; a function's parameters and its own `let`s are bound in its body only.
#[test]
fn lets_are_bound_once_and_function_names_stay_in_their_body() {
    let q = "let v = DeviceProcessEvents | where FileName =~ \"a.exe\";\nlet w = v;\nw | where ProcessCommandLine has \"x\"";
    let read = read_query(q);
    assert!(validate(q).is_empty(), "{:?}", validate(q));
    assert!(read.exact(), "{:?}", read.notes);
    let d = read.detection.expect("D").to_string();
    assert!(
        d.contains("FileName =~ \"a.exe\"") && d.contains("ProcessCommandLine has \"x\""),
        "{d}"
    );
    // Inside the function, `Marker` is its parameter (a value fpx does not know); outside
    // it, a `let` of the same name is the constant it is bound to.
    let q = "let Marker = \"evil\";\nlet f = (Marker: string) { DeviceProcessEvents | where ProcessCommandLine has Marker };\nDeviceProcessEvents | where ProcessCommandLine has Marker";
    let d = read_query(q).detection.expect("D").to_string();
    assert!(d.contains("ProcessCommandLine has \"evil\""), "{d}");
    let q = "let f = (Marker: string) { DeviceProcessEvents | where ProcessCommandLine has Marker };\nf(\"x\") | where FileName =~ \"a.exe\"";
    let read = read_query(q);
    assert!(
        !read.exact(),
        "the parameter's value is not known: {:?}",
        read.detection
    );
}

/// What the one binder lets the checker follow (issue 26): the columns of a `let`-bound
/// query read as a source, the tables a `union` or `find` names and a union's columns,
/// the column `parse` reads and the columns it makes, a function's body. Each rejected
/// query is one Kusto.Language rejects (the same message), each accepted one it accepts.
#[test]
fn the_checker_follows_lets_unions_parse_and_function_bodies() {
    let errors = |q: &str| validate(q).into_iter().map(|e| e.message).collect::<Vec<_>>();
    for (q, name) in [
        (
            "let procs = DeviceProcessEvents | project FileName, FolderPath;\nprocs | where ProcessCommandLine has \"x\"",
            "ProcessCommandLine",
        ),
        (
            "union DeviceProcessEvent, DeviceFileEvents | take 1",
            "DeviceProcessEvent",
        ),
        (
            "union DeviceProcessEvents, DeviceFileEvents | where Filename == \"a\"",
            "Filename",
        ),
        (
            "DeviceProcessEvents | parse ProcessCommandLine with * \"-f \" Target | where Targt == \"x\"",
            "Targt",
        ),
        (
            "DeviceProcessEvents | parse CommandLine with * \"-f \" Target",
            "CommandLine",
        ),
        (
            "let f = (n: string) { DeviceProcessEvents | where Filename == n };\nf(\"a\")",
            "Filename",
        ),
        (
            "find in (DeviceProcessEvent, DeviceFileEvents) where FileName == \"a\"",
            "DeviceProcessEvent",
        ),
    ] {
        let found = errors(q);
        assert!(
            found.iter().any(|e| e.starts_with(&format!("`{name}` is not"))),
            "{q}: {found:?}"
        );
    }
    // An error inside a `let`-bound query is reported once, where it is bound, not
    // again where the query is read.
    assert_eq!(errors("let a = DeviceAlertEvent | take 1;\na | take 2").len(), 1);
    for fine in [
        "let procs = DeviceProcessEvents | project FileName, FolderPath;\nprocs | where FolderPath has \"x\"",
        "union DeviceProcessEvents, DeviceFileEvents | where FileName == \"a\" and ProcessCommandLine has \"b\"",
        "DeviceProcessEvents | parse ProcessCommandLine with * \"-f \" Target | where Target == \"x\"",
        "let f = (n: string) { DeviceProcessEvents | where FileName == n };\nf(\"a\")",
    ] {
        assert!(errors(fine).is_empty(), "{fine}: {:?}", errors(fine));
    }
}

/// `Timestamp > 7d` (for `ago(7d)`): Kusto refuses a datetime compared with a timespan.
#[test]
fn a_datetime_column_compared_with_a_timespan_is_an_error() {
    let errors = |q: &str| validate(q).into_iter().map(|e| e.message).collect::<Vec<_>>();
    assert_eq!(
        errors("DeviceProcessEvents | where Timestamp > (7d)"),
        ["`Timestamp` is a datetime and this is a timespan: `>` is not defined between them"]
    );
    assert_eq!(errors("DeviceProcessEvents | where 1h <= Timestamp").len(), 1);
    for fine in [
        "DeviceProcessEvents | where Timestamp > ago(7d)",
        "DeviceProcessEvents | where Timestamp - ProcessCreationTime > 1h",
        "DeviceProcessEvents | where ProcessId > 7",
        "DeviceProcessEvents | where Timestamp == 1d",
        "let Timestamp = 1d; print x = Timestamp > 2h",
    ] {
        assert!(errors(fine).is_empty(), "{fine}: {:?}", errors(fine));
    }
}

/// A text of several queries (a hunting file, or two pasted into one rule) has no one
/// detection: which is the rule's is not said, so none is guessed.
#[test]
fn several_queries_have_no_detection() {
    for query in [
        "DeviceProcessEvents | where FileName == 'a'\nDeviceFileEvents | where FileName == 'b'",
        "DeviceProcessEvents | where FileName == 'a'; DeviceFileEvents | where FileName == 'b'",
    ] {
        let q = read_query(query);
        assert!(q.detection.is_none(), "{query}");
        assert!(
            q.notes.iter().any(|n| n.fatal && n.message.contains("has 2 queries")),
            "{:?}",
            q.notes
        );
    }
}

/// Bindings the old text grammar could not read: a `view()`, a multi-line
/// `materialize(...)`, a `let` list of a `dynamic` over several lines.
#[test]
fn views_and_materialized_queries_are_read_through() {
    let (d, exact) =
        detection("let V = view() { DeviceProcessEvents | where FileName == 'a' };\nV | where FolderPath has 'b'");
    assert!(exact);
    assert_eq!(d, r#"FileName == "a" and FolderPath has "b""#);
    let q = read_query(
        "let all = materialize(DeviceNetworkEvents\n| where ActionType == 'x'\n| project DeviceId, LocalIP);\nlet names = dynamic(['a',\n 'b']);\nall | where LocalIP !in ('127.0.0.1') and DeviceId in (names)",
    );
    assert_eq!(q.table.as_deref(), Some("DeviceNetworkEvents"));
    assert!(q.exact(), "{:?}", q.notes);
    assert_eq!(
        print(&q.detection.unwrap()),
        r#"ActionType == "x" and (LocalIP !in ("127.0.0.1") and DeviceId in ("a", "b"))"#
    );
}

/// A syntax error the parser reads as what was meant keeps D (and FPX403); one it had
/// to skip part of the query for leaves none.
#[test]
fn syntax_errors_read_as_meant_keep_the_detection() {
    let q = read_query("DeviceProcessEvents | wher FileName == 'a'");
    assert!(!q.errors.is_empty());
    assert_eq!(print(&q.detection.unwrap()), r#"FileName == "a""#);
    let q = read_query("DeviceProcessEvents | where FolderPath has_all has_any ('a')");
    assert!(!q.errors.is_empty() && !q.exact());
    assert!(q.notes.iter().any(|n| n.message.contains("has two operators")));
    let q = read_query("DeviceProcessEvents | where FileName == 'a' | project , FileName");
    assert!(!q.errors.is_empty());
    assert!(q.detection.is_none());
    assert!(
        q.notes.iter().any(|n| n.fatal && n.message.contains("line 1")),
        "{:?}",
        q.notes
    );
}

/// A long `and`/`or` chain is one flat node, not a tree as deep as it is long: 50,000
/// comparisons are read (they overflowed the stack at 30,000). Other chains that long
/// (`a + b + ...`, `x.a.b...`) are not read, and say so.
#[test]
fn long_chains_are_read_or_refused_without_overflow() {
    let n = 50_000;
    for op in [" or ", " and "] {
        let terms: Vec<String> = (0..n).map(|i| format!("FileName != 'a{i}.exe'")).collect();
        let q = read_query(&format!("DeviceProcessEvents | where {}", terms.join(op)));
        let d = q.detection.expect("read");
        assert_eq!(d.atoms().len(), n, "{op}");
    }
    let sum: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let q = read_query(&format!("DeviceProcessEvents | where FileSize > {}", sum.join(" + ")));
    assert!(q.detection.is_none());
    assert!(
        q.notes
            .iter()
            .any(|n| n.fatal && n.message.contains("chains more than 1000")),
        "{:?}",
        q.notes
    );
}
