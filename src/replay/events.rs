//! Reading events for `fpx replay`, as a stream: NDJSON, JSON arrays and concatenated
//! JSON objects (pretty-printed ones too), the `evtx_dump` shape of Windows events
//! flattened to Sigma field names, and CSV with a header row. A bad event (invalid JSON,
//! a truncated line, bytes that are not UTF-8) is reported with its file and line and
//! the rest of the file is still read where the format allows.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::json::{Json, TapeValue};
use super::view::View;

use crate::pred::Event;

/// An event that could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct BadEvent {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

/// Reads every event of `file`, calling `event` with its 1-based position (the line for
/// NDJSON and CSV, the ordinal for arrays and concatenated objects) and `bad` for each
/// bad one.
pub fn read_file(
    file: &Path,
    mut event: impl FnMut(usize, Event),
    mut bad: impl FnMut(BadEvent),
) -> Result<(), String> {
    let mut scratch = Vec::new();
    read_items(file, |item| match item {
        Item::Event(index, e) => event(index, e.to_event()),
        Item::Line(line) => match line.parse(&mut scratch) {
            Ok(events) => events.iter().for_each(|e| event(line.number, e.to_event())),
            Err(b) => bad(b),
        },
        Item::Bad(b) => bad(b),
    })
}

/// A reader that counts the bytes it reads.
struct Counting<'a, R> {
    inner: R,
    read: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What a file yields as it is read: events, lines of NDJSON whose parsing is left to
/// the caller (so that many can be parsed in parallel), and bad events.
pub enum Item {
    Event(usize, View<'static>),
    Line(Line),
    Bad(BadEvent),
}

/// One line of an NDJSON file, not parsed yet.
pub struct Line {
    file: std::sync::Arc<Path>,
    pub number: usize,
    text: String,
}

impl Line {
    /// The line's events (a JSON object, or an array of them), borrowing its text or
    /// `scratch`, where simd-json unescapes it (a line it does not read as `serde_json`
    /// does is read by `serde_json`).
    pub fn parse<'a>(&'a self, scratch: &'a mut Vec<u8>) -> Result<Vec<View<'a>>, BadEvent> {
        scratch.clear();
        scratch.extend_from_slice(self.text.as_bytes());
        let read = super::json::read_fast(scratch, |value| match evtx_fields(value) {
            Some(fields) => Some(vec![View::from_pairs(fields)]),
            None => value.to_json().map(events_of),
        });
        if let Some(events) = read {
            return Ok(events);
        }
        line_events(&self.text).map_err(|e| BadEvent {
            file: self.file.to_path_buf(),
            line: self.number,
            message: format!("not a JSON event: {e}"),
        })
    }
}

/// The events of a JSON text (an object, an array of them, or several objects one
/// after the other), flattened as the replay reads them.
pub fn parse_json(text: &str) -> Result<Vec<Event>, String> {
    line_events(text)
        .map(|events| events.iter().map(View::to_event).collect())
        .map_err(|e| e.to_string())
}

/// The events of one line: a JSON object or array, or several written one after the
/// other (`{...}{...}`: none is lost).
fn line_events(text: &str) -> Result<Vec<View<'_>>, serde_json::Error> {
    let mut out = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Json>() {
        out.extend(events_of(value?));
    }
    Ok(out)
}

/// Reads `file` as [`read_file`] does, handing NDJSON lines over unparsed.
pub fn read_items(file: &Path, item: impl FnMut(Item)) -> Result<(), String> {
    read_items_counted(file, &AtomicU64::new(0), item)
}

