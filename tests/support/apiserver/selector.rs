//! Label selectors as the API server parses them (apimachinery
//! `pkg/labels/selector.go`): `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
//! `k notin (a,b)`, `k`, `!k`, joined by commas. A bad selector is a 400
//! BadRequest whose message names the token found and what was expected, as
//! in the `list-bad-selector` fixture (`tests/fixtures/apiserver/`, a copy
//! of the shared kube-apiserver v1.36.2 recordings).

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    key: String,
    op: Op,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selector(Vec<Requirement>);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Eq,
    DoubleEq,
    NotEq,
    Bang,
    In,
    NotIn,
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Ident(s) => s.clone(),
            Token::Eq => "=".into(),
            Token::DoubleEq => "==".into(),
            Token::NotEq => "!=".into(),
            Token::Bang => "!".into(),
            Token::In => "in".into(),
            Token::NotIn => "notin".into(),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
            Token::End => "".into(),
        }
    }
}

fn lex(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/');
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            ' ' | '\t' => i += 1,
            '=' if next == Some('=') => {
                out.push(Token::DoubleEq);
                i += 2
            }
            '=' => {
                out.push(Token::Eq);
                i += 1
            }
            '!' if next == Some('=') => {
                out.push(Token::NotEq);
                i += 2
            }
            '!' => {
                out.push(Token::Bang);
                i += 1
            }
            '(' => {
                out.push(Token::Open);
                i += 1
            }
            ')' => {
                out.push(Token::Close);
                i += 1
            }
            ',' => {
                out.push(Token::Comma);
                i += 1
            }
            c if ident_char(c) => {
                let start = i;
                while i < chars.len() && ident_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                out.push(match word.as_str() {
                    "in" => Token::In,
                    "notin" => Token::NotIn,
                    _ => Token::Ident(word),
                });
            }
            other => {
                return Err(format!(
                    "found '{other}', expected: !, identifier, or 'end of string'"
                ));
            }
        }
    }
    out.push(Token::End);
    Ok(out)
}

fn found(tok: &Token, expected: &str) -> String {
    match tok {
        Token::End => format!("found '', expected: {expected}"),
        t => format!("found '{}', expected: {expected}", t.text()),
    }
}

pub fn parse(input: &str) -> Result<Selector, String> {
    let tokens = lex(input)?;
    let mut pos = 0;
    let mut reqs = Vec::new();
    if tokens[0] == Token::End {
        return Ok(Selector::default());
    }
    loop {
        let (negated, key) = match &tokens[pos] {
            Token::Bang => match &tokens[pos + 1] {
                Token::Ident(k) => {
                    pos += 2;
                    (true, k.clone())
                }
                t => return Err(found(t, "identifier after '!'")),
            },
            Token::Ident(k) => {
                pos += 1;
                (false, k.clone())
            }
            t => return Err(found(t, "!, identifier, or 'end of string'")),
        };
        validate_key(&key)?;
        let op = if negated {
            Op::DoesNotExist
        } else {
            match &tokens[pos] {
                Token::Comma | Token::End => Op::Exists,
                Token::Eq | Token::DoubleEq | Token::NotEq => {
                    let eq = tokens[pos] != Token::NotEq;
                    pos += 1;
                    let value = match &tokens[pos] {
                        Token::Ident(v) => {
                            pos += 1;
                            v.clone()
                        }
                        Token::Comma | Token::End => String::new(),
                        t => return Err(found(t, "identifier")),
                    };
                    validate_value(&value)?;
                    if eq {
                        Op::Equals(value)
                    } else {
                        Op::NotEquals(value)
                    }
                }
                Token::In | Token::NotIn => {
                    let is_in = tokens[pos] == Token::In;
                    pos += 1;
                    if tokens[pos] != Token::Open {
                        return Err(found(&tokens[pos], "'('"));
                    }
                    pos += 1;
                    let mut values = Vec::new();
                    loop {
                        match &tokens[pos] {
                            Token::Ident(v) => {
                                validate_value(v)?;
                                values.push(v.clone());
                                pos += 1;
                            }
                            Token::Close if values.is_empty() => {}
                            t => return Err(found(t, "identifier")),
                        }
                        match &tokens[pos] {
                            Token::Comma => pos += 1,
                            Token::Close => {
                                pos += 1;
                                break;
                            }
                            t => return Err(found(t, "',' or ')'")),
                        }
                    }
                    if is_in {
                        Op::In(values)
                    } else {
                        Op::NotIn(values)
                    }
                }
                t => return Err(found(t, "'=', '!=', '==', 'in', notin'")),
            }
        };
        reqs.push(Requirement { key, op });
        match &tokens[pos] {
            Token::End => break,
            Token::Comma => pos += 1,
            t => return Err(found(t, "',' or 'end of string'")),
        }
    }
    Ok(Selector(reqs))
}

fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = key
        .rsplit_once('/')
        .map_or((None, key), |(p, n)| (Some(p), n));
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
    });
    if name_ok && prefix_ok {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: key: Invalid value: \"{key}\": name part must consist of alphanumeric characters, '-', '_' or '.'"
        ))
    }
}

pub fn label_value_ok(v: &str) -> bool {
    v.is_empty()
        || (v.len() <= 63
            && v.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && v.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
}

fn validate_value(v: &str) -> Result<(), String> {
    if label_value_ok(v) {
        Ok(())
    } else {
        Err(format!(
            "unable to parse requirement: values[0]: Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'"
        ))
    }
}

impl Selector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| {
            let v = labels.get(&r.key);
            match &r.op {
                Op::Equals(x) => v == Some(x),
                Op::NotEquals(x) => v != Some(x),
                Op::In(xs) => v.is_some_and(|v| xs.contains(v)),
                Op::NotIn(xs) => v.is_none_or(|v| !xs.contains(v)),
                Op::Exists => v.is_some(),
                Op::DoesNotExist => v.is_none(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_match_like_the_api_server() {
        let l = labels(&[("parent", "konduktor"), ("trainy.ai/secret-kind", "env")]);
        for (sel, want) in [
            ("parent=konduktor", true),
            ("parent==konduktor", true),
            ("parent!=konduktor", false),
            (
                "trainy.ai/secret-kind in (env,default),parent=konduktor",
                true,
            ),
            ("trainy.ai/secret-kind notin (env)", false),
            ("parent", true),
            ("!parent", false),
            ("!missing", true),
            ("missing!=x", true),
            ("", true),
        ] {
            let parsed = parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(parsed.matches(&l), want, "{sel}");
        }
    }

    #[test]
    fn bad_selector_message_matches_fixture() {
        assert_eq!(
            parse("==bad"),
            Err("found '==', expected: !, identifier, or 'end of string'".to_string())
        );
        assert!(parse("a in b").is_err());
        assert!(parse("a=b c").is_err());
    }
}
