//! Kubernetes quantities (`128Mi`, `1G`, `500m`, `0.5`) into podctl's
//! amounts (bytes, percent of one CPU), and back for `kube generate`;
//! `resources` (limits and requests).

use super::native;
use super::walk::{self, Cx, fields, join};
use super::yaml::Node;

/// Suffixes and their factor as (numerator, power of ten or two).
const BINARY: [(&str, u32); 6] = [
    ("Ki", 10),
    ("Mi", 20),
    ("Gi", 30),
    ("Ti", 40),
    ("Pi", 50),
    ("Ei", 60),
];
const DECIMAL: [(&str, u32); 6] = [
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

/// An exact quantity: `mantissa * 10^-scale` units, as integers.
#[derive(Debug, PartialEq, Eq)]
struct Exact {
    /// In thousandths of a unit (a quantity is at most milli-precise here).
    milli: u128,
}

/// Parses a quantity into thousandths of its unit; None if it is not one,
/// is negative, or is finer than a thousandth.
fn parse_milli(s: &str) -> Option<Exact> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The number as digits and a count of decimals.
    let digits: u128 = format!("{int}{frac}").parse().ok()?;
    let decimals = frac.len() as u32;
    // Value in thousandths = digits * factor * 1000 / 10^decimals.
    let (mul, div): (u128, u128) = match suffix {
        "" => (1000, 1),
        "m" => (1, 1),
        _ => {
            if let Some((_, p)) = BINARY.iter().find(|(x, _)| *x == suffix) {
                (1000u128.checked_mul(1u128 << p)?, 1)
            } else if let Some((_, p)) = DECIMAL.iter().find(|(x, _)| *x == suffix) {
                (1000u128.checked_mul(10u128.checked_pow(*p)?)?, 1)
            } else if let Some(e) = suffix.strip_prefix(['e', 'E']) {
                let e: i32 = e.parse().ok()?;
                if e >= 0 {
                    (1000u128.checked_mul(10u128.checked_pow(e as u32)?)?, 1)
                } else {
                    (1000, 10u128.checked_pow(e.unsigned_abs())?)
                }
            } else {
                return None;
            }
        }
    };
    let scaled = digits.checked_mul(mul)?;
    let div = div.checked_mul(10u128.checked_pow(decimals)?)?;
    (scaled % div == 0).then(|| Exact {
        milli: scaled / div,
    })
}

/// A quantity in thousandths of its unit (`250m` is 250, `1Mi` is
/// 1,048,576,000), or None if it is not one.
pub(crate) fn milli(s: &str) -> Option<u128> {
    parse_milli(s).map(|q| q.milli)
}

/// Why a quantity was refused, for the message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum QuantityError {
    /// Not a Kubernetes quantity at all.
    Syntax,
    /// A valid quantity podctl cannot express (a fraction of a byte, a
    /// CPU amount that is not a whole percent).
    Inexact,
    Zero,
    TooLarge,
}

/// A memory quantity in bytes: `128Mi`, `1G`, `1073741824`.
pub(crate) fn bytes(s: &str) -> Result<u64, QuantityError> {
    let q = parse_milli(s).ok_or(QuantityError::Syntax)?;
    if q.milli % 1000 != 0 {
        return Err(QuantityError::Inexact);
    }
    match u64::try_from(q.milli / 1000) {
        Ok(0) => Err(QuantityError::Zero),
        Ok(n) => Ok(n),
        Err(_) => Err(QuantityError::TooLarge),
    }
}

/// The most CPU shares cgroup v1 has (the kubelet's upper bound).
const MAX_SHARES: u128 = 262_144;
/// Millicores that give [`MAX_SHARES`]: no request weighs more.
const MAX_REQUEST_MILLI: u128 = MAX_SHARES * 1000 / 1024;

/// A cpu request as the kubelet turns it into cgroup v2's `cpu.weight`
/// (systemd's `CPUWeight`): millicores to shares (`milli * 1024 / 1000`,
/// at least 2, at most 262,144), then shares to a weight from 1 to 10,000
/// (`1 + (shares - 2) * 9999 / 262142`, as runc and crun convert them).
pub(crate) fn cpu_weight(s: &str) -> Result<u64, QuantityError> {
    let q = parse_milli(s).ok_or(QuantityError::Syntax)?;
    Ok(weight_of_milli(q.milli))
}

fn weight_of_milli(milli: u128) -> u64 {
    let shares = (milli.min(MAX_REQUEST_MILLI) * 1024 / 1000).clamp(2, MAX_SHARES);
    (1 + (shares - 2) * 9999 / (MAX_SHARES - 2)) as u64
}