/// [`read_items`], adding the bytes read to `read` as it goes (for a progress bar).
pub fn read_items_counted(file: &Path, read: &AtomicU64, mut item: impl FnMut(Item)) -> Result<(), String> {
    let handle = std::fs::File::open(file).map_err(|e| format!("{}: cannot read the file: {e}", file.display()))?;
    // Room to peek at a whole line after a damaged first one (`next_line_is_an_object`).
    let mut reader = BufReader::with_capacity(1 << 16, Counting { inner: handle, read });
    let bad_at = |line: usize, message: String| BadEvent {
        file: file.to_path_buf(),
        line,
        message,
    };
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        return read_csv(reader, &mut item, &|line, m| bad_at(line, m));
    }
    // Peek at the first meaningful byte: `[` is an array, else lines of JSON, falling
    // back to a stream of (possibly pretty-printed) objects.
    let first = {
        let buffer = reader.fill_buf().map_err(|e| format!("{}: {e}", file.display()))?;
        buffer
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF)
    };
    let mut bytes = Vec::new();
    if first == Some(b'[') {
        reader
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        return read_stream(strip_bom(&bytes), &mut item, &|line, m| bad_at(line, m));
    }
    let shared: std::sync::Arc<Path> = file.into();
    // Until the first event is read, a line that does not end its object means the
    // file is a stream of pretty-printed objects; after it, lines go to the caller.
    let mut started = false;
    let mut line_number = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        if n == 0 {
            return Ok(());
        }
        line_number += 1;
        let text = match std::str::from_utf8(strip_bom(&line)) {
            Ok(text) => text.trim(),
            Err(e) => {
                item(Item::Bad(bad_at(
                    line_number,
                    format!("not UTF-8 text: byte {}", e.valid_up_to() + 1),
                )));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        if started {
            item(Item::Line(Line {
                file: shared.clone(),
                number: line_number,
                text: text.to_string(),
            }));
            continue;
        }
        match line_events(text) {
            Ok(events) => {
                for e in events {
                    started = true;
                    item(Item::Event(line_number, e.into_owned()));
                }
            }
            // A line cut short, followed by a line that is a whole object: NDJSON whose
            // line is damaged (not pretty-printed JSON): that line is bad, the rest read.
            Err(e) if e.is_eof() && next_line_is_an_object(&mut reader) => {
                item(Item::Bad(bad_at(line_number, format!("not a JSON event: {e}"))));
            }
            // An object that continues on the next lines: the file is a stream of
            // pretty-printed objects. Read it whole from here.
            Err(e) if e.is_eof() => {
                bytes.extend_from_slice(&line);
                reader
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                return read_stream(strip_bom(&bytes), &mut item, &|l, m| bad_at(l + line_number - 1, m));
            }
            Err(e) => item(Item::Bad(bad_at(line_number, format!("not a JSON event: {e}")))),
        }
    }
}

/// Whether the next non-empty line (peeked, not consumed) is a whole JSON object on its
/// own, as an NDJSON line is and a pretty-printed object's second line is not.
fn next_line_is_an_object(reader: &mut impl BufRead) -> bool {
    let Ok(buffer) = reader.fill_buf() else {
        return false;
    };
    buffer
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty())
        .is_some_and(|l| l.starts_with(b"{") && serde_json::from_slice::<Json>(l).is_ok())
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Concatenated JSON values (or one array): a parse error ends the file (there is no
/// way to find the next object reliably), reported at its line.
fn read_stream(
    bytes: &[u8],
    item: &mut impl FnMut(Item),
    bad: &impl Fn(usize, String) -> BadEvent,
) -> Result<(), String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            item(Item::Bad(bad(line, format!("not UTF-8 text at byte {}", at + 1))));
            std::str::from_utf8(&bytes[..at]).unwrap_or("")
        }
    };
    let mut index = 0;
    for value in serde_json::Deserializer::from_str(text).into_iter::<Json>() {
        match value {
            Ok(value) => {
                for e in events_of(value) {
                    index += 1;
                    item(Item::Event(index, e.into_owned()));
                }
            }
            Err(e) => {
                item(Item::Bad(bad(
                    e.line(),
                    format!("not a JSON event (the rest of the file is not read): {e}"),
                )));
                break;
            }
        }
    }
    Ok(())
}

fn read_csv(
    reader: impl Read,
    item: &mut impl FnMut(Item),
    bad: &impl Fn(usize, String) -> BadEvent,
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
    let header: Vec<String> = match csv.headers() {
        Ok(h) => h.iter().map(|s| s.trim_start_matches('\u{feff}').to_string()).collect(),
        Err(e) => {
            item(Item::Bad(bad(1, format!("not a CSV header: {e}"))));
            return Ok(());
        }
    };
    for (i, record) in csv.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position())
            .map_or(i + 2, |p| p.line() as usize);
        match record {
            Ok(record) => item(Item::Event(
                i + 1,
                View::from_pairs(
                    header
                        .iter()
                        .zip(record.iter())
                        .filter(|(_, v)| !v.is_empty())
                        .map(|(k, v)| (Cow::Owned(k.clone()), Cow::Owned(v.to_string())))
                        .collect(),
                ),
            )),
            Err(e) => item(Item::Bad(bad(line, format!("not a CSV record: {e}")))),
        }
    }
    Ok(())
}

