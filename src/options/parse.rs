//! Option values from text: environment variables and CLI flags. Messages quote a value only
//! if it looks like a mistyped keyword or number, never like something that could be a secret.

use std::time::Duration;

use crate::util::error::{Error, Result};

/// `10`, `1.5`, `10s`, `500ms`, `2m`, `1h`; a bare number is seconds.
pub(crate) fn duration(v: &str) -> Result<Duration> {
    parse_duration(v).ok_or_else(|| Error::invalid_argument(format!("{} is not a duration like 10, 10s, 500ms or 2m", preview(v))))
}

pub(crate) fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (num, unit) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&v[..i], &v[i..]),
        None => (v, "s"),
    };
    let n: f64 = num.trim().parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    if !secs.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&secs) {
        return None;
    }
    Some(Duration::from_secs_f64(secs))
}

/// `BASE,MAX`, each a duration.
pub(crate) fn duration_pair(v: &str) -> Result<(Duration, Duration)> {
    let (a, b) = v.split_once(',').ok_or_else(|| Error::invalid_argument(format!("{} is not two durations like 500ms,30s", preview(v))))?;
    Ok((duration(a)?, duration(b)?))
}

pub(crate) fn boolean(v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(Error::invalid_argument(format!("{} is not one of 1, true, yes, on, 0, false, no, off", preview(v)))),
    }
}

pub(crate) fn count(v: &str) -> Result<u32> {
    v.trim().parse().map_err(|_| Error::invalid_argument(format!("{} is not a whole number", preview(v))))
}

/// `NAME=VALUE`.
pub(crate) fn pair(v: &str) -> Result<(&str, &str)> {
    v.split_once('=').ok_or_else(|| Error::invalid_argument("expected NAME=VALUE"))
}

/// A value for a message: shown if it is a short plain word or number, else "(not shown)".
pub(crate) fn preview(s: &str) -> String {
    let plain = s.len() <= 16 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ','));
    if plain {
        format!("'{s}'")
    } else {
        "the value (not shown)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in ["", "-1", "soon", "5d", "1e999"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(duration_pair("500ms,30s").unwrap(), (Duration::from_millis(500), Duration::from_secs(30)));
        assert!(duration_pair("500ms").is_err());
    }

    #[test]
    fn words_and_previews() {
        assert!(boolean("Yes").unwrap() && !boolean("off").unwrap());
        assert!(boolean("maybe").unwrap_err().message().contains("'maybe'"));
        assert_eq!(count(" 4 ").unwrap(), 4);
        assert!(!duration("hunter2/very+secret").unwrap_err().message().contains("hunter2"));
        assert_eq!(pair("a=b=c").unwrap(), ("a", "b=c"));
    }
}
