//! The shared text form of every component spec: `name:key=value,key=value`.
//!
//! Losses (`acl-direct:tau=0.5,p=4,eps=0`), data sets (`gauss:k=4,d=8`), encoders
//! (`mlp:hidden=64,out=16`), optimisers (`adam:lr=0.001`) and augmentations all use this one
//! grammar, so the CLI, the URL hash and exported files read and write the same strings.
//!
//! [`SpecText::parse`] splits the text; [`Params`] hands out typed values with range checks and
//! reports unknown keys with the list of allowed ones.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// An error in a spec's text, with a message meant for a person.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl SpecError {
    /// Builds an error from anything printable.
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// The largest scale (a distance, a standard deviation) a data or augmentation spec accepts:
/// far beyond any useful value, and small enough that every generated value stays finite in
/// `f32` (1e308 would overflow to infinity and look like a learning-rate divergence).
pub const MAX_SCALE: f64 = 1e6;

/// The most characters of a user's input an error message repeats ([`clip`]).
pub const MAX_ECHO_CHARS: usize = 100;

/// `text` as an error message may echo it: at most [`MAX_ECHO_CHARS`] characters, control
/// characters (line breaks, escapes) shown as `\u{..}`-free spaces, and a longer text cut with
/// `… (N characters)`. Every parser's message quotes user input through this one helper, so a
/// 100 KB spec or a whole CSV passed as a config never floods a terminal or the page.
pub fn clip(text: &str) -> String {
    let n = text.chars().count();
    let shown: String = text
        .chars()
        .take(MAX_ECHO_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if n > MAX_ECHO_CHARS {
        format!("{shown}… ({n} characters)")
    } else {
        shown
    }
}

/// Text a user gave as bytes (a config file, a CSV): UTF-8, with a leading byte-order mark
/// accepted and dropped. A byte that is not UTF-8 is an error giving its line, column and byte
/// offset (the first such byte).
pub fn decode_utf8(bytes: &[u8]) -> Result<&str, SpecError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let before = &bytes[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        // Columns count characters: the line's start up to `at` is valid UTF-8.
        let col = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        SpecError::new(format!(
            "line {line}, column {col} (byte {at}): byte 0x{:02X} is not UTF-8 text",
            bytes[at]
        ))
    })
}

/// `name:key=value,...` split into its parts (keys in order of appearance).
#[derive(Debug, Clone, PartialEq)]
pub struct SpecText {
    /// The part before the colon, lower-cased and trimmed.
    pub name: String,
    /// The key/value pairs after the colon.
    pub pairs: Vec<(String, String)>,
}

impl SpecText {
    /// Splits `text` into a name and key/value pairs.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SpecError::new("empty spec"));
        }
        let (name, rest) = match text.split_once(':') {
            Some((n, r)) => (n.trim(), r.trim()),
            None => (text, ""),
        };
        if name.is_empty() {
            return Err(SpecError::new(format!(
                "missing name in spec '{}'",
                clip(text)
            )));
        }
        let mut pairs = Vec::new();
        if !rest.is_empty() {
            for part in rest.split(',') {
                let part = part.trim();
                if part.is_empty() {
                    continue;
                }
                let Some((k, v)) = part.split_once('=') else {
                    return Err(SpecError::new(format!(
                        "'{}' in spec '{}' is not of the form key=value",
                        clip(part),
                        clip(text)
                    )));
                };
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_string());
                if k.is_empty() || v.is_empty() {
                    return Err(SpecError::new(format!(
                        "'{}' in spec '{}' needs both a key and a value",
                        clip(part),
                        clip(text)
                    )));
                }
                if pairs.iter().any(|(pk, _)| *pk == k) {
                    return Err(SpecError::new(format!(
                        "key '{}' given twice in '{}'",
                        clip(&k),
                        clip(text)
                    )));
                }
                pairs.push((k, v));
            }
        }
        Ok(Self {
            name: name.to_ascii_lowercase(),
            pairs,
        })
    }

    /// Typed access to the pairs; `allowed` lists every key this spec's name accepts.
    pub fn params(&self, allowed: &[&'static str]) -> Result<Params, SpecError> {
        for (k, _) in &self.pairs {
            if !allowed.contains(&k.as_str()) {
                let list = if allowed.is_empty() {
                    "it takes no parameters".to_string()
                } else {
                    format!("allowed: {}", allowed.join(", "))
                };
                return Err(SpecError::new(format!(
                    "unknown parameter '{}' for '{}' ({list})",
                    clip(k),
                    clip(&self.name)
                )));
            }
        }
        Ok(Params {
            name: self.name.clone(),
            map: self.pairs.iter().cloned().collect(),
        })
    }
}