/// The events a JSON value holds: an array's elements, or the value itself (an
/// Elasticsearch search hit, `{"_index": ..., "_source": {...}}`, is its document).
fn events_of(mut value: Json<'_>) -> Vec<View<'_>> {
    match value {
        Json::Array(items) => items.into_iter().flat_map(events_of).collect(),
        Json::Object(ref entries) if entries.iter().any(|(k, _)| k == "_index") => {
            match value.get_mut("_source").map(Json::take) {
                Some(source @ Json::Object(_)) => {
                    let mut fields = Vec::with_capacity(64);
                    flatten_to(source, &mut fields);
                    // Which index the document is in (rules search some only).
                    if let Some(Json::String(index)) = value.get_mut("_index").map(Json::take) {
                        fields.push((Cow::Borrowed("_index"), index));
                    }
                    vec![View::from_pairs(fields)]
                }
                _ => vec![flatten(value)],
            }
        }
        Json::Object(_) => vec![flatten(value)],
        _ => Vec::new(),
    }
}

/// An event's fields. The `evtx_dump` shape (`Event.System`, `Event.EventData`,
/// `#attributes`) becomes Sigma's names (`EventID`, `Channel`, `Computer`,
/// `Provider_Name`, `Security_UserID`, and the EventData fields by name); any other
/// object is flattened with dotted names (`requestParameters.layers`).
pub fn flatten(value: Json<'_>) -> View<'_> {
    let mut out = Vec::with_capacity(64);
    flatten_to(value, &mut out);
    View::from_pairs(out)
}

/// The fields of [`flatten`], in the order met (a name met twice: the last wins).
fn flatten_to<'a>(mut value: Json<'a>, out: &mut Fields<'a>) {
    // Values are moved out of the parsed JSON, not copied.
    if let Some(system) = value.path_mut(&["Event", "System"]).map(Json::take) {
        if let Json::Object(system) = system {
            for (k, mut v) in system {
                let take = |v: &mut Json<'a>, at: &[&str]| -> Option<Json<'a>> { v.path_mut(at).map(Json::take) };
                match k.as_ref() {
                    "Provider" => put(out, "Provider_Name".into(), take(&mut v, &["#attributes", "Name"])),
                    "Security" => put(out, "Security_UserID".into(), take(&mut v, &["#attributes", "UserID"])),
                    "TimeCreated" => put(out, k, take(&mut v, &["#attributes", "SystemTime"])),
                    _ if v.is_object() => put(out, k, take(&mut v, &["#text"])),
                    _ => put(out, k, Some(v)),
                }
            }
        }
        for section in ["EventData", "UserData"] {
            if let Some(data) = value.path_mut(&["Event", section]).map(Json::take) {
                event_data(data, out);
            }
        }
        return;
    }
    flatten_into(value, Cow::Borrowed(""), out);
}

/// [`flatten_to`]'s reading of an `evtx_dump` event, straight off simd-json's tape,
/// with no tree built (most of the time of reading such an event went to the tree);
/// `None` for any other value, which the caller reads as a tree. The two readings are
/// the same, line for line (`evtx_events_read_off_the_tape_as_from_the_tree`).
fn evtx_fields<'a>(value: TapeValue<'_, 'a>) -> Option<Fields<'a>> {
    // An Elasticsearch hit is its `_source` (`events_of`).
    if !value.is_object() || value.get("_index").is_some() {
        return None;
    }
    let event = value.get("Event")?;
    let system = event.get("System")?;
    let mut out = Vec::with_capacity(64);
    let tree = |v: Option<TapeValue<'_, 'a>>| v.and_then(TapeValue::to_json);
    for (k, v) in system.entries() {
        match k {
            "Provider" => put(&mut out, "Provider_Name".into(), tree(v.path(&["#attributes", "Name"]))),
            "Security" => put(
                &mut out,
                "Security_UserID".into(),
                tree(v.path(&["#attributes", "UserID"])),
            ),
            "TimeCreated" => put(&mut out, k.into(), tree(v.path(&["#attributes", "SystemTime"]))),
            _ if v.is_object() => put(&mut out, k.into(), tree(v.get("#text"))),
            _ => put(&mut out, k.into(), v.to_json()),
        }
    }
    for section in ["EventData", "UserData"] {
        if let Some(data) = event.get(section) {
            evtx_data(data, &mut out);
        }
    }
    Some(out)
}

/// [`event_data`] off the tape.
fn evtx_data<'a>(data: TapeValue<'_, 'a>, out: &mut Fields<'a>) {
    if !data.is_object() {
        return put(out, Cow::Borrowed("EventData"), data.to_json());
    }
    for (k, v) in data.entries() {
        if v.is_array() && k == "Data" {
            for item in v.items() {
                if let Some(name) = item.path(&["#attributes", "Name"]).and_then(|n| n.as_str()) {
                    put(out, name.into(), item.get("#text").and_then(TapeValue::to_json));
                }
            }
        } else if k.starts_with('#') {
        } else if v.is_object() {
            evtx_data(v, out);
        } else {
            put(out, k.into(), v.to_json());
        }
    }
}

