//! Extractors that turn every bad request into our `{"error", "detail"}` 4xx.

use crate::app::App;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;

/// The tenant of the request's `Authorization: Bearer <api key>`.
pub struct TenantId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for TenantId
where
    Arc<App>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = Arc::<App>::from_ref(state);
        let key = bearer(parts).ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <api key>"))?;
        match app.api_keys.tenant_for_key(app.store.as_ref(), key).await? {
            Some(t) => Ok(TenantId(t)),
            None => Err(ApiError::unauthorized("the API key is not valid")),
        }
    }
}

/// The deployment's admin credential (`Authorization: Bearer <admin token>`).
pub struct Admin;

impl<S: Send + Sync> FromRequestParts<S> for Admin
where
    Arc<App>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = Arc::<App>::from_ref(state);
        let Some(expected) = app.settings.admin_token.as_deref() else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "admin routes are disabled: no admin token is configured",
            ));
        };
        match bearer(parts) {
            Some(given) if constant_time_eq(given.as_bytes(), expected.as_bytes()) => Ok(Admin),
            _ => Err(ApiError::unauthorized("admin routes need Authorization: Bearer <admin token>")),
        }
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let h = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A JSON body, read under the size limit; malformed JSON is a 400 naming line and column.
pub struct JsonBody(pub Value);

/// The error name for malformed JSON; triggers use the seed's "Invalid JSON format".
pub const MALFORMED_JSON: &str = "Invalid JSON format";

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        check_json_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        if bytes.is_empty() {
            return Err(ApiError::bad_request(MALFORMED_JSON, "the request body is empty; send a JSON object"));
        }
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::bad_request(MALFORMED_JSON, format!("the body is not valid JSON: {e}")))
    }
}

/// A JSON body that may be left out (an empty body is `None`); otherwise as [`JsonBody`].
pub struct OptionalJsonBody(pub Option<Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        check_json_content_type(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJsonBody(None));
        }
        serde_json::from_slice(&bytes)
            .map(|v| OptionalJsonBody(Some(v)))
            .map_err(|e| ApiError::bad_request(MALFORMED_JSON, format!("the body is not valid JSON: {e}")))
    }
}

/// A body that could not be read (over the size limit, or cut off) as our error shape.
pub fn body_rejection(r: BytesRejection) -> ApiError {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large",
            format!("the request body is larger than {} bytes", super::MAX_BODY_BYTES),
        )
    } else {
        ApiError::new(r.status(), "bad request", r.body_text())
    }
}

/// A JSON body may come without a Content-Type, as JSON (`application/json`, `…+json`), or as
/// `application/x-www-form-urlencoded`, which is what `curl -d` sends by default (the README's
/// examples); any other declared type is a 415.
fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let given = v.to_str().unwrap_or_default();
    let essence = given.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    let json = essence == "application/json" || essence == "text/json" || essence.ends_with("+json");
    if json || essence == "application/x-www-form-urlencoded" {
        return Ok(());
    }
    let shown: String = essence.chars().take(100).collect();
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported media type",
        format!("Content-Type: {shown:?} is not JSON; send the body as application/json"),
    ))
}

/// A JSON body (already read by [`JsonBody`]) parsed strictly into its request type: unknown
/// fields, wrong types and unknown enum names are a 422 named `error` whose detail names the
/// field's path (`auth.type: unknown variant `5`…`). Request types deny unknown fields.
pub fn parse<T: DeserializeOwned>(body: Value, error: &str) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(body).map_err(|e| ApiError::unprocessable(error, described(&e)))
}

/// A JSON object parsed as [`parse`] does, with an unknown top-level field named in the words
/// these routes used before they were typed (`fromat: not a field of a template; its fields are
/// …`; clients match them). `a_what` is the resource with its article (`an SMS sender`).
pub fn parse_object<T: DeserializeOwned>(body: Value, error: &str, a_what: &str) -> Result<T, ApiError> {
    let Some(o) = body.as_object() else {
        return Err(ApiError::unprocessable(error, format!("the body must be a JSON object, the fields of {a_what}")));
    };
    let fields = fields_of::<T>();
    if let Some(k) = o.keys().find(|k| !fields.contains(&k.as_str())) {
        let detail = format!("{k}: not a field of {a_what}; its fields are {}", fields.join(", "));
        return Err(ApiError::unprocessable(error, detail));
    }
    parse(body, error)
}

