//! JSON templates. A placeholder may stand inside a string (`"Call from %ani%"`: the value is
//! escaped as string content) or as a whole value (`"duration": %dialed_time%`: the value as its
//! JSON type). The format is read with serde_json after each whole-value placeholder is turned
//! into a marked string, so checking and rendering work on the parsed document, and the body is
//! written by serde_json: data can never change the document's structure.

use super::{placeholder_at, placeholders, substitute, typed, Checked};
use serde_json::{Map, Value};

/// Marks a string that stood for a whole-value placeholder (a private-use character no
/// format may contain).
const MARK: char = '\u{E000}';

/// The format with whole-value placeholders as marked strings, then parsed.
fn parse(format: &str) -> Result<Value, String> {
    if format.contains(MARK) {
        return Err("format: contains U+E000, which Ringhook reserves".into());
    }
    let mut out = String::with_capacity(format.len() + 16);
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if c == '%' {
            if let Some((len, name)) = placeholder_at(rest) {
                out.push('"');
                out.push(MARK);
                out.push_str(name);
                out.push('"');
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    serde_json::from_str(&out).map_err(|e| format!("format: not well-formed JSON: {e}"))
}

fn whole(s: &str) -> Option<&str> {
    s.strip_prefix(MARK)
}

fn join(path: &str, seg: &str) -> String {
    if path.is_empty() {
        seg.to_string()
    } else {
        format!("{path}.{seg}")
    }
}

/// The fields (dot paths of the values, array items by index) and the tokens of a format.
pub fn check(format: &str) -> Result<Checked, String> {
    fn walk(v: &Value, path: String, c: &mut Checked) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, v) in m {
                    c.tokens.extend(placeholders(k).into_iter().map(|(_, n)| n.to_string()));
                    walk(v, join(&path, k), c);
                }
            }
            Value::Array(a) if !a.is_empty() => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, join(&path, &i.to_string()), c);
                }
            }
            Value::String(s) => {
                match whole(s) {
                    Some(name) => c.tokens.push(name.to_string()),
                    None => c.tokens.extend(placeholders(s).into_iter().map(|(_, n)| n.to_string())),
                }
                c.fields.push(path);
            }
            _ => c.fields.push(path),
        }
    }
    let doc = parse(format)?;
    let mut c = Checked { fields: vec![], tokens: vec![] };
    walk(&doc, String::new(), &mut c);
    c.fields.retain(|f| !f.is_empty());
    c.tokens.sort();
    c.tokens.dedup();
    Ok(c)
}

/// The body for `data`; `mapping` replaces the value of each named field by a token.
pub fn render(format: &str, mapping: &[(String, String)], data: &Map<String, Value>) -> Result<String, String> {
    fn conv(v: Value, path: String, mapping: &[(String, String)], data: &Map<String, Value>) -> Value {
        if let Some((_, token)) = mapping.iter().find(|(f, _)| *f == path) {
            return typed(token, data);
        }
        match v {
            Value::String(s) => match whole(&s) {
                Some(name) => typed(name, data),
                None => Value::String(substitute(&s, data)),
            },
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| {
                        let p = join(&path, &k);
                        (substitute(&k, data), conv(v, p, mapping, data))
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(
                a.into_iter().enumerate().map(|(i, v)| conv(v, join(&path, &i.to_string()), mapping, data)).collect(),
            ),
            other => other,
        }
    }
    let doc = conv(parse(format)?, String::new(), mapping, data);
    let body = serde_json::to_string(&doc).map_err(|e| e.to_string())?;
    // Valid JSON either way, but U+2028/U+2029 end a line in JavaScript: escaped, as most
    // receivers' parsers expect.
    Ok(body.replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn placeholders_in_strings_are_escaped_and_whole_values_typed() {
        let f = r#"{"who": "Call from %ani% (%ani_full_name%)", "secs": %dialed_time%, "tags": %tags%,
            "none": %ani_city%, "pct": "100%", "list": [%ring_count%, "%ani%"]}"#;
        let d = data(json!({"ani": "777", "ani_full_name": "Fred \"K\" \\ \n\u{2028}</x>", "dialed_time": "36",
            "tags": {"Region": "south"}, "ring_count": 4}));
        let body = render(f, &[], &d).unwrap();
        assert!(body.contains("\\u2028") && !body.contains('\u{2028}'), "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["who"], json!("Call from 777 (Fred \"K\" \\ \n\u{2028}</x>)"));
        assert_eq!(v["secs"], json!(36));
        assert_eq!(v["tags"], json!({"Region": "south"}));
        assert_eq!(v["none"], Value::Null);
        assert_eq!(v["pct"], json!("100%"));
        assert_eq!(v["list"], json!([4, "777"]));
    }

    #[test]
    fn fields_are_extracted_and_mapped() {
        let f = r#"{"first": "John", "last": "Doe", "contact": {"email": "j@example.com", "phones": ["1"]}}"#;
        let c = check(f).unwrap();
        assert_eq!(c.fields, ["first", "last", "contact.email", "contact.phones.0"]);
        assert!(c.tokens.is_empty());
        let mapping =
            vec![("first".to_string(), "ani_first_name".to_string()), ("contact.phones.0".into(), "ani".into())];
        let body = render(f, &mapping, &data(json!({"ani_first_name": "Freddy", "ani": "7776734736"}))).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"first": "Freddy", "last": "Doe", "contact": {"email": "j@example.com", "phones": ["7776734736"]}})
        );
    }

    #[test]
    fn malformed_formats_are_refused_with_where() {
        let e = check(r#"{"a": %ani%,}"#).unwrap_err();
        assert!(e.starts_with("format: not well-formed JSON") && e.contains("line 1"), "{e}");
        assert!(check(r#"{"a": %Ani%}"#).is_err(), "a capitalised name is not a placeholder");
        assert!(check("{\"a\": \"\u{E000}\"}").is_err());
    }
}