/// A cpu request the kubelet turns into `weight`, as a quantity: the
/// roundest (whole cores, then tenths...) of those that map to it. Every
/// weight from 1 to 10,000 has one (one millicore more adds at most one to
/// the weight), so [`cpu_weight`] gives it back.
pub(crate) fn request_of_weight(weight: u64) -> String {
    // The first millicore that weighs at least `w`.
    let first = |w: u64| {
        let (mut lo, mut hi) = (0u128, MAX_REQUEST_MILLI + 1);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if weight_of_milli(mid) >= w {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    };
    let (lo, end) = (first(weight), first(weight + 1));
    let milli = [1000, 100, 10, 1]
        .into_iter()
        .map(|step| lo.div_ceil(step) * step)
        .find(|m| *m < end)
        .unwrap_or(lo);
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

/// A CPU limit in percent of one CPU, rounded up to systemd's step of 1 %
/// (10m); true when it was rounded.
fn cpu_limit(s: &str) -> Result<(u64, bool), QuantityError> {
    let q = parse_milli(s).ok_or(QuantityError::Syntax)?;
    let rounded = q.milli % 10 != 0;
    match u64::try_from(q.milli.div_ceil(10)) {
        Ok(0) => Err(QuantityError::Zero),
        Ok(n) if n <= crate::spec::size::MAX_CPU_PERCENT => Ok((n, rounded)),
        _ => Err(QuantityError::TooLarge),
    }
}

/// Bytes as a quantity, in the largest binary unit that divides them.
pub(crate) fn format_bytes(n: u64) -> String {
    for (suffix, p) in BINARY.iter().rev() {
        if n != 0 && n.is_multiple_of(1u64 << p) {
            return format!("{}{suffix}", n >> p);
        }
    }
    n.to_string()
}

/// A percent of one CPU as millicores: 50 -> `500m`, 200 -> `2`.
pub(crate) fn format_cpu(percent: u64) -> String {
    if percent.is_multiple_of(100) {
        (percent / 100).to_string()
    } else {
        format!("{}m", percent * 10)
    }
}

/// A memory quantity as native bytes, or the reason it is refused.
pub(crate) fn memory(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let text = walk::scalar_text(cx, n, path)?;
    match bytes(&text) {
        Ok(b) => Some(b.to_string()),
        Err(e) => {
            cx.error(
                n,
                path,
                quantity_message(&text, e, "a memory quantity, e.g. 128Mi or 1G"),
            );
            None
        }
    }
}

/// A CPU limit as a native percent; one finer than systemd's step of 10m
/// is rounded up, with a note.
pub(crate) fn cpu(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let text = walk::scalar_text(cx, n, path)?;
    match cpu_limit(&text) {
        Ok((p, rounded)) => {
            if rounded {
                cx.warnings.error(
                    n.offset..n.offset,
                    path,
                    format!(
                        "{text:?} rounded up to {} (systemd's CPU quota has steps of 10m)",
                        format_cpu(p)
                    ),
                );
            }
            Some(native::string(&format!("{p}%")))
        }
        Err(e) => {
            cx.error(
                n,
                path,
                quantity_message(&text, e, "a CPU quantity, e.g. 500m or 1.5"),
            );
            None
        }
    }
}

fn quantity_message(text: &str, e: QuantityError, what: &str) -> String {
    use QuantityError as Q;
    match e {
        Q::Syntax => format!("{text:?} is not a Kubernetes quantity (use {what})"),
        Q::Inexact => format!("{text:?} cannot be expressed exactly by podctl (use {what})"),
        Q::Zero => format!("{text:?} is zero; the limit must be more than 0"),
        Q::TooLarge => format!("{text:?} is too large"),
    }
}

/// `resources` as native (key, value, node, the field's path): limits as
/// `memory` and `cpu`, requests as what systemd offers for them (a cpu
/// request as `cpu_weight`, as the kubelet maps it; a memory request as
/// `memory_low`, the memory protected from reclaim).
pub(crate) fn resources<'a>(
    cx: &mut Cx,
    n: &'a Node,
    path: &str,
) -> Vec<(&'static str, String, &'a Node, String)> {
    let mut out = Vec::new();
    let [limits, requests] = fields(cx, n, path, ["limits", "requests"], &["claims"]);
    for (which, node) in [("limits", limits), ("requests", requests)] {
        let Some(node) = node else { continue };
        let p = join(path, which);
        let [mem, cores] = fields(
            cx,
            node,
            &p,
            ["memory", "cpu"],
            &["ephemeral-storage", "hugepages-2Mi", "hugepages-1Gi"],
        );
        let (mem_path, cpu_path) = (join(&p, "memory"), join(&p, "cpu"));
        if which == "limits" {
            let mem = mem.and_then(|m| Some((memory(cx, m, &mem_path)?, m)));
            let cores = cores.and_then(|c| Some((cpu(cx, c, &cpu_path)?, c)));
            out.extend(mem.map(|(v, m)| ("memory", v, m, mem_path)));
            out.extend(cores.map(|(v, c)| ("cpu", v, c, cpu_path)));
        } else {
            let mem = mem.and_then(|m| Some((memory_request(cx, m, &mem_path)?, m)));
            let cores = cores.and_then(|c| Some((cpu_request(cx, c, &cpu_path)?, c)));
            out.extend(mem.map(|(v, m)| ("memory_low", v, m, mem_path)));
            out.extend(cores.map(|(v, c)| ("cpu_weight", v, c, cpu_path)));
        }
    }
    out
}

/// A memory request as native bytes; `0` (nothing protected) as nothing.
fn memory_request(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let text = walk::scalar_text(cx, n, path)?;
    if bytes(&text) == Err(QuantityError::Zero) {
        return None;
    }
    memory(cx, n, path)
}

/// A cpu request as a native weight.
fn cpu_request(cx: &mut Cx, n: &Node, path: &str) -> Option<String> {
    let text = walk::scalar_text(cx, n, path)?;
    match cpu_weight(&text) {
        Ok(w) => Some(w.to_string()),
        Err(e) => {
            cx.error(
                n,
                path,
                quantity_message(&text, e, "a CPU quantity, e.g. 250m or 0.5"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_quantities() {
        assert_eq!(bytes("128Mi"), Ok(128 << 20));
        assert_eq!(bytes("1G"), Ok(1_000_000_000));
        assert_eq!(bytes("1.5Gi"), Ok(3 << 29));
        assert_eq!(bytes("129e6"), Ok(129_000_000));
        assert_eq!(bytes("1024"), Ok(1024));
        assert_eq!(bytes("500m"), Err(QuantityError::Inexact));
        assert_eq!(bytes("0"), Err(QuantityError::Zero));
        for bad in ["", "Mi", "12Q", "-1Mi", "1..2", "1 Mi"] {
            assert_eq!(bytes(bad), Err(QuantityError::Syntax), "{bad}");
        }
        assert_eq!(bytes("99999Ei"), Err(QuantityError::TooLarge));
    }

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpu_limit("500m"), Ok((50, false)));
        assert_eq!(cpu_limit("0.5"), Ok((50, false)));
        assert_eq!(cpu_limit("2"), Ok((200, false)));
        assert_eq!(cpu_limit("1.25"), Ok((125, false)));
        assert_eq!(cpu_limit("125m"), Ok((13, true)), "rounded up");
        assert_eq!(cpu_limit("0m"), Err(QuantityError::Zero));
    }

    #[test]
    fn formatted_quantities_read_back() {
        for n in [512u64 << 20, 1 << 30, 1000, 3 << 29, 7 << 10] {
            assert_eq!(bytes(&format_bytes(n)), Ok(n));
        }
        for p in [50u64, 100, 150, 25, 1] {
            assert_eq!(cpu_limit(&format_cpu(p)), Ok((p, false)));
        }
        assert_eq!(format_bytes(256 << 20), "256Mi");
        assert_eq!(format_cpu(50), "500m");
    }

    /// The kubelet's mapping (`cpu.weight` for a request), and back: the
    /// request `kube generate` writes for each weight gives that weight.
    #[test]
    fn cpu_requests_weigh_as_the_kubelet_has_them() {
        assert_eq!(cpu_weight("0"), Ok(1));
        assert_eq!(cpu_weight("100m"), Ok(4));
        assert_eq!(cpu_weight("1"), Ok(39));
        assert_eq!(cpu_weight("125m"), Ok(5));
        assert_eq!(cpu_weight("256"), Ok(10_000));
        assert_eq!(cpu_weight("1000"), Ok(10_000), "capped");
        for w in 1..=10_000 {
            assert_eq!(cpu_weight(&request_of_weight(w)), Ok(w), "weight {w}");
        }
        assert_eq!(request_of_weight(39), "1");
    }
}
