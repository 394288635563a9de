//! The data points a template can use (`%token%`): the call-tracking seed's table — every token
//! with its category, description and example — served by `GET /v1/templates/tokens`.

use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

/// When a token has a value: from the start of a call, only at its end, when it came through a
/// DNI (website) campaign, or always (the location's data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    CallBegin,
    CallEnd,
    Dni,
    LocationInfo,
}

impl Category {
    pub const ALL: [Category; 4] = [Category::CallBegin, Category::CallEnd, Category::Dni, Category::LocationInfo];
}

/// What a token is when it is a whole JSON value (or a whole XML element's content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    /// A number when the call's value reads as one (else its text).
    Number,
    /// A nested object (or list of them): JSON as is, XML as child elements.
    Object,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Token {
    pub name: &'static str,
    pub category: Category,
    pub description: &'static str,
    pub example: &'static str,
    pub kind: Kind,
    /// For a token that lives inside a nested one: that token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<&'static str>,
}

const fn t(name: &'static str, category: Category, description: &'static str, example: &'static str) -> Token {
    Token { name, category, description, example, kind: Kind::Text, within: None }
}

const fn n(name: &'static str, category: Category, description: &'static str, example: &'static str) -> Token {
    Token { name, category, description, example, kind: Kind::Number, within: None }
}

const fn o(name: &'static str, category: Category, description: &'static str, example: &'static str) -> Token {
    Token { name, category, description, example, kind: Kind::Object, within: None }
}

const fn member(
    name: &'static str,
    within: &'static str,
    category: Category,
    description: &'static str,
    example: &'static str,
) -> Token {
    Token { name, category, description, example, kind: Kind::Text, within: Some(within) }
}

use Category::{CallBegin as B, CallEnd as E, Dni as D, LocationInfo as L};