/// An event's fields as they are read, before they are sorted.
type Fields<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// EventData as a map of names to values, or as `Data` items with a `Name` attribute.
fn event_data<'a>(data: Json<'a>, out: &mut Fields<'a>) {
    match data {
        Json::Object(map) => {
            for (k, v) in map {
                match v {
                    Json::Array(items) if k == "Data" => {
                        for mut item in items {
                            if let Some(Json::String(name)) = item.path_mut(&["#attributes", "Name"]).map(Json::take) {
                                let text = item.get_mut("#text").map(Json::take);
                                put(out, name, text);
                            }
                        }
                    }
                    _ if k.starts_with('#') => {}
                    Json::Object(_) => event_data(v, out),
                    _ => put(out, k, Some(v)),
                }
            }
        }
        other => put(out, Cow::Borrowed("EventData"), Some(other)),
    }
}

/// Nested values are named as KQL reads them (`RawEventData.Target[2].ID`, and an
/// element from the end `RawEventData.Target[-1].ID`; a key that is not a name is
/// `X['a b']`, and `X.a b` as Sigma names it); an array is also its JSON text.
fn flatten_into<'a>(value: Json<'a>, prefix: Cow<'a, str>, out: &mut Fields<'a>) {
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                if prefix.is_empty() {
                    flatten_into(v, k, out);
                    continue;
                }
                let dotted = format!("{prefix}.{k}");
                let quoted = k.replace('\\', "\\\\").replace('\'', "\\'");
                match crate::pred::canonical_path(&format!("{prefix}['{quoted}']")) {
                    Some(canonical) if canonical != dotted => {
                        flatten_into(v.clone(), Cow::Owned(canonical), out);
                        flatten_into(v, Cow::Owned(dotted), out);
                    }
                    _ => flatten_into(v, Cow::Owned(dotted), out),
                }
            }
        }
        Json::Array(items) if !prefix.is_empty() => {
            let n = items.len();
            let text = Json::Array(items.clone());
            for (i, item) in items.into_iter().enumerate() {
                flatten_into(item.clone(), Cow::Owned(format!("{prefix}[{i}]")), out);
                flatten_into(item, Cow::Owned(format!("{prefix}[-{}]", n - i)), out);
            }
            put(out, prefix, Some(text));
        }
        other => put(out, prefix, Some(other)),
    }
}