/// Typed, range-checked access to a spec's parameters.
#[derive(Debug, Clone)]
pub struct Params {
    name: String,
    map: BTreeMap<String, String>,
}

/// The admissible range of a numeric parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// Any finite value.
    Any,
    /// x > lo.
    Above(f64),
    /// x ≥ lo.
    AtLeast(f64),
    /// lo ≤ x ≤ hi.
    Within(f64, f64),
    /// lo < x ≤ hi.
    AboveUpTo(f64, f64),
}

impl Range {
    /// Whether `x` is admissible.
    pub fn check_value(self, x: f64) -> bool {
        self.check(x)
    }

    fn check(self, x: f64) -> bool {
        x.is_finite()
            && match self {
                Range::Any => true,
                Range::Above(lo) => x > lo,
                Range::AtLeast(lo) => x >= lo,
                Range::Within(lo, hi) => x >= lo && x <= hi,
                Range::AboveUpTo(lo, hi) => x > lo && x <= hi,
            }
    }

    /// A human-readable form, e.g. "> 0".
    pub fn describe(self) -> String {
        match self {
            Range::Any => "any finite number".into(),
            Range::Above(lo) => format!("> {lo}"),
            Range::AtLeast(lo) => format!(">= {lo}"),
            Range::Within(lo, hi) => format!("between {lo} and {hi}"),
            Range::AboveUpTo(lo, hi) => format!("> {lo} and <= {hi}"),
        }
    }
}

impl Params {
    /// A float parameter with a default, checked against `range`.
    pub fn f64(&self, key: &str, default: f64, range: Range) -> Result<f64, SpecError> {
        let x = self.number(key, default)?;
        if !range.check(x) {
            return Err(SpecError::new(format!(
                "parameter '{key}' of '{}' must be {}, got {x}",
                self.name,
                range.describe()
            )));
        }
        Ok(x)
    }

    /// A float parameter with a default, not yet range-checked (a typed spec checks it, e.g.
    /// [`crate::loss::LossSpec::check`]).
    pub fn number(&self, key: &str, default: f64) -> Result<f64, SpecError> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v.parse::<f64>().map_err(|_| {
                SpecError::new(format!(
                    "parameter '{key}' of '{}' must be a number, got '{cv}'",
                    self.name,
                    cv = clip(v)
                ))
            }),
        }
    }

    /// An integer parameter with a default, within `lo..=hi`.
    pub fn usize(
        &self,
        key: &str,
        default: usize,
        lo: usize,
        hi: usize,
    ) -> Result<usize, SpecError> {
        let x = match self.map.get(key) {
            None => default,
            Some(v) => v.parse::<usize>().map_err(|_| {
                SpecError::new(format!(
                    "parameter '{key}' of '{}' must be a whole number, got '{cv}'",
                    self.name,
                    cv = clip(v)
                ))
            })?,
        };
        if !(lo..=hi).contains(&x) {
            return Err(SpecError::new(format!(
                "parameter '{key}' of '{}' must be between {lo} and {hi}, got {x}",
                self.name
            )));
        }
        Ok(x)
    }

    /// A boolean parameter (`true/false/1/0/yes/no/on/off`).
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, SpecError> {
        match self.map.get(key).map(|s| s.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) => match v.as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(SpecError::new(format!(
                    "parameter '{key}' of '{}' must be true or false, got '{cv}'",
                    self.name,
                    cv = clip(&v)
                ))),
            },
        }
    }

    /// A string parameter restricted to `choices`.
    pub fn choice(
        &self,
        key: &str,
        default: &'static str,
        choices: &[&'static str],
    ) -> Result<&'static str, SpecError> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(v))
                .copied()
                .ok_or_else(|| {
                    SpecError::new(format!(
                        "parameter '{key}' of '{}' must be one of {}, got '{cv}'",
                        self.name,
                        choices.join(", "),
                        cv = clip(v)
                    ))
                }),
        }
    }

    /// A list of whole numbers separated by `x` or `/` (e.g. `width=64x64`).
    pub fn usize_list(
        &self,
        key: &str,
        default: &[usize],
        lo: usize,
        hi: usize,
    ) -> Result<Vec<usize>, SpecError> {
        let Some(v) = self.map.get(key) else {
            return Ok(default.to_vec());
        };
        v.split(['x', '/'])
            .map(|p| {
                p.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|x| (lo..=hi).contains(x))
                    .ok_or_else(|| {
                        SpecError::new(format!(
                            "parameter '{key}' of '{}' must be whole numbers between {lo} and {hi} separated by 'x', got '{cv}'",
                            self.name, cv = clip(v)))
                    })
            })
            .collect()
    }
}

