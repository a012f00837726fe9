//! Reading events for `fpx replay`, as a stream: NDJSON, JSON arrays and concatenated
//! JSON objects (pretty-printed ones too), the `evtx_dump` shape of Windows events
//! flattened to Sigma field names, and CSV with a header row. A bad event (invalid JSON,
//! a truncated line, bytes that are not UTF-8) is reported with its file and line and
//! the rest of the file is still read where the format allows.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value;

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
    let handle = std::fs::File::open(file).map_err(|e| format!("{}: cannot read the file: {e}", file.display()))?;
    let mut reader = BufReader::new(handle);
    let bad_at = |line: usize, message: String| BadEvent {
        file: file.to_path_buf(),
        line,
        message,
    };
    if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        return read_csv(reader, &mut event, &mut |line, m| bad(bad_at(line, m)));
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
        return read_stream(strip_bom(&bytes), &mut event, &mut |line, m| bad(bad_at(line, m)));
    }
    let mut index = 0;
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
                bad(bad_at(
                    line_number,
                    format!("not UTF-8 text: byte {}", e.valid_up_to() + 1),
                ));
                continue;
            }
        };
        if text.is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                for e in events_of(value) {
                    index += 1;
                    event(line_number, e);
                }
            }
            // An object that continues on the next lines: the file is a stream of
            // pretty-printed objects. Read it whole from here.
            Err(e) if e.is_eof() && index == 0 => {
                bytes.extend_from_slice(&line);
                reader
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("{}: {e}", file.display()))?;
                return read_stream(strip_bom(&bytes), &mut event, &mut |l, m| {
                    bad(bad_at(l + line_number - 1, m))
                });
            }
            Err(e) => bad(bad_at(line_number, format!("not a JSON event: {e}"))),
        }
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Concatenated JSON values (or one array): a parse error ends the file (there is no
/// way to find the next object reliably), reported at its line.
fn read_stream(
    bytes: &[u8],
    event: &mut impl FnMut(usize, Event),
    bad: &mut impl FnMut(usize, String),
) -> Result<(), String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let at = e.valid_up_to();
            let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            bad(line, format!("not UTF-8 text at byte {}", at + 1));
            std::str::from_utf8(&bytes[..at]).unwrap_or("")
        }
    };
    let mut index = 0;
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match value {
            Ok(value) => {
                for e in events_of(value) {
                    index += 1;
                    event(index, e);
                }
            }
            Err(e) => {
                bad(
                    e.line(),
                    format!("not a JSON event (the rest of the file is not read): {e}"),
                );
                break;
            }
        }
    }
    Ok(())
}

fn read_csv(
    reader: impl Read,
    event: &mut impl FnMut(usize, Event),
    bad: &mut impl FnMut(usize, String),
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
    let header: Vec<String> = match csv.headers() {
        Ok(h) => h.iter().map(|s| s.trim_start_matches('\u{feff}').to_string()).collect(),
        Err(e) => {
            bad(1, format!("not a CSV header: {e}"));
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
            Ok(record) => event(
                i + 1,
                header
                    .iter()
                    .zip(record.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.to_string()))
                    .collect(),
            ),
            Err(e) => bad(line, format!("not a CSV record: {e}")),
        }
    }
    Ok(())
}

/// The events a JSON value holds: an array's elements, or the value itself.
fn events_of(value: Value) -> Vec<Event> {
    match value {
        Value::Array(items) => items.into_iter().flat_map(events_of).collect(),
        Value::Object(_) => vec![flatten(&value)],
        _ => Vec::new(),
    }
}

/// An event's fields. The `evtx_dump` shape (`Event.System`, `Event.EventData`,
/// `#attributes`) becomes Sigma's names (`EventID`, `Channel`, `Computer`,
/// `Provider_Name`, `Security_UserID`, and the EventData fields by name); any other
/// object is flattened with dotted names (`requestParameters.layers`).
pub fn flatten(value: &Value) -> Event {
    let mut out = Event::new();
    if let Some(system) = value.pointer("/Event/System") {
        if let Value::Object(map) = system {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("Provider", _) => put(&mut out, "Provider_Name", v.pointer("/#attributes/Name")),
                    ("Security", _) => put(&mut out, "Security_UserID", v.pointer("/#attributes/UserID")),
                    ("TimeCreated", _) => put(&mut out, "TimeCreated", v.pointer("/#attributes/SystemTime")),
                    (_, Value::Object(inner)) => put(&mut out, k, inner.get("#text")),
                    _ => put(&mut out, k, Some(v)),
                }
            }
        }
        for section in ["/Event/EventData", "/Event/UserData"] {
            if let Some(data) = value.pointer(section) {
                event_data(data, &mut out);
            }
        }
        return out;
    }
    flatten_into(value, "", &mut out);
    out
}

/// EventData as a map of names to values, or as `Data` items with a `Name` attribute.
fn event_data(data: &Value, out: &mut Event) {
    match data {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::Array(items) if k == "Data" => {
                        for item in items {
                            if let Some(name) = item.pointer("/#attributes/Name").and_then(Value::as_str) {
                                put(out, name, item.get("#text"));
                            }
                        }
                    }
                    Value::Object(_) if !k.starts_with('#') => event_data(v, out),
                    _ if k.starts_with('#') => {}
                    _ => put(out, k, Some(v)),
                }
            }
        }
        other => put(out, "EventData", Some(other)),
    }
}

fn flatten_into(value: &Value, prefix: &str, out: &mut Event) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(v, &key, out);
            }
        }
        other => put(out, prefix, Some(other)),
    }
}

/// A scalar as the text fpx compares; `null` leaves the field absent.
fn put(out: &mut Event, key: &str, value: Option<&Value>) {
    let text = match value {
        None | Some(Value::Null) => return,
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => other.to_string(),
    };
    out.insert(key.to_string(), text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(name: &str, text: &[u8]) -> (Vec<(usize, Event)>, Vec<BadEvent>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (mut events, mut bad) = (Vec::new(), Vec::new());
        read_file(&path, |i, e| events.push((i, e)), |b| bad.push(b)).unwrap();
        (events, bad)
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
}
