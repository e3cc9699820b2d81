//! `--request-timeout`, as kubectl reads it, and durations for messages.

use std::time::Duration;

/// `1m30s`-style text for a duration.
pub fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    // The fraction, as Go's Duration.String prints it: 1.5s, not 1s.
    let ms = d.subsec_millis();
    if ms > 0 {
        let fraction = format!("{ms:03}");
        out.push_str(&format!("{s}.{}s", fraction.trim_end_matches('0')));
    } else if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// The longest `--request-timeout` allowed (0 still means no limit).
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// kubectl's `--request-timeout`: a bare number of seconds, or a Go
/// duration (`500ms`, `30s`, `1m30s`, `1.5h`; units ns, us, µs, ms, s, m,
/// h). Zero means no limit. Negative values, values over
/// [`MAX_REQUEST_TIMEOUT`] and anything else are refused; the message does
/// not repeat the text (clap shows it).
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, String> {
    const EXAMPLES: &str = "use e.g. 30s, 1m30s, 500ms, or 0 for no limit";
    let max_nanos = MAX_REQUEST_TIMEOUT.as_nanos();
    let too_long = || {
        format!(
            "at most {} is allowed (0 means no limit)",
            humanize(MAX_REQUEST_TIMEOUT)
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("a duration is needed; {EXAMPLES}"));
    }
    if text.starts_with('-') {
        return Err(format!("a duration cannot be negative; {EXAMPLES}"));
    }
    let nanos: u128 = if text.bytes().all(|b| b.is_ascii_digit()) {
        saturating_digits(text).saturating_mul(1_000_000_000)
    } else {
        let mut total: u128 = 0;
        let mut rest = text.strip_prefix('+').unwrap_or(text);
        if rest.is_empty() {
            return Err(format!("not a duration; {EXAMPLES}"));
        }
        while !rest.is_empty() {
            let (whole, after) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
            let (fraction, after) = match after.strip_prefix('.') {
                Some(a) => a.split_at(a.bytes().take_while(u8::is_ascii_digit).count()),
                None => ("", after),
            };
            if whole.is_empty() && fraction.is_empty() {
                return Err(format!("not a duration; {EXAMPLES}"));
            }
            // Up to the next digit or dot: both ASCII, so a char boundary.
            let (unit, after) = after.split_at(
                after
                    .bytes()
                    .take_while(|b| !b.is_ascii_digit() && *b != b'.')
                    .count(),
            );
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(format!("a number needs a unit after it; {EXAMPLES}")),
                _ => return Err(format!("unknown unit; {EXAMPLES}")),
            };
            // At most 19 fraction digits count (below a nanosecond for any
            // unit); 10^19 * scale stays far below u128::MAX.
            let digits = fraction.get(..19).unwrap_or(fraction);
            let fraction_nanos = u32::try_from(digits.len())
                .ok()
                .and_then(|n| 10u128.checked_pow(n))
                .map_or(0, |denominator| {
                    saturating_digits(digits).saturating_mul(scale) / denominator
                });
            total = total
                .saturating_add(saturating_digits(whole).saturating_mul(scale))
                .saturating_add(fraction_nanos);
            rest = after;
        }
        total
    };
    if nanos > max_nanos {
        return Err(too_long());
    }
    if nanos == 0 {
        return Ok(None);
    }
    u64::try_from(nanos)
        .map(|n| Some(Duration::from_nanos(n)))
        .map_err(|_| too_long())
}

/// A run of ASCII digits as a number, saturating instead of overflowing.
fn saturating_digits(digits: &str) -> u128 {
    digits.bytes().fold(0u128, |n, b| {
        n.saturating_mul(10)
            .saturating_add(u128::from(b.wrapping_sub(b'0')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_they_were_given() {
        for (ms, text) in [
            (0, "0ms"),
            (250, "250ms"),
            (1_000, "1s"),
            (1_500, "1.5s"),
            (1_050, "1.05s"),
            (60_000, "1m"),
            (90_000, "1m30s"),
            (90_500, "1m30.5s"),
            (3_600_000, "1h"),
            (3_660_001, "1h1m0.001s"),
        ] {
            assert_eq!(humanize(Duration::from_millis(ms)), text, "{ms}");
        }
    }
}