/// Writes `name:key=value,...` (omitting the colon when there are no pairs).
pub fn format_spec(name: &str, pairs: &[(&str, String)]) -> String {
    let mut s = name.to_string();
    for (i, (k, v)) in pairs.iter().enumerate() {
        s.push(if i == 0 { ':' } else { ',' });
        let _ = write!(s, "{k}={v}");
    }
    s
}

/// Formats a float compactly and exactly enough to round-trip (`0.5`, `1e-5`, `4`).
pub fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x}");
        let e = format!("{x:e}");
        if e.len() < s.len() { e } else { s }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_name_and_pairs() {
        let s = SpecText::parse(" ACL-Direct: tau=0.5, p=4 ,eps=0").unwrap();
        assert_eq!(s.name, "acl-direct");
        assert_eq!(s.pairs.len(), 3);
        let p = s.params(&["tau", "p", "eps"]).unwrap();
        assert_eq!(p.f64("tau", 1.0, Range::Above(0.0)).unwrap(), 0.5);
        assert_eq!(p.f64("p", 2.0, Range::Above(0.0)).unwrap(), 4.0);
        assert_eq!(p.f64("k", 3.0, Range::Above(0.0)).unwrap(), 3.0);
    }

    #[test]
    fn rejects_unknown_keys_with_allowed_list() {
        let s = SpecText::parse("infonce:tau=0.5,foo=1").unwrap();
        let e = s.params(&["tau", "eps"]).unwrap_err();
        assert!(e.0.contains("foo") && e.0.contains("tau, eps"), "{e}");
    }

    #[test]
    fn rejects_out_of_range_and_garbage() {
        let p = SpecText::parse("x:tau=-1,n=abc")
            .unwrap()
            .params(&["tau", "n"])
            .unwrap();
        assert!(
            p.f64("tau", 1.0, Range::Above(0.0))
                .unwrap_err()
                .0
                .contains("> 0")
        );
        assert!(p.usize("n", 1, 0, 5).is_err());
        assert!(SpecText::parse("x:tau").is_err());
        assert!(SpecText::parse("x:tau=1,tau=2").is_err());
        assert!(SpecText::parse("").is_err());
        let nan = SpecText::parse("x:tau=NaN")
            .unwrap()
            .params(&["tau"])
            .unwrap();
        assert!(nan.f64("tau", 1.0, Range::Any).is_err());
    }

    #[test]
    fn numbers_round_trip_through_text() {
        for x in [0.5, 4.0, 1e-5, 0.001, 123.25, 3e-7, 0.1] {
            assert_eq!(fmt_num(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(
            format_spec("a", &[("x", "1".into()), ("y", "2".into())]),
            "a:x=1,y=2"
        );
        assert_eq!(format_spec("tuplet", &[]), "tuplet");
    }
}
