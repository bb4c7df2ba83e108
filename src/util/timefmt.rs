//! Wall-clock times for the few places that print or read them: messages, logs, the CLI, the
//! credentials file's ISO 8601 stamps, HTTP dates. Howard Hinnant's civil-date algorithms; not
//! worth a date crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch; negative before it.
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// UTC calendar fields of a Unix time: (year, month 1-12, day 1-31, hour, minute, second).
pub fn civil_from_unix(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, (rem / 3600) as u32, (rem / 60 % 60) as u32, (rem % 60) as u32)
}

/// `2026-11-28T08:01:02Z`, to the second.
pub fn iso8601(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil_from_unix(unix_seconds(t));
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-08-21T10:00:00.123456Z`: what Rapidata's SDK writes into its credentials file.
pub fn iso8601_micros(t: SystemTime) -> String {
    let micros = t.duration_since(UNIX_EPOCH).map(|d| d.subsec_micros()).unwrap_or(0);
    let secs = iso8601(t);
    format!("{}.{micros:06}Z", &secs[..secs.len() - 1])
}

/// Milliseconds since the Unix epoch; 0 before it.
pub fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// ISO 8601 / RFC 3339 as Python writes it: `2026-08-21T10:00:00.123456Z`, `...+00:00`, or
/// naive (taken as UTC). Returns nanoseconds since the Unix epoch.
pub(crate) fn parse_timestamp(s: &str) -> Option<i128> {
    let b = s.trim().as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.is_empty() || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s.trim()[start..i.min(start + 9)];
        nanos = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    let offset_secs: i64 = match b.get(i) {
        None => 0,
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let v = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if sign == b'+' { v } else { -v }
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let (y, m) = if mo <= 2 { (y - 1, mo + 9) } else { (y, mo - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    let secs = days * 86400 + h * 3600 + mi * 60 + se - offset_secs;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the only form RFC 9110 requires senders to use.
pub(crate) fn parse_http_date(v: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u32 = parts[1].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| *m == parts[2])? + 1;
    let year: u32 = parts[3].parse().ok()?;
    let iso = format!("{year:04}-{month:02}-{day:02}T{}Z", parts[4]);
    let nanos = parse_timestamp(&iso)?;
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn known_instants() {
        let at = |s: u64| iso8601(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(at(784_111_777), "1994-11-06T08:49:37Z");
        assert_eq!(at(951_868_800), "2000-03-01T00:00:00Z");
        assert_eq!(at(1_709_164_799), "2024-02-28T23:59:59Z");
        assert_eq!(at(1_709_251_199), "2024-02-29T23:59:59Z");
        assert_eq!(iso8601(UNIX_EPOCH - Duration::from_secs(1)), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn timestamps_in_both_spellings() {
        let z = parse_timestamp("2026-08-21T10:00:00.123456Z").unwrap();
        let p = parse_timestamp("2026-08-21T10:00:00.123456+00:00").unwrap();
        assert_eq!(z, p);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_timestamp("2000-03-01T00:00:00"), Some(951_868_800 * 1_000_000_000));
        assert!(parse_timestamp("2026-13-01T00:00:00Z").is_none());
        assert!(parse_timestamp("yesterday").is_none());
        assert!(parse_timestamp("2026-08-21T10:00:00.Z").is_none());
        let t = UNIX_EPOCH + Duration::from_micros(1_787_306_400_123_456);
        assert_eq!(iso8601_micros(t), "2026-08-21T10:00:00.123456Z");
        assert_eq!(parse_timestamp(&iso8601_micros(t)), Some(1_787_306_400_123_456_000));
    }
}
