//! KQL datetimes and timespans: `datetime(2024-01-01)`, `ago(7d)`, `now()`, `1d`.
//!
//! A datetime is a count of ticks (100 ns) since 0001-01-01T00:00:00Z, as in Kusto
//! (.NET `DateTime`); its canonical text is ISO 8601 in UTC with the fraction's
//! trailing zeros dropped (`2024-01-01T00:00:00Z`, `2024-01-01T10:00:00.5Z`). Events
//! hold datetimes as such text. `now()` is the time fpx started (one instant for the
//! whole run, as one query has one `now()`), so `ago(7d)` is that instant minus 7 days.

use std::sync::LazyLock;

/// Ticks per second.
const SECOND: i64 = 10_000_000;
/// Ticks per day.
const DAY: i64 = 86_400 * SECOND;
/// Days from 0001-01-01 to 1970-01-01.
const UNIX_EPOCH_DAYS: i64 = 719_162;
/// The last tick KQL's datetime holds (9999-12-31T23:59:59.9999999Z).
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Reads an ISO 8601 datetime as KQL's `datetime(...)` and events write it:
/// `YYYY-MM-DD`, optionally `[T ]HH:MM[:SS[.fffffff]]`, optionally `Z` or an offset
/// `+HH:MM`/`-HH:MM`. Returns its ticks.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let b = text.trim().as_bytes();
    let num = |s: &[u8]| -> Option<i64> {
        (!s.is_empty() && s.iter().all(u8::is_ascii_digit))
            .then(|| std::str::from_utf8(s).ok()?.parse().ok())
            .flatten()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(&b[..4])?, num(&b[5..7])?, num(&b[8..10])?);
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut rest = &b[10..];
    let mut ticks = 0i64;
    if let [b'T' | b' ', time @ ..] = rest
        && time.len() >= 5
        && time[2] == b':'
    {
        let (h, min) = (num(&time[..2])?, num(&time[3..5])?);
        if h > 23 || min > 59 {
            return None;
        }
        ticks += (h * 3600 + min * 60) * SECOND;
        rest = &time[5..];
        if let [b':', s1, s2, after @ ..] = rest {
            let s = num(&[*s1, *s2])?;
            if s > 59 {
                return None;
            }
            ticks += s * SECOND;
            rest = after;
            if let [b'.', frac @ ..] = rest {
                let digits = frac.iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 || digits > 7 {
                    return None;
                }
                let mut f = num(&frac[..digits])?;
                for _ in digits..7 {
                    f *= 10;
                }
                ticks += f;
                rest = &frac[digits..];
            }
        }
    }
    match rest {
        [] | [b'Z' | b'z'] => {}
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let offset = (num(&[*h1, *h2])? * 60 + num(&[*m1, *m2])?) * 60 * SECOND;
            ticks += if *sign == b'+' { -offset } else { offset };
        }
        _ => return None,
    }
    let total = (days_from_civil(y, m, d) + UNIX_EPOCH_DAYS) * DAY + ticks;
    (0..=MAX_TICKS).contains(&total).then_some(total)
}

/// The canonical text of a datetime.
pub fn format_datetime(ticks: i64) -> String {
    let (days, rem) = (ticks.div_euclid(DAY), ticks.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days - UNIX_EPOCH_DAYS);
    let (secs, frac) = (rem / SECOND, rem % SECOND);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac != 0 {
        let digits = format!("{frac:07}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Reads a KQL timespan literal (`7d`, `1.5h`, `30m`, `10s`, `100ms`, `5microseconds`,
/// `1tick`, and the long unit names); returns its ticks.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let per: i64 = match unit {
        "d" | "day" | "days" => DAY,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600 * SECOND,
        "m" | "min" | "minute" | "minutes" => 60 * SECOND,
        "s" | "sec" | "second" | "seconds" => SECOND,
        "ms" | "milli" | "millis" | "millisecond" | "milliseconds" => SECOND / 1000,
        "microsecond" | "microseconds" => 10,
        "tick" | "ticks" => 1,
        _ => return None,
    };
    let value = crate::decimal::Decimal::parse(number)?;
    // Ticks are whole: `1.5ms` is 15,000 ticks; a fraction of a tick is not a timespan.
    let scale = value.scale();
    let scaled = value.scaled(scale)?;
    let ticks = scaled.checked_mul(i128::from(per))? / 10i128.pow(scale);
    (ticks * 10i128.pow(scale) == scaled * i128::from(per))
        .then(|| i64::try_from(ticks).ok())
        .flatten()
}

/// The instant fpx started, in ticks: KQL's `now()` for the whole run.
pub fn now() -> i64 {
    static NOW: LazyLock<i64> = LazyLock::new(|| {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() / 100);
        UNIX_EPOCH_DAYS * DAY + i64::try_from(unix).unwrap_or(0)
    });
    *NOW
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_forms_kql_reads() {
        let day = parse_datetime("2024-01-01").unwrap();
        assert_eq!(format_datetime(day), "2024-01-01T00:00:00Z");
        assert_eq!(parse_datetime("2024-01-01T00:00:00Z"), Some(day));
        assert_eq!(parse_datetime("2024-01-01 00:00"), Some(day));
        assert_eq!(parse_datetime("2024-01-01T01:00:00+01:00"), Some(day));
        assert_eq!(parse_datetime("2024-01-01T00:00:00.0000001Z"), Some(day + 1));
        assert_eq!(
            format_datetime(parse_datetime("2024-02-29T10:20:30.5Z").unwrap()),
            "2024-02-29T10:20:30.5Z"
        );
        assert_eq!(parse_datetime("0001-01-01"), Some(0));
        assert_eq!(format_datetime(MAX_TICKS), "9999-12-31T23:59:59.9999999Z");
        // 1970-01-01 is 621,355,968,000,000,000 ticks in .NET.
        assert_eq!(parse_datetime("1970-01-01"), Some(621_355_968_000_000_000));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T24:00",
            "2024-1-1",
            "yesterday",
            "2024-01-01T10:00:00.12345678Z",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("1d"), Some(DAY));
        assert_eq!(parse_timespan("1.5h"), Some(5400 * SECOND));
        assert_eq!(parse_timespan("100ms"), Some(SECOND / 10));
        assert_eq!(parse_timespan("2minutes"), Some(120 * SECOND));
        assert_eq!(parse_timespan("3ticks"), Some(3));
        assert_eq!(parse_timespan("0.5tick"), None);
        assert_eq!(parse_timespan("7"), None);
        assert_eq!(parse_timespan("7y"), None);
    }

    proptest! {
        #[test]
        fn text_and_ticks_round_trip(t in 0..=MAX_TICKS) {
            prop_assert_eq!(parse_datetime(&format_datetime(t)), Some(t));
        }
    }
}
