//! Body templates: a webhook's body written in the receiver's own format (JSON or XML), with the
//! data of the delivery placed by `%token%` placeholders or by mapping the fields of an example
//! document to tokens (the call-tracking seed's template wizard). The tokens are the catalogue
//! of [`tokens`].
//!
//! A template is checked on save (well-formed once its tokens are in place, every token known,
//! the mapping naming extracted fields and known tokens), rendered from the delivery's data at
//! each attempt so that nothing in the data can break the body (values are escaped, typed or
//! dropped as the format requires), and the rendered body is parsed again before it is sent.

pub mod json;
pub mod store;
pub mod tokens;
pub mod xml;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokens::Kind;
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TemplateType {
    Json,
    Xml,
}

impl TemplateType {
    pub fn content_type(self) -> &'static str {
        match self {
            TemplateType::Json => "application/json",
            TemplateType::Xml => "application/xml",
        }
    }
}

/// Who may use a template: every location of the tenant, or one location.
pub const GROUP_TENANT: &str = "tenant";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    pub id: String,
    pub name: String,
    /// [`GROUP_TENANT`] or a location id.
    pub group: String,
    #[serde(rename = "type")]
    pub kind: TemplateType,
    pub format: String,
    /// Extracted field → token name (without the `%`).
    #[serde(default)]
    pub mapping: Map<String, Value>,
    /// The fields extracted from the format on save (JSON: dot paths of its values; XML: dot
    /// paths of elements with text, `@name` for attributes).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Every token the template uses (placed or mapped).
    #[serde(default)]
    pub tokens: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// What checking a format found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub fields: Vec<String>,
    pub tokens: Vec<String>,
}

/// Checks a format and its mapping; the error names the place (`format: line 3 …`,
/// `mapping.first: …`).
pub fn check(kind: TemplateType, format: &str, mapping: &Map<String, Value>) -> Result<Checked, String> {
    let found = match kind {
        TemplateType::Json => json::check(format)?,
        TemplateType::Xml => xml::check(format)?,
    };
    for t in &found.tokens {
        tokens::placeable(t).map_err(|e| format!("format: {e}"))?;
    }
    let mut used = found.tokens.clone();
    for (field, token) in mapping {
        let token = token.as_str().map(token_name).ok_or_else(|| format!("mapping.{field}: must be a token name"))?;
        if !found.fields.iter().any(|f| f == field) {
            return Err(format!(
                "mapping.{field}: not a field of the format (its fields: {})",
                if found.fields.is_empty() { "none".to_string() } else { found.fields.join(", ") }
            ));
        }
        tokens::placeable(token).map_err(|e| format!("mapping.{field}: {e}"))?;
        used.push(token.to_string());
    }
    used.sort();
    used.dedup();
    Ok(Checked { fields: found.fields, tokens: used })
}

/// The body of `template` for `data` (token name → value), parsed again before it is returned:
/// an error means the body must not be sent.
pub fn render(template: &Template, data: &Map<String, Value>) -> Result<String, String> {
    let mapping: Vec<(String, String)> = template
        .mapping
        .iter()
        .filter_map(|(f, t)| t.as_str().map(|t| (f.clone(), token_name(t).to_string())))
        .collect();
    let body = match template.kind {
        TemplateType::Json => json::render(&template.format, &mapping, data)?,
        TemplateType::Xml => xml::render(&template.format, &mapping, data)?,
    };
    let reparsed = match template.kind {
        TemplateType::Json => {
            serde_json::from_str::<serde::de::IgnoredAny>(&body).map(|_| ()).map_err(|e| e.to_string())
        }
        TemplateType::Xml => xml::check(&body).map(|_| ()),
    };
    reparsed.map_err(|e| format!("the rendered body is not well-formed {}: {e}", template.kind.content_type()))?;
    Ok(body)
}

/// A mapping's token, with or without its `%`s.
fn token_name(t: &str) -> &str {
    let t = t.trim();
    t.strip_prefix('%').and_then(|t| t.strip_suffix('%')).unwrap_or(t)
}