/// The field names a struct's derived `Deserialize` accepts: serde hands them to
/// `deserialize_struct`, which this deserializer records and then refuses. Read from the type,
/// so a message listing them cannot drift from what is parsed.
pub fn fields_of<T: DeserializeOwned>() -> &'static [&'static str] {
    use serde::de::{Error, Visitor};
    struct Fields<'a>(&'a mut &'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for Fields<'_> {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(Error::custom("fields recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Fields(&mut fields));
    fields
}

/// `path: message` of a parse error (just the message at the top level).
pub(crate) fn described<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> String {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    if path == "." || path.is_empty() {
        inner
    } else {
        format!("{path}: {inner}")
    }
}

/// Query parameters parsed strictly into `T` (its fields are the documented parameters; it
/// denies unknown ones): a parameter that is unknown or not of its type is a 422 naming it.
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Params)
            .map_err(|e| ApiError::unprocessable("invalid query", described(&e)))
    }
}

/// A JSON object read as `T`. serde's derived structs also take an array of their fields in
/// order (`[1, "INR", …]`), which the document does not allow and a client never means; a field
/// of this type takes an object only. (The document names `T`: `#[schema(value_type = T)]`.)
#[derive(Debug, Clone, PartialEq)]
pub struct Obj<T>(pub T);

impl<'de, T: DeserializeOwned> serde::Deserialize<'de> for Obj<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = serde_json::Map::<String, Value>::deserialize(d)?;
        T::deserialize(Value::Object(map)).map(Obj).map_err(D::Error::custom)
    }
}

/// For a field where `null` means something (clear it) and absent means another (keep it):
/// `#[serde(default, deserialize_with = "present")]` on an `Option<Value>` reads `null` as
/// `Some(Value::Null)`, where plain `Option` reads it as `None`.
pub fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    <Value as serde::Deserialize>::deserialize(d).map(Some)
}

/// A list route's `limit`: 1 to 500, `default` when left out; else a 422 naming it.
pub fn page_limit(given: Option<u32>, default: usize) -> Result<usize, ApiError> {
    match given {
        None => Ok(default),
        Some(n @ 1..=500) => Ok(n as usize),
        Some(_) => Err(ApiError::unprocessable("invalid query", "limit: 1 to 500")),
    }
}

/// Whether `s` has something in it besides blanks and control characters (the document's
/// `NonBlank`: regex engines disagree on whether some control characters are blanks, so
/// neither counts).
pub fn has_text(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace() && !c.is_control())
}

/// A one-line text of at most `max` characters that is not blank (the document's `Name`,
/// `SenderFrom` and `RequiredText`).
pub fn is_line(s: &str, max: usize) -> bool {
    s.chars().count() <= max && !s.contains(char::is_control) && has_text(s)
}

/// A JSON string, number or boolean, kept as its text. The seeds write ids and values as strings;
/// numbers (`"listId": 445`, `"id": 6281`) are common in hand-written bodies and were always
/// accepted, so request types take them as the same text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Text;
        impl serde::de::Visitor<'_> for Text {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            // As JSON writes it (`3.0` stays "3.0"), which is how these values were read before.
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Scalar, E> {
                serde_json::Number::from_f64(v)
                    .map(|n| Scalar(n.to_string()))
                    .ok_or_else(|| E::custom("not a finite number"))
            }
        }
        d.deserialize_any(Text)
    }
}

impl utoipa::PartialSchema for Scalar {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Number, Type::Boolean]))
            .description(Some("A string; a number or boolean is read as its text"))
            .into()
    }
}

impl utoipa::ToSchema for Scalar {}
