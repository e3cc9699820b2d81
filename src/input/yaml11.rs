//! What an unquoted YAML value means to Konduktor's reader (PyYAML's
//! `safe_load`, YAML 1.1): `yes` is a boolean, `010` the integer 8,
//! `1.5` a float, `1e3` text. A task field's type is checked against it
//! (Konduktor's schema refuses `num_nodes: "2"` and a label value `43200`),
//! and Konduktor turns env values into text with Python's `str()`, so
//! `FLAG: yes` reaches the pod as `True`.

/// A plain scalar, resolved as PyYAML resolves it.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    /// Beyond `i128` is still an integer to PyYAML: `None` then.
    Int(Option<i128>),
    Float(f64),
    /// Text, or a timestamp (which Konduktor's schema takes for neither
    /// a string nor a number: reported as text that is not text).
    Str,
    Timestamp,
}

impl Resolved {
    /// How a message names this type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Resolved::Null => "null",
            Resolved::Bool(_) => "a boolean",
            Resolved::Int(_) => "an integer",
            Resolved::Float(_) => "a float",
            Resolved::Str => "text",
            Resolved::Timestamp => "a date",
        }
    }
}

/// Resolve an unquoted scalar's text. Quoted scalars are always text.
pub fn resolve(text: &str) -> Resolved {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Resolved::Null;
    }
    if let Some(b) = boolean(text) {
        return Resolved::Bool(b);
    }
    if let Some(i) = integer(text) {
        return Resolved::Int(i);
    }
    if let Some(f) = float(text) {
        return Resolved::Float(f);
    }
    if is_timestamp(text) {
        return Resolved::Timestamp;
    }
    Resolved::Str
}

fn boolean(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn sign(text: &str) -> (i128, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (-1, text.get(1..).unwrap_or_default()),
        Some(b'+') => (1, text.get(1..).unwrap_or_default()),
        _ => (1, text),
    }
}

/// Digits in `radix` with `_` anywhere after the first, as a value.
fn digits(text: &str, radix: u32) -> Option<Option<i128>> {
    if text.is_empty() || !text.chars().all(|c| c == '_' || c.is_digit(radix)) {
        return None;
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return Some(Some(0));
    }
    Some(i128::from_str_radix(&clean, radix).ok())
}

/// PyYAML's int: `0b1010`, `0o`-less octal `017`, decimal, `0x1F`, and
/// base 60 (`1:30`), each signed and with `_` allowed.
fn integer(text: &str) -> Option<Option<i128>> {
    let (s, body) = sign(text);
    let apply = |v: Option<i128>| v.and_then(|v| v.checked_mul(s));
    if let Some(b) = body.strip_prefix("0b") {
        return digits(b, 2).map(apply);
    }
    if let Some(h) = body.strip_prefix("0x") {
        return digits(h, 16).map(apply);
    }
    if body == "0" {
        return Some(Some(0));
    }
    if let Some(o) = body.strip_prefix('0') {
        return digits(o, 8).map(apply);
    }
    if body.contains(':') {
        return sexagesimal(body).map(|v| v.map(|v| v * s));
    }
    if body.starts_with(|c: char| c.is_ascii_digit() && c != '0') {
        return digits(body, 10).map(apply);
    }
    None
}

/// `[1-9][0-9_]*(:[0-5]?[0-9])+`
fn sexagesimal(body: &str) -> Option<Option<i128>> {
    let mut parts = body.split(':');
    let first = parts.next()?;
    if !first.starts_with(|c: char| c.is_ascii_digit() && c != '0') {
        return None;
    }
    let mut value = digits(first, 10)?;
    for p in parts {
        let ok = (1..=2).contains(&p.len())
            && p.chars().all(|c| c.is_ascii_digit())
            && (p.len() == 1 || p.starts_with(['0', '1', '2', '3', '4', '5']));
        if !ok {
            return None;
        }
        let n: i128 = p.parse().ok()?;
        value = value
            .and_then(|v| v.checked_mul(60))
            .and_then(|v| v.checked_add(n));
    }
    Some(value)
}

/// PyYAML's float: a `.` is required (`1e3` is text), an exponent needs
/// its sign, plus `.inf` and `.nan`.
fn float(text: &str) -> Option<f64> {
    let (s, body) = sign(text);
    let neg = s < 0;
    let signed = |v: f64| if neg { -v } else { v };
    match body {
        ".inf" | ".Inf" | ".INF" => return Some(signed(f64::INFINITY)),
        ".nan" | ".NaN" | ".NAN" if text == body => return Some(f64::NAN),
        _ => {}
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (body.get(..i)?, Some(body.get(i + 1..)?)),
        None => (body, None),
    };
    if let Some(e) = exponent {
        let ok = e.len() >= 2
            && e.starts_with(['+', '-'])
            && e.get(1..)
                .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return None;
        }
    }
    let (whole, frac) = mantissa.split_once('.')?;
    let whole_ok = whole.is_empty()
        || (whole.starts_with(|c: char| c.is_ascii_digit())
            && whole
                .chars()
                .all(|c| c.is_ascii_digit() || c == '_' || c == ':'));
    let frac_ok = frac.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !whole_ok
        || !frac_ok
        || (whole.is_empty() && !frac.starts_with(|c: char| c.is_ascii_digit()))
    {
        return None;
    }
    if whole.contains(':') {
        // Base 60 with a fraction: rare enough to read as its value only.
        let int = sexagesimal(whole)??;
        let f: f64 = format!("0.{}", frac.replace('_', "")).parse().ok()?;
        return Some(signed(int as f64 + f));
    }
    let clean: String = format!("{whole}.{frac}").replace('_', "");
    let clean = match exponent {
        Some(e) => format!("{clean}e{e}"),
        None => clean,
    };
    let clean = if clean.starts_with('.') {
        format!("0{clean}")
    } else {
        clean
    };
    clean.parse::<f64>().ok().map(signed)
}

/// `2002-12-14`, or with a time: PyYAML makes a date of it.
fn is_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() >= 8
        && b.get(..4).is_some_and(|y| y.iter().all(u8::is_ascii_digit))
        && b.get(4) == Some(&b'-')
        && text
            .get(5..)
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(m, rest)| {
                (1..=2).contains(&m.len())
                    && m.chars().all(|c| c.is_ascii_digit())
                    && rest.chars().take_while(char::is_ascii_digit).count() >= 1
            })
}

/// Python's `repr` of a float (what `str()` gives): shortest digits,
/// `1.0` for whole values, an exponent below 1e-4 and from 1e16.
pub fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{v:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..16).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let plain = format!("{v}");
    if plain.contains('.') {
        plain
    } else {
        format!("{plain}.0")
    }
}

/// What Python's `str()` makes of an unquoted value (`None` for null).
pub fn python_str(text: &str) -> Option<String> {
    match resolve(text) {
        Resolved::Null => None,
        Resolved::Bool(true) => Some("True".into()),
        Resolved::Bool(false) => Some("False".into()),
        Resolved::Int(Some(i)) => Some(i.to_string()),
        Resolved::Float(f) => Some(python_float(f)),
        Resolved::Int(None) | Resolved::Str | Resolved::Timestamp => Some(text.to_string()),
    }
}

#[cfg(test)]
#[path = "yaml11_tests.rs"]
mod tests;