/// A scalar as the text fpx compares; `null` leaves the field absent.
fn put<'a>(out: &mut Fields<'a>, key: Cow<'a, str>, value: Option<Json<'a>>) {
    let text = match value {
        None | Some(Json::Null) => return,
        Some(Json::String(s)) => s,
        Some(Json::Bool(b)) => Cow::Borrowed(if b { "true" } else { "false" }),
        // An integer written by `itoa` (what `Number`'s `Display` does, without the
        // formatter and the string's growth).
        Some(Json::Number(n)) => Cow::Owned(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => itoa::Buffer::new().format(i).to_owned(),
            (None, Some(u)) => itoa::Buffer::new().format(u).to_owned(),
            _ => n.to_string(),
        }),
        Some(other) => Cow::Owned(other.into_value().to_string()),
    };
    out.push((key, text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read(name: &str, text: &[u8]) -> (Vec<(usize, Event)>, Vec<BadEvent>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (mut events, mut bad) = (Vec::new(), Vec::new());
        read_file(&path, |i, e| events.push((i, e)), |b| bad.push(b)).unwrap();
        (events, bad)
    }

    #[test]
    fn a_cut_first_line_and_two_objects_on_a_line_lose_nothing_else() {
        // NDJSON whose first line is cut: that line is bad, the others are read (the
        // file was once taken for pretty-printed JSON and dropped whole).
        let (events, bad) = read("e.ndjson", b"{\"a\": \"cut\n{\"a\": 1}\n{\"a\": 2}\n");
        assert_eq!(events.len(), 2);
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].line, 1);
        // Two objects written on one line are two events.
        let (events, bad) = read("e.ndjson", b"{\"a\": 1}{\"a\": 2}\n{\"a\": 3}\n");
        assert_eq!(events.len(), 3, "{bad:?}");
        let (events, bad) = read("e.ndjson", b"{\"a\": 0}\n{\"a\": 1}{\"a\": 2}\n");
        assert_eq!(events.len(), 3, "{bad:?}");
    }

    #[test]
    fn ndjson_arrays_and_pretty_objects() {
        let (events, bad) = read("e.json", b"{\"a\": 1}\n\n{\"a\": {\"b\": true}}\n");
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].1["a.b"], "true");
        assert!(bad.is_empty());
        let (events, _) = read("e.json", b"[{\"a\": \"x\"}, {\"a\": \"y\"}]");
        assert_eq!(events.len(), 2);
        let (events, _) = read("e.json", b"{\n  \"a\": 1\n}\n{\n  \"a\": 2\n}\n");
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn nested_values_are_named_as_kql_reads_them() {
        let e = flatten(
            serde_json::from_str(r#"{"R": {"Target": [{"ID": "a"}, {"ID": "b"}], "FROM SAM": "x$"}, "top": [1]}"#)
                .unwrap(),
        )
        .to_event();
        assert_eq!(e["R.Target[0].ID"], "a");
        assert_eq!(e["R.Target[-1].ID"], "b");
        assert_eq!(e["R.Target"], r#"[{"ID":"a"},{"ID":"b"}]"#);
        assert_eq!(e["R['FROM SAM']"], "x$");
        assert_eq!(e["R.FROM SAM"], "x$");
        assert_eq!(e["top[0]"], "1");
    }

    #[test]
    fn an_elasticsearch_hit_is_its_document() {
        let (events, _) = read(
            "hits.ndjson",
            br#"{"_index": ".ds-logs-endpoint", "_id": "x", "_source": {"process": {"name": "a.exe"}}}"#,
        );
        assert_eq!(events[0].1["process.name"], "a.exe");
        assert_eq!(events[0].1["_index"], ".ds-logs-endpoint");
        assert!(!events[0].1.contains_key("_id"));
    }

    #[test]
    fn bad_lines_are_counted_and_the_rest_is_read() {
        let (events, bad) = read("e.json", b"{\"a\": 1}\n{\"a\": \n{\"a\": 3}\n\xff\xfe\n");
        assert_eq!(events.len(), 2);
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].line, 2);
        assert_eq!(bad[1].line, 4);
        assert!(bad[1].message.contains("not UTF-8"), "{:?}", bad[1]);
    }

    #[test]
    fn evtx_dump_events_get_sigma_names() {
        let text = br##"{"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
            "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ws1",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}}},
            "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "ProcessId": 42}}}"##;
        let (events, _) = read("e.json", text);
        let e = &events[0].1;
        assert_eq!(e["EventID"], "1");
        assert_eq!(e["Provider_Name"], "Microsoft-Windows-Sysmon");
        assert_eq!(e["Security_UserID"], "S-1-5-18");
        assert_eq!(e["Image"], "C:\\Windows\\System32\\cmd.exe");
        assert_eq!(e["ProcessId"], "42");
    }

    #[test]
    fn csv_with_a_header() {
        let (events, bad) = read(
            "e.csv",
            b"FileName,ProcessCommandLine\ncmd.exe,cmd /c whoami\n\"a,b.exe\",\n",
        );
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(events[0].1["ProcessCommandLine"], "cmd /c whoami");
        assert_eq!(events[1].1["FileName"], "a,b.exe");
        assert!(!events[1].1.contains_key("ProcessCommandLine"));
    }

    /// The fields of `text` read off the tape (`None`: not read that way) and read
    /// from the tree, as (name, value) pairs in the order read.
    type Pairs = Vec<(String, String)>;
    fn both_readings(text: &str) -> (Option<Pairs>, Option<Vec<Pairs>>) {
        let pairs = |view: &View| {
            view.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Pairs>()
        };
        let mut buffer = text.as_bytes().to_vec();
        let fast = super::super::json::read_fast(&mut buffer, |v| evtx_fields(v).map(|f| pairs(&View::from_pairs(f))));
        let mut buffer = text.as_bytes().to_vec();
        let tree = super::super::json::parse_fast(&mut buffer).map(|j| events_of(j).iter().map(pairs).collect());
        (fast, tree)
    }

    fn reads_alike(text: &str) -> Result<bool, String> {
        match both_readings(text) {
            (Some(fast), Some(tree)) if tree == vec![fast.clone()] => Ok(true),
            (None, _) => Ok(false),
            (fast, tree) => Err(format!("{text}: off the tape {fast:?}, from the tree {tree:?}")),
        }
    }

    #[test]
    fn evtx_events_read_off_the_tape_as_from_the_tree() {
        let read = [
            r##"{"Event":{"System":{"Provider":{"#attributes":{"Name":"P","Guid":"g"}},"EventID":4688,"Security":{"#attributes":{"UserID":"S-1"}},"TimeCreated":{"#attributes":{"SystemTime":"t"}},"Channel":"Security","Level":-4,"Big":18446744073709551615,"Keywords":[1,"a",{"b":null}],"Task":{"#text":"x"},"Opcode":{"a":1},"Flag":true,"Gone":null},"EventData":{"Data":[{"#attributes":{"Name":"CommandLine"},"#text":"cmd \"a\""},{"#attributes":{"Name":7},"#text":"no"},{"#text":"nameless"},"text",{"#attributes":{"Name":"N"}}],"#attributes":{"x":1},"Nested":{"Inner":"v","Deeper":{"D":2}},"List":[1,2]}}}"##,
            // Repeated keys: the last counts where one is looked up; entries repeat.
            r##"{"Event":{"System":{"EventID":1,"EventID":2,"Provider":{"#attributes":{"Name":"a"},"#attributes":{"Name":"b"}}},"System":{"EventID":3}},"Event":{"System":{"Channel":"c"},"UserData":{"Data":"not a list","R":{"#x":1,"y":"z"}}}}"##,
            r##"{"Event":{"System":"not an object","EventData":"flat"}}"##,
            r##"{"Event":{"System":{},"UserData":[1,2]}}"##,
            r##"{"Event":{"System":null,"EventData":null}}"##,
        ];
        for text in read {
            assert_eq!(reads_alike(text), Ok(true));
        }
        // Not the evtx shape: read as a tree, as before.
        for text in [
            r##"{"a":1}"##,
            r##"{"Event":{"Data":1}}"##,
            r##"{"Event":"x"}"##,
            r##"[{"Event":{"System":{}}}]"##,
            r##"{"_index":"i","Event":{"System":{}}}"##,
            r##"{"Event":{"System":{"Level":1.5}}}"##,
        ] {
            assert_eq!(reads_alike(text), Ok(false), "{text}");
        }
    }

    #[test]
    #[ignore = "needs ../shared"]
    fn sigmahq_regression_events_read_off_the_tape_as_from_the_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/sigma/regression_data");
        let files = crate::corpus::files_under(&root, &|p| p.extension().is_some_and(|e| e == "json"), &mut Vec::new());
        let mut read = 0;
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            // Each event (a file may hold several) as one NDJSON line.
            for value in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
                read += usize::from(reads_alike(&value.unwrap().to_string()).unwrap());
            }
        }
        assert!(read > 200, "{read} events of {} files read off the tape", files.len());
    }

    /// JSON text of evtx-like values, keys repeated and drawn from the names the
    /// reading looks for.
    fn evtx_like() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec![
            "Event",
            "System",
            "EventData",
            "UserData",
            "Data",
            "Provider",
            "Security",
            "TimeCreated",
            "#attributes",
            "#text",
            "Name",
            "UserID",
            "SystemTime",
            "_index",
            "x",
        ]);
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            Just("18446744073709551615".to_string()),
            "[a-c\\\\é ]{0,4}".prop_map(|s| format!("{s:?}")),
        ];
        let value = leaf.prop_recursive(5, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(|items| format!("[{}]", items.join(","))),
                prop::collection::vec((key.clone(), inner), 0..5).prop_map(|entries| {
                    let entries: Vec<String> = entries.iter().map(|(k, v)| format!("{k:?}:{v}")).collect();
                    format!("{{{}}}", entries.join(","))
                }),
            ]
        });
        (value.clone(), value.clone(), value).prop_map(|(system, data, other)| {
            format!(r#"{{"Event":{{"System":{system},"EventData":{data},"UserData":{other}}}}}"#)
        })
    }

    proptest::proptest! {
        #[test]
        fn evtx_like_values_read_alike(text in evtx_like()) {
            proptest::prop_assert!(reads_alike(&text).is_ok(), "{:?}", reads_alike(&text));
        }
    }
}