/// The seed's table, in its order.
pub const TOKENS: &[Token] = &[
    t("callid", B, "CallID - Unique Identifier of call", "093cc03c.e6a4.6ac6.978f.740b10afeaca"),
    t("session_id", B, "Session ID - ID for the users session", "5da13c4f-753f-448a-81a1-12456785be20"),
    n("dialed_time", E, "Dialed Time - Full Duration including dial time", "36"),
    n("answered_time", E, "Answered Time - Duration of connection time", "29"),
    t("dialstatus", E, "DialStatus - Did remote party answer or not", "ANSWER"),
    t("tracking", B, "Tracking - The Tracking number dialed", "7774839229"),
    t("ani", B, "ANI - Telephone number of person calling", "7776734736"),
    t(
        "call_start_time",
        B,
        "Call Start Time - The start time of call (Default: 24 hour GMT)",
        "2019-03-28T00:05:00.000Z",
    ),
    t("call_end_time", E, "Call End Time - The end time of call (Default: 24 hour GMT)", "2019-03-28T00:05:30.000Z"),
    t("target", D, "Target - The target destination", "7776734700"),
    t("global_id", D, "Global ID - Unique user identification", "0f9cec2d1236e1234d8e123a7adff123"),
    t("landing_domain", D, "Landing Domain - Domain Name of website consumer landed on", "example.com"),
    n("repeat_caller", B, "Repeat Caller - 1 or 0", "1 (repeat caller)"),
    o("prompt_responses", E, "Treatment Response - Call Treatment Flow of consumer (Nested object)", ""),
    member("question", "prompt_responses", E, "Question Name", "one"),
    member(
        "question_link",
        "prompt_responses",
        E,
        "Link to audio file",
        "http://app.example.com/prompts-qa/audio/-1/94f17d142e0e861bfa34.wav",
    ),
    member("response", "prompt_responses", E, "What the caller pressed", "1"),
    t("domain_name", D, "Domain Name - Domain Name where DNI is installed", "example.com"),
    t("campaign_name", B, "Campaign Name - Campaign Name", "Sales Campaign"),
    t(
        "rec_audiourl",
        E,
        "Audio URL - Audio Recording in MONO MP3 Format",
        "https://audio.example.com/MP3/202110/demo.e123.4d3c.41de.123468.mp3",
    ),
    t(
        "rec_audiowavurl",
        E,
        "Audio URL - Audio Recording in Stereo WAV Format",
        "https://audio.example.com/MP3/202110/demo.e123.4d3c.41de.123468.wav",
    ),
    n("ani_is_valid", B, "Is Valid - 1 or 0", "1 meaning it is a valid ANI"),
    t("ani_line_type", B, "Line Type - Caller's line type", "Mobile/NonFixedVOIP/Landline/TollFree/FixedVOIP"),
    t("ani_carrier", B, "Carrier - Caller's Carrier", "ATT/Verizon Wireless/T-Mobile USA"),
    t("ani_full_name", B, "Full Name - Caller's Full Name", "Freddy Krueger"),
    t("ani_first_name", B, "First Name - Caller's First Name", "Freddy"),
    t("ani_middle_name", B, "Middle Name - Caller's Middle Name", "Charles"),
    t("ani_last_name", B, "Last Name - Caller's Last Name", "Krueger"),
    t("ani_type", B, "Type - Caller's Home Type - (Single Family or Multi Family)", "Charles"),
    t("ani_street_line_1", B, "Street Line 1 - Caller's Address Line 1", "1428 Elm Street"),
    t("ani_street_line_2", B, "Street Line 2 - Caller's Address Line 2", "Apt 2"),
    t("ani_city", B, "City - Callers City Name", "Springwood"),
    t("ani_zip", B, "ZIP - Callers Zip Code", "50035"),
    t("ani_zip4", B, "ZIP4 - Callers Zip plus 4", "1001"),
    t("ani_state", B, "State - Callers State Name", "Ohio"),
    t("ani_country_code", B, "Country Code - Caller Country Code", "US"),
    t("ani_street_number", B, "Street Number - Caller Street Number", "1428"),
    t("ani_street_name", B, "Street Name - Caller Street Name", "Elm"),
    t("ani_street_type", B, "Street Type - Caller Street Type", "St"),
    t("ani_updated_at", B, "Updated At - Caller Information last lookup data", "13 Oct 2020 3:15:12 PM"),
    o("tags", B, "Tags - Data used to identify and group campaigns (Nested object)", "Region: south"),
    t("location_name", L, "Location - Name", "Auto ID"),
    t("location_address_line_1", L, "Location - Address Line 1", "157 Main Street"),
    t("location_address_line_2", L, "Location - Address Line 2", "Apt 4"),
    t("location_address_city", L, "Location - City", "Los Angeles"),
    t("location_address_zip", L, "Location - Zip", "91741"),
    t("location_address_state", L, "Location - State", "CA"),
    t("account_id", L, "Account ID - Client's provided account number", "26627332"),
    t("location_id", L, "Location ID - Client's provided location ID", "3242243"),
    t("page_id", D, "Unique ID of the Web Page", "e14eb2bb-b829-4d19-bf5a-da76ccffbf4e"),
    t(
        "page_converted_on",
        D,
        "Page Converted On - The page that your customer made the call",
        "https://www.example.com/about_us.htm",
    ),
    t(
        "first_page_landed_on",
        D,
        "First Page Landed On - The page that your customer first landed on your site",
        "https://www.example.com",
    ),
    t("vehicle_vin", D, "Vehicle Identifier", "1C6RRFFG9KN909808"),
    t("vehicle_year", D, "Vehicle Year", "2019"),
    t("vehicle_make", D, "Vehicle Make", "Ram"),
    t("vehicle_model", D, "Vehicle Model", "1500"),
    t("referral_domain", D, "Referral Domain - Domain user was referred from", "facebook.com"),
    t("medium", D, "Medium Type - Paid|Organic|Direct|Referral|Other", "Paid"),
    t("utm_source", D, "UTM Source - Identifies source of traffic", ""),
    t("utm_medium", D, "UTM Medium - Specifies the medium like social or newsletter", ""),
    t("utm_campaign", D, "UTM Campaign - Identifies the campaign the URL is part of", "sales"),
    t("utm_content", D, "UTM Content - Content user is directed to", "123"),
    t("keyword", D, "Keyword - Tracking", "air conditioning"),
    t("gclid", D, "GCLID - Google Click ID", "xyz123"),
    n("ring_count", E, "Ring Count - Count of Rings before Answer", "4"),
    t("site_id", L, "AutoIDs Site Identifier", "4567"),
    t("domain_id", L, "AutoIDs Location Identifier", "1234"),
    t("visitor_browser_family", D, "Visitors - Browser Family", "Firefox"),
    t("visitor_browser_version", D, "Visitors - Browser Version", "79"),
    t("visitor_device", D, "Visitors - Device", "Other"),
    t("visitor_country_code", D, "Visitors - Country Code", "US"),
    t("visitor_region", D, "Visitors - Region", "CA"),
    t("visitor_city", D, "Visitors - City", "Los Angeles"),
    t("visitor_ip_address", D, "Visitors - IP Address", "47.156.108.175"),
    t("visitor_operating_system", D, "Visitors - Operating System", "Mac OS X"),
    n("visitor_lat", D, "Visitors - Latitude", "34.153500"),
    n("visitor_long", D, "Visitors - Longitude", "-117.845700"),
];

