//! Unix time ↔ UTC calendar dates (proleptic Gregorian), for key retirement dates and display.

/// Days since 1970-01-01 for a civil date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

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

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// `YYYY-MM-DD` (UTC).
pub fn date(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parse Unix seconds, `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`.
pub fn parse(text: &str) -> Result<i64, String> {
    if let Ok(n) = text.parse::<i64>() {
        return Ok(n);
    }
    let bad =
        || format!("{text:?} is not a date (use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds)");
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(bad)?)),
        None => (text, None),
    };
    let num = |s: &str, len: usize| -> Result<i64, String> {
        if s.len() == len && s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let (y, m, d) = (num(y, 4)?, num(m, 2)?, num(d, 2)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if civil_from_days(secs / 86_400) != (y, m, d) {
        return Err(bad());
    }
    if let Some(t) = time {
        let hms: Vec<&str> = t.split(':').collect();
        let [h, mi, s] = hms.as_slice() else {
            return Err(bad());
        };
        let (h, mi, s) = (num(h, 2)?, num(mi, 2)?, num(s, 2)?);
        if h > 23 || mi > 59 || s > 59 {
            return Err(bad());
        }
        secs += h * 3600 + mi * 60 + s;
    }
    Ok(secs)
}

/// A duration for `--min-age` and the widget's `min-age`: `7d`, `12h`, `90m`, `30s` or plain
/// seconds; at most 100 years.
pub fn parse_age(text: &str) -> Result<i64, String> {
    let (num, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{text:?}: expected a number with d, h, m or s (e.g. 7d)"))?;
    let mult = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        _ => return Err(format!("{text:?}: the unit is d, h, m or s")),
    };
    n.checked_mul(mult)
        .filter(|v| *v <= 100 * 365 * 86_400)
        .ok_or_else(|| format!("{text:?}: too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(parse("1970-01-01").unwrap(), 0);
        assert_eq!(parse("2027-01-01").unwrap(), 1_798_761_600);
        assert_eq!(parse("2000-02-29T12:00:01Z").unwrap(), 951_825_601);
        assert_eq!(format(951_825_601), "2000-02-29T12:00:01Z");
        assert_eq!(parse("1700000000").unwrap(), 1_700_000_000);
        for bad in [
            "2001-02-29",
            "2027-13-01",
            "27-01-01",
            "2027-01-01T25:00:00Z",
            "soon",
            "2027-01-01T10:00:00",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("7d"), Ok(604_800));
        assert_eq!(parse_age("12h"), Ok(43_200));
        assert_eq!(parse_age("90m"), Ok(5_400));
        assert_eq!(parse_age("30s"), Ok(30));
        assert_eq!(parse_age("45"), Ok(45));
        for bad in [
            "",
            "d",
            "7w",
            "-1d",
            "7 d",
            "1.5h",
            "36500001d",
            "99999999999999999999",
        ] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
