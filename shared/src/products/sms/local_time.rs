//! Times shown in an account's time zone.
//!
//! Accounts set a zone as an IANA name or a fixed offset; timestamps are stored as epoch milliseconds and
//! rendered as RFC 3339 with the local offset, so a reader sees the account's wall-clock time and the exact
//! instant at once. Zone rules come from the tz database bundled into the binary (jiff's
//! `tzdb-bundle-always`), so results do not depend on the host's /usr/share/zoneinfo.

use jiff::tz::{Offset, TimeZone};

/// Largest fixed offset accepted, in minutes (±18:00, the ISO 8601 / common library bound; real zones
/// use -12:00 to +14:00).
const MAX_FIXED_OFFSET_MINUTES: i32 = 18 * 60;

/// What `Zone::parse` accepts, for error messages.
const ACCEPTED: &str = "expected an IANA time zone name such as \"Asia/Kolkata\", a fixed offset \
                        ±HH:MM from -18:00 to +18:00 such as \"+05:30\", or \"UTC\"/\"Z\"";

/// A time zone setting: an IANA name ("Asia/Kolkata") or a fixed offset ("+05:30", "-08:00", "Z"/"UTC").
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Zone {
    /// Parses a zone setting. "UTC" and "Z" (any case) mean UTC; a leading sign means a fixed offset, which
    /// must be exactly ±HH:MM; anything else is looked up (case-insensitively) in the bundled tz database.
    pub fn parse(s: &str) -> Result<Zone, String> {
        if s.eq_ignore_ascii_case("utc") || s.eq_ignore_ascii_case("z") {
            return Ok(Zone::utc());
        }
        if s.starts_with(['+', '-']) {
            let seconds = parse_fixed_offset(s).ok_or_else(|| format!("invalid offset {s:?}: {ACCEPTED}"))?;
            let offset = Offset::from_seconds(seconds).map_err(|e| format!("invalid offset {s:?}: {e}"))?;
            return Ok(Zone { name: s.to_string(), tz: TimeZone::fixed(offset) });
        }
        if s.is_empty() {
            return Err(format!("empty time zone: {ACCEPTED}"));
        }
        match jiff::tz::db().get(s) {
            Ok(tz) => Ok(Zone { name: s.to_string(), tz }),
            Err(_) => Err(format!("unknown time zone {s:?}: {ACCEPTED}")),
        }
    }

    /// Coordinated Universal Time, named "UTC".
    pub fn utc() -> Zone {
        Zone { name: "UTC".to_string(), tz: TimeZone::UTC }
    }

    /// The setting as given ("Z" and any-case "utc" are normalised to "UTC").
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Parses exactly `±HH:MM` into seconds east of UTC, within ±18:00.
fn parse_fixed_offset(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() != 6 || b[3] != b':' {
        return None;
    }
    let sign = match b[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |i: usize| -> Option<i32> {
        let (hi, lo) = (b[i], b[i + 1]);
        (hi.is_ascii_digit() && lo.is_ascii_digit()).then(|| i32::from(hi - b'0') * 10 + i32::from(lo - b'0'))
    };
    let (hours, minutes) = (two(1)?, two(4)?);
    let total = hours * 60 + minutes;
    (minutes < 60 && total <= MAX_FIXED_OFFSET_MINUTES).then_some(sign * total * 60)
}

/// Formats epoch milliseconds in the zone with its offset and milliseconds, as
/// "2023-10-19T11:55:20.408+05:30" (always 3 fractional digits, offset as ±HH:MM, never "Z").
///
/// Historic local-mean-time offsets that have seconds (e.g. Kolkata's +05:53:28 before 1854) are
/// truncated to whole minutes and the wall-clock time is computed with that truncated offset, so the
/// string still names the exact instant. Milliseconds outside jiff's range (about ±9999 years) are clamped
/// to its ends; years outside 0000..=9999 print in the ISO 8601 expanded form ("-000044").
pub fn format_ms(ms: i64, zone: &Zone) -> String {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(if ms < 0 {
        jiff::Timestamp::MIN
    } else {
        jiff::Timestamp::MAX
    });
    let seconds = zone.tz.to_offset(ts).seconds();
    let seconds = seconds - seconds % 60; // toward zero: never leaves jiff's offset range
    let offset = Offset::from_seconds(seconds).unwrap_or(Offset::UTC);
    let dt = offset.to_datetime(ts);

    let year = dt.year();
    let year = if (0..=9999).contains(&year) { format!("{year:04}") } else { format!("{year:+07}") };
    let sign = if offset.seconds() < 0 { '-' } else { '+' };
    let minutes = offset.seconds().abs() / 60;
    format!(
        "{year}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{sign}{:02}:{:02}",
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond(),
        minutes / 60,
        minutes % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(ms: i64, zone: &str) -> String {
        format_ms(ms, &Zone::parse(zone).unwrap())
    }

    #[test]
    fn utc() {
        assert_eq!(format_ms(0, &Zone::utc()), "1970-01-01T00:00:00.000+00:00");
        assert_eq!(fmt(1_697_696_720_408, "UTC"), "2023-10-19T06:25:20.408+00:00");
        assert_eq!(fmt(1_709_251_199_999, "Z"), "2024-02-29T23:59:59.999+00:00");
        assert_eq!(fmt(1_697_696_720_408, "Etc/UTC"), "2023-10-19T06:25:20.408+00:00");
        assert_eq!(fmt(1_697_696_720_408, "+00:00"), "2023-10-19T06:25:20.408+00:00");
        assert_eq!(fmt(1_697_696_720_408, "-00:00"), "2023-10-19T06:25:20.408+00:00");
    }

    #[test]
    fn names() {
        assert_eq!(Zone::utc().name(), "UTC");
        assert_eq!(Zone::parse("Z").unwrap().name(), "UTC");
        assert_eq!(Zone::parse("utc").unwrap().name(), "UTC");
        assert_eq!(Zone::parse("Z").unwrap(), Zone::utc());
        assert_eq!(Zone::parse("Asia/Kolkata").unwrap().name(), "Asia/Kolkata");
        assert_eq!(Zone::parse("+05:30").unwrap().name(), "+05:30");
        assert_eq!(Zone::parse("Etc/UTC").unwrap().name(), "Etc/UTC");
    }

    #[test]
    fn fixed_offsets() {
        // 2023-10-19T06:25:20.408Z
        let ms = 1_697_696_720_408;
        assert_eq!(fmt(ms, "+05:30"), "2023-10-19T11:55:20.408+05:30");
        assert_eq!(fmt(ms, "-08:00"), "2023-10-18T22:25:20.408-08:00");
        assert_eq!(fmt(ms, "-03:30"), "2023-10-19T02:55:20.408-03:30");
        assert_eq!(fmt(ms, "+18:00"), "2023-10-20T00:25:20.408+18:00");
        assert_eq!(fmt(ms, "-18:00"), "2023-10-18T12:25:20.408-18:00");
    }

    #[test]
    fn kolkata_seed_example() {
        // 2023-10-19T06:25:20.408Z
        assert_eq!(fmt(1_697_696_720_408, "Asia/Kolkata"), "2023-10-19T11:55:20.408+05:30");
        assert_eq!(fmt(1_697_696_720_408, "Asia/Kathmandu"), "2023-10-19T12:10:20.408+05:45");
    }

    #[test]
    fn new_york_across_dst() {
        let ny = "America/New_York";
        // Summer (EDT) and winter (EST).
        assert_eq!(fmt(1_688_212_800_000, ny), "2023-07-01T08:00:00.000-04:00");
        assert_eq!(fmt(1_673_784_000_250, ny), "2023-01-15T07:00:00.250-05:00");
        // Spring forward, 2023-03-12 at 07:00Z: 01:59:59.999 EST is followed by 03:00 EDT.
        assert_eq!(fmt(1_678_604_399_999, ny), "2023-03-12T01:59:59.999-05:00");
        assert_eq!(fmt(1_678_604_400_000, ny), "2023-03-12T03:00:00.000-04:00");
        // Fall back, 2023-11-05 at 06:00Z: 01:00-01:59 happens twice, told apart by the offset.
        assert_eq!(fmt(1_699_163_999_999, ny), "2023-11-05T01:59:59.999-04:00");
        assert_eq!(fmt(1_699_164_000_000, ny), "2023-11-05T01:00:00.000-05:00");
    }

    #[test]
    fn negative_offsets_and_times() {
        assert_eq!(fmt(-1, "UTC"), "1969-12-31T23:59:59.999+00:00");
        assert_eq!(fmt(-1, "-08:00"), "1969-12-31T15:59:59.999-08:00");
        assert_eq!(fmt(1_688_212_800_000, "America/Los_Angeles"), "2023-07-01T05:00:00.000-07:00");
        assert_eq!(fmt(1_673_784_000_000, "America/St_Johns"), "2023-01-15T08:30:00.000-03:30");
    }

    #[test]
    fn whole_seconds_print_milliseconds() {
        assert_eq!(fmt(1_688_212_800_000, "Asia/Kolkata"), "2023-07-01T17:30:00.000+05:30");
        assert_eq!(fmt(1_000, "UTC"), "1970-01-01T00:00:01.000+00:00");
    }

    #[test]
    fn historic_offset_with_seconds_is_truncated_consistently() {
        // 1850-01-01T00:00:00Z; Kolkata then kept local mean time, +05:53:28.
        let s = fmt(-3_786_825_600_000, "Asia/Kolkata");
        assert_eq!(s, "1850-01-01T05:53:00.000+05:53");
    }

    #[test]
    fn out_of_range_is_clamped() {
        assert!(fmt(i64::MAX, "UTC").starts_with("9999-"));
        assert!(fmt(i64::MIN, "UTC").starts_with("-009999-"));
        assert!(fmt(i64::MAX, "+18:00").starts_with("9999-"));
        assert!(fmt(i64::MIN, "-18:00").starts_with("-009999-"));
    }

    #[test]
    fn bad_settings_are_refused() {
        for bad in
            ["Mars/Base", "+25:00", "", "+18:01", "+05:60", "+5:30", "+0530", "05:30", "+05:30:00", "UTC+1", " UTC"]
        {
            let err = Zone::parse(bad).unwrap_err();
            assert!(err.contains("IANA") && err.contains("+05:30") && err.contains("UTC"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn iana_lookup_ignores_case() {
        assert_eq!(fmt(1_697_696_720_408, "asia/kolkata"), "2023-10-19T11:55:20.408+05:30");
    }
}