/// The `%token%` placeholders of `s`: (byte range, name). A name starts with a letter and has
/// letters, digits and `_` (so `100%` and `%20` are plain text).
pub fn placeholders(s: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = s[i..].find('%') {
        let start = i + at;
        match placeholder_at(&s[start..]) {
            Some((len, name)) => {
                out.push((start..start + len, name));
                i = start + len;
            }
            None => i = start + 1,
        }
    }
    out
}

/// The placeholder `s` starts with: (its length, the name).
pub fn placeholder_at(s: &str) -> Option<(usize, &str)> {
    let b = s.as_bytes();
    if b.first() != Some(&b'%') || !b.get(1).is_some_and(u8::is_ascii_lowercase) {
        return None;
    }
    let end = 1 + b[1..].iter().position(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_'))?;
    (b[end] == b'%').then(|| (end + 1, &s[1..end]))
}

/// The value as text inside a longer string: strings as they are, numbers and booleans written
/// out, nested values as compact JSON, nothing for a missing value.
pub fn text_of(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `s` with each placeholder replaced by its token's text.
pub fn substitute(s: &str, data: &Map<String, Value>) -> String {
    let found = placeholders(s);
    if found.is_empty() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (range, name) in found {
        out.push_str(&s[last..range.start]);
        out.push_str(&text_of(data.get(name)));
        last = range.end;
    }
    out.push_str(&s[last..]);
    out
}

/// A token as a whole value: text as a string, numbers as numbers when they read as one,
/// nested tokens as they are, `null` when the call has no value.
pub fn typed(name: &str, data: &Map<String, Value>) -> Value {
    let kind = tokens::find(name).map(|t| t.kind).unwrap_or(Kind::Text);
    match (data.get(name), kind) {
        (None | Some(Value::Null), _) => Value::Null,
        (Some(v), Kind::Object) => v.clone(),
        (Some(Value::Number(n)), Kind::Number) => Value::Number(n.clone()),
        (Some(v), Kind::Number) => {
            let t = text_of(Some(v));
            serde_json::from_str::<serde_json::Number>(t.trim()).map(Value::Number).unwrap_or(Value::String(t))
        }
        (Some(v), Kind::Text) => Value::String(text_of(Some(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn placeholders_are_lowercase_names_between_percents() {
        let names: Vec<&str> = placeholders("%ani% 100% %20 %Ani% %a_1%%b%").into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["ani", "a_1", "b"]);
    }

    #[test]
    fn whole_values_are_typed() {
        let d = data(json!({"dialed_time": "36", "ring_count": 4, "ani": 7776734736u64, "tags": {"a": "b"},
            "answered_time": "n/a"}));
        assert_eq!(typed("dialed_time", &d), json!(36));
        assert_eq!(typed("ring_count", &d), json!(4));
        assert_eq!(typed("ani", &d), json!("7776734736"));
        assert_eq!(typed("tags", &d), json!({"a": "b"}));
        assert_eq!(typed("answered_time", &d), json!("n/a"));
        assert_eq!(typed("ani_city", &d), Value::Null);
    }

    #[test]
    fn a_mapping_names_extracted_fields_and_known_tokens() {
        let f = r#"{"first": "John", "last": "Doe", "contact": {"phone": ""}}"#;
        let ok = check(TemplateType::Json, f, &data(json!({"first": "ani_first_name", "contact.phone": "%ani%"})));
        assert_eq!(ok.unwrap().tokens, ["ani", "ani_first_name"]);
        let e = check(TemplateType::Json, f, &data(json!({"frist": "ani_first_name"}))).unwrap_err();
        assert!(e.starts_with("mapping.frist: not a field") && e.contains("contact.phone"), "{e}");
        let e = check(TemplateType::Json, f, &data(json!({"first": "first_name"}))).unwrap_err();
        assert!(e.starts_with("mapping.first: %first_name% is not a known token"), "{e}");
    }
}
