//! Typed access to the spanned TOML tree, reporting unknown keys and wrong
//! types to the [`Sink`] instead of stopping.

use super::diag::{Sink, join};
use super::names::suggest;
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// A string value with where it was written.
pub(crate) struct Str<'a> {
    pub text: &'a str,
    pub span: Range<usize>,
}

/// Picks the `allowed` keys' values out of a table (in the order of
/// `allowed`) and reports every other key, with a suggestion when one is close.
pub(crate) fn fields<'a, 'i, const N: usize>(
    sink: &mut Sink,
    table: &'a DeTable<'i>,
    path: &str,
    allowed: [&'static str; N],
) -> [Option<&'a Value<'i>>; N] {
    let mut found = [None; N];
    for (key, value) in table.iter() {
        match allowed.iter().position(|a| *a == key.get_ref().as_ref()) {
            Some(i) => found[i] = Some(value),
            None => {
                let message = match suggest(key.get_ref(), &allowed) {
                    Some(s) => format!("unknown key, did you mean `{s}`?"),
                    None => format!("unknown key (allowed: {})", allowed.join(", ")),
                };
                sink.error(key.span(), &join(path, key.get_ref()), message);
            }
        }
    }
    found
}

pub(crate) fn table<'a, 'i>(
    sink: &mut Sink,
    v: &'a Value<'i>,
    path: &str,
) -> Option<&'a DeTable<'i>> {
    let t = v.get_ref().as_table();
    if t.is_none() {
        sink.error(v.span(), path, "expected a table");
    }
    t
}

pub(crate) fn string<'a>(sink: &mut Sink, v: &'a Value<'_>, path: &str) -> Option<Str<'a>> {
    match v.get_ref().as_str() {
        Some(text) => Some(Str {
            text,
            span: v.span(),
        }),
        None => {
            sink.error(v.span(), path, "expected a string");
            None
        }
    }
}

pub(crate) fn boolean(sink: &mut Sink, v: &Value<'_>, path: &str) -> Option<bool> {
    let b = v.get_ref().as_bool();
    if b.is_none() {
        sink.error(v.span(), path, "expected true or false");
    }
    b
}

/// An array of strings; a wrong element is reported at that element.
pub(crate) fn strings<'a>(sink: &mut Sink, v: &'a Value<'_>, path: &str) -> Option<Vec<Str<'a>>> {
    const EXPECTED: &str = "expected an array of strings";
    let Some(items) = v.get_ref().as_array() else {
        sink.error(v.span(), path, EXPECTED);
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match item.get_ref().as_str() {
            Some(text) => out.push(Str {
                text,
                span: item.span(),
            }),
            None => {
                sink.error(item.span(), path, EXPECTED);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// A TOML integer as i64 (`None` when it does not fit, which TOML forbids anyway).
pub(crate) fn integer(v: &DeValue<'_>) -> Option<i64> {
    let i = v.as_integer()?;
    i64::from_str_radix(i.as_str(), i.radix()).ok()
}

/// A TOML float as f64.
pub(crate) fn float(v: &DeValue<'_>) -> Option<f64> {
    v.as_float()?.as_str().parse().ok()
}