/// A token of the catalogue by name (without the `%`).
pub fn find(name: &str) -> Option<&'static Token> {
    TOKENS.iter().find(|t| t.name == name)
}

/// The tokens a template may place by themselves (members of a nested token come with it).
pub fn placeable(name: &str) -> Result<&'static Token, String> {
    match find(name) {
        Some(Token { within: Some(parent), .. }) => {
            Err(format!("%{name}% is a field of the nested %{parent}% token; place %{parent}% instead"))
        }
        Some(t) => Ok(t),
        None => Err(format!("%{name}% is not a known token (see GET /v1/templates/tokens)")),
    }
}

/// The example value of a token, as a call would carry it: numbers as numbers, nested tokens
/// as their objects (the catalogue's examples are descriptions: "1 (repeat caller)" is 1).
pub fn example_value(token: &Token) -> Value {
    match (token.kind, token.name) {
        (Kind::Object, "prompt_responses") => {
            let mut item = Map::new();
            for m in TOKENS.iter().filter(|m| m.within == Some("prompt_responses")) {
                item.insert(m.name.to_string(), json!(m.example));
            }
            json!([item])
        }
        (Kind::Object, _) => {
            let (k, v) = token.example.split_once(':').unwrap_or(("tag", token.example));
            json!({ k.trim(): v.trim() })
        }
        (Kind::Number, _) => {
            let first = token.example.split_whitespace().next().unwrap_or("");
            serde_json::from_str::<serde_json::Number>(first).map(Value::Number).unwrap_or_else(|_| json!(first))
        }
        (Kind::Text, _) => json!(token.example),
    }
}

/// Every placeable token's example value: what a preview renders when given no values.
pub fn examples() -> Map<String, Value> {
    TOKENS.iter().filter(|t| t.within.is_none()).map(|t| (t.name.to_string(), example_value(t))).collect()
}

/// `GET /v1/templates/tokens`: the catalogue grouped by category.
#[derive(Serialize, ToSchema)]
pub struct Catalogue {
    /// Every category, in the seed's order.
    pub categories: Vec<CategoryTokens>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryTokens {
    pub category: Category,
    /// The tokens a template may place (a nested token's members are under it).
    pub tokens: Vec<CatalogueToken>,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogueToken {
    /// The placeholder as a format writes it.
    #[schema(example = "%ani_first_name%")]
    pub token: String,
    #[schema(example = "ani_first_name")]
    pub name: &'static str,
    pub description: &'static str,
    /// The seed's example (a description for some: `1 (repeat caller)`).
    pub example: &'static str,
    pub kind: Kind,
    /// A nested token's members, placed with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<TokenField>>,
}

/// A member of a nested token (a field of each `%prompt_responses%` item).
#[derive(Serialize, ToSchema)]
pub struct TokenField {
    pub token: String,
    pub name: &'static str,
    pub description: &'static str,
    pub example: &'static str,
}

/// The catalogue grouped by category, nested tokens with their members.
pub fn catalogue() -> Catalogue {
    let members = |parent: &str| -> Vec<TokenField> {
        TOKENS
            .iter()
            .filter(|m| m.within == Some(parent))
            .map(|m| TokenField {
                token: format!("%{}%", m.name),
                name: m.name,
                description: m.description,
                example: m.example,
            })
            .collect()
    };
    let categories = Category::ALL
        .iter()
        .map(|c| CategoryTokens {
            category: *c,
            tokens: TOKENS
                .iter()
                .filter(|t| t.category == *c && t.within.is_none())
                .map(|t| CatalogueToken {
                    token: format!("%{}%", t.name),
                    name: t.name,
                    description: t.description,
                    example: t.example,
                    kind: t.kind,
                    fields: Some(members(t.name)).filter(|m| t.kind == Kind::Object && !m.is_empty()),
                })
                .collect(),
        })
        .collect();
    Catalogue { categories }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_every_seed_token_once() {
        let mut names: Vec<&str> = TOKENS.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), 77, "the seed lists 77 tokens");
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 77, "a token is listed twice");
        assert_eq!(example_value(find("repeat_caller").unwrap()), json!(1));
        assert_eq!(example_value(find("tags").unwrap()), json!({"Region": "south"}));
        assert!(placeable("question").unwrap_err().contains("prompt_responses"));
        assert!(placeable("frist_name").is_err());
    }
}
