//! Sizes, CPU quotas and their display: `512M` <-> 536870912, `50%` <-> 50.

use thiserror::Error;

/// Why a size or quota was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AmountError {
    #[error("not a valid amount")]
    Invalid,
    #[error("zero")]
    Zero,
    #[error("too large")]
    TooLarge,
}

/// Binary suffixes: K, M, G, T are powers of 1024 (`Ki`... mean the same).
const UNITS: [(&str, u32); 4] = [("K", 10), ("M", 20), ("G", 30), ("T", 40)];

/// Parses `"512M"`, `"1Gi"`, `"1048576"` into bytes.
pub fn parse_size(s: &str) -> Result<u64, AmountError> {
    let digits_end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, suffix) = s.split_at(digits_end);
    if digits.is_empty() {
        return Err(AmountError::Invalid);
    }
    let suffix = suffix
        .strip_suffix('i')
        .filter(|s| !s.is_empty())
        .unwrap_or(suffix);
    let shift = match suffix {
        "" => 0,
        _ => UNITS
            .iter()
            .find(|(u, _)| *u == suffix)
            .map(|&(_, shift)| shift)
            .ok_or(AmountError::Invalid)?,
    };
    let n: u64 = digits.parse().map_err(|_| AmountError::TooLarge)?;
    if n == 0 {
        return Err(AmountError::Zero);
    }
    n.checked_mul(1 << shift).ok_or(AmountError::TooLarge)
}

/// Bytes in the largest unit that divides them exactly: 268435456 -> `256M`.
pub fn format_size(bytes: u64) -> String {
    UNITS
        .iter()
        .rev()
        .find(|&&(_, shift)| bytes != 0 && bytes.is_multiple_of(1 << shift))
        .map(|&(unit, shift)| format!("{}{unit}", bytes >> shift))
        .unwrap_or_else(|| bytes.to_string())
}

/// The largest CPU quota: the plan multiplies it by 10000 (µs per second).
pub const MAX_CPU_PERCENT: u64 = u64::MAX / 10_000;

/// Parses `"50%"` or `"150%"` into a percent of one CPU.
pub fn parse_percent(s: &str) -> Result<u64, AmountError> {
    let digits = s.strip_suffix('%').ok_or(AmountError::Invalid)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::Invalid);
    }
    let n: u64 = digits.parse().map_err(|_| AmountError::TooLarge)?;
    check_percent(n)
}

/// A number of cores (0.5, 2) into a percent; it must come to a whole percent.
pub fn cores_to_percent(cores: f64) -> Result<u64, AmountError> {
    let percent = cores * 100.0;
    if !percent.is_finite() || percent < 0.0 || (percent - percent.round()).abs() > 1e-6 {
        return Err(AmountError::Invalid);
    }
    if percent.round() > MAX_CPU_PERCENT as f64 {
        return Err(AmountError::TooLarge);
    }
    check_percent(percent.round() as u64)
}

fn check_percent(n: u64) -> Result<u64, AmountError> {
    match n {
        0 => Err(AmountError::Zero),
        n if n > MAX_CPU_PERCENT => Err(AmountError::TooLarge),
        n => Ok(n),
    }
}

/// `50%`.
pub fn format_percent(percent: u64) -> String {
    format!("{percent}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("512Mi"), Ok(512 << 20));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("2T"), Ok(2 << 40));
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        for bad in ["", "M", "512Q", "512m", "5 M", "-1", "1.5G", "512i", "1Ki2"] {
            assert_eq!(parse_size(bad), Err(AmountError::Invalid), "{bad}");
        }
        assert_eq!(parse_size("0M"), Err(AmountError::Zero));
        assert_eq!(
            parse_size("99999999999999999999"),
            Err(AmountError::TooLarge)
        );
        assert_eq!(parse_size("16777216T"), Err(AmountError::TooLarge));
    }

    #[test]
    fn formatted_sizes_round_trip() {
        assert_eq!(format_size(268_435_456), "256M");
        assert_eq!(format_size(1536 << 20), "1536M");
        assert_eq!(format_size(1000), "1000");
        assert_eq!(format_size(0), "0");
        for s in ["512M", "1G", "3T", "7K", "1023"] {
            assert_eq!(format_size(parse_size(s).unwrap()), s);
        }
    }

    #[test]
    fn cpu_quotas() {
        assert_eq!(parse_percent("50%"), Ok(50));
        assert_eq!(parse_percent("150%"), Ok(150));
        assert_eq!(parse_percent("0%"), Err(AmountError::Zero));
        for bad in ["50", "%", "-5%", "0.5%", "half"] {
            assert_eq!(parse_percent(bad), Err(AmountError::Invalid), "{bad}");
        }
        assert_eq!(cores_to_percent(0.5), Ok(50));
        assert_eq!(cores_to_percent(2.0), Ok(200));
        assert_eq!(cores_to_percent(0.29), Ok(29));
        assert_eq!(cores_to_percent(0.0), Err(AmountError::Zero));
        assert_eq!(cores_to_percent(0.333), Err(AmountError::Invalid));
        assert_eq!(cores_to_percent(-1.0), Err(AmountError::Invalid));
        assert_eq!(cores_to_percent(1e300), Err(AmountError::TooLarge));
    }
}
