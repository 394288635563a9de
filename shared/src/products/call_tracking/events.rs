//! Call events: `call.begin` and `call.end`. The payload names the call's campaign, DNI
//! campaign, location and treatment option (or they are found from the tracking number and the
//! domain) and carries the call's data points by token name. Evaluating one picks the webhooks
//! enabled for that timing and makes one delivery per webhook, whose data is the call's tokens
//! of the categories the timing has (a template renders them at send time).

use super::model::{domain_key, number_key, CallTreatment, Campaign, DniCampaign, Location, SendAt, WebhookUse};
use super::store;
use crate::app::App;
use crate::destinations::templates::tokens::{self, Category, Kind};
use crate::error::PipelineError;
use crate::model::{delivery_id, Delivery, DeliveryTarget, Event};
use crate::repo::webhooks;
use serde_json::{Map, Value};

pub const BEGIN: &str = "call.begin";
pub const END: &str = "call.end";
pub const EVENT_TYPES: [&str; 2] = [BEGIN, END];

/// The payload fields that say where the call goes; every other field is a token.
const ROUTING: [&str; 4] = ["campaign", "dniCampaign", "location", "treatment"];

/// A call event, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub send_at: SendAt,
    pub campaign: Option<String>,
    pub dni_campaign: Option<String>,
    pub location: Option<String>,
    /// (treatment id, the option chosen: its key or name).
    pub treatment: Option<(String, String)>,
    pub tokens: Map<String, Value>,
}

fn id_field(p: &Map<String, Value>, f: &str) -> Result<Option<String>, String> {
    match p.get(f) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 200 => Ok(Some(s.clone())),
        _ => Err(format!("{f}: must be the id of a {f} (a string)")),
    }
}

/// `None`: not a call event.
pub fn parse(event_type: &str, payload: &Value) -> Option<Result<Call, String>> {
    let send_at = match event_type {
        BEGIN => SendAt::Begin,
        END => SendAt::End,
        _ => return None,
    };
    Some(parse_call(send_at, payload))
}

fn parse_call(send_at: SendAt, payload: &Value) -> Result<Call, String> {
    let p = payload.as_object().ok_or("the payload must be an object of the call's data points")?;
    match p.get("callid") {
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => return Err("callid: required, the call's unique identifier".into()),
    }
    let treatment = match p.get("treatment") {
        None | Some(Value::Null) => None,
        Some(Value::Object(t)) => {
            let id = t.get("id").and_then(Value::as_str);
            let option = match t.get("option") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match (id, option, t.len()) {
                (Some(id), Some(o), 2) => Some((id.to_string(), o)),
                _ => return Err("treatment: {\"id\": treatment id, \"option\": the key or name chosen}".into()),
            }
        }
        Some(_) => return Err("treatment: {\"id\": treatment id, \"option\": the key or name chosen}".into()),
    };
    let mut out = Map::new();
    for (k, v) in p {
        if ROUTING.contains(&k.as_str()) {
            continue;
        }
        let t = tokens::placeable(k).map_err(|e| format!("{k}: {e}"))?;
        let ok = match (t.kind, v) {
            (_, Value::Null) => true,
            (Kind::Object, Value::Object(_)) => t.name == "tags",
            (Kind::Object, Value::Array(items)) => {
                t.name == "prompt_responses"
                    && items.iter().all(|i| {
                        i.as_object().is_some_and(|o| {
                            o.iter().all(|(k, v)| {
                                tokens::find(k).is_some_and(|m| m.within == Some("prompt_responses"))
                                    && (v.is_string() || v.is_number() || v.is_null())
                            })
                        })
                    })
            }
            (Kind::Object, _) => false,
            (_, v) => v.is_string() || v.is_number() || v.is_boolean(),
        };
        if !ok {
            return Err(match t.name {
                "prompt_responses" => {
                    "prompt_responses: a list of {\"question\", \"question_link\", \"response\"}".into()
                }
                "tags" => "tags: an object such as {\"Region\": \"south\"}".into(),
                _ => format!("{k}: must be a string or a number"),
            });
        }
        out.insert(k.clone(), v.clone());
    }
    Ok(Call {
        send_at,
        campaign: id_field(p, "campaign")?,
        dni_campaign: id_field(p, "dniCampaign")?,
        location: id_field(p, "location")?,
        treatment,
        tokens: out,
    })
}

/// The token categories a webhook sent at `send_at` carries.
fn categories(send_at: SendAt, via_dni: bool) -> Vec<Category> {
    let mut c = vec![Category::CallBegin, Category::LocationInfo];
    if send_at == SendAt::End {
        c.push(Category::CallEnd);
    }
    if via_dni {
        c.push(Category::Dni);
    }
    c
}

/// The deliveries of one call event: the webhooks its campaign, DNI campaign and treatment
/// option enable for this timing (each webhook once), with the call's data.
pub async fn deliveries(app: &App, event: &Event, call: Call) -> Result<Vec<Delivery>, PipelineError> {
    let s = app.store.as_ref();
    let tenant = &event.tenant_id;
    let campaign: Option<Campaign> = match &call.campaign {
        Some(id) => store::find::<Campaign>(s, tenant, id).await?.map(|v| v.value),
        None => {
            match call.tokens.get("tracking").map(|t| number_key(&crate::destinations::templates::text_of(Some(t)))) {
                Some(key) if !key.is_empty() => store::list::<Campaign>(s, tenant)
                    .await?
                    .into_iter()
                    .find(|c| c.tracking_numbers.iter().any(|n| number_key(n) == key)),
                _ => None,
            }
        }
    };
    let dni: Option<DniCampaign> = match &call.dni_campaign {
        Some(id) => store::find::<DniCampaign>(s, tenant, id).await?.map(|v| v.value),
        None => match call.tokens.get("domain_name").and_then(Value::as_str).map(domain_key) {
            Some(key) if !key.is_empty() => store::list::<DniCampaign>(s, tenant)
                .await?
                .into_iter()
                .find(|c| c.domains.iter().any(|d| domain_key(d) == key)),
            _ => None,
        },
    };
    let treatment: Option<(CallTreatment, String)> = match &call.treatment {
        Some((id, option)) => store::find::<CallTreatment>(s, tenant, id).await?.map(|v| (v.value, option.clone())),
        None => None,
    };
    let location_id = call
        .location
        .clone()
        .or_else(|| campaign.as_ref().map(|c| c.location_id.clone()))
        .or_else(|| dni.as_ref().map(|c| c.location_id.clone()))
        .or_else(|| treatment.as_ref().map(|(t, _)| t.location_id.clone()));
    let location = match &location_id {
        Some(id) => store::find::<Location>(s, tenant, id).await?.map(|v| v.value),
        None => None,
    };

    let mut uses: Vec<&WebhookUse> = Vec::new();
    uses.extend(campaign.iter().flat_map(|c| &c.webhooks));
    uses.extend(dni.iter().flat_map(|c| &c.webhooks));
    if let Some((t, chosen)) = &treatment {
        let option = t.options.iter().find(|o| o.key == *chosen || o.name.eq_ignore_ascii_case(chosen));
        uses.extend(option.iter().flat_map(|o| &o.webhooks));
    }
    let mut targets: Vec<&str> = Vec::new();
    for u in uses.into_iter().filter(|u| u.send_at == call.send_at) {
        if !targets.contains(&u.webhook_id.as_str()) {
            targets.push(&u.webhook_id);
        }
    }
    if targets.is_empty() {
        return Ok(vec![]);
    }

    // The call's data: its own tokens, then what the configuration knows (the campaign's name
    // and tags, the location's address) where the call carries none.
    let mut data = call.tokens.clone();
    if let Some(c) = &campaign {
        data.entry("campaign_name").or_insert_with(|| Value::String(c.name.clone()));
        if !c.tags.is_empty() {
            data.entry("tags").or_insert_with(|| Value::Object(c.tags.clone()));
        }
    }
    if let Some(l) = &location {
        for (k, v) in l.token_values() {
            data.entry(k).or_insert(v);
        }
    }
    let allowed = categories(call.send_at, dni.is_some());
    data.retain(|k, _| tokens::find(k).is_some_and(|t| allowed.contains(&t.category)));

    let now = app.now_ms();
    let mut out = Vec::new();
    for webhook_id in targets {
        let policy = webhooks::find(s, tenant, webhook_id).await?.map(|w| w.value.retry_policy).unwrap_or_default();
        let id = delivery_id(event, &format!("{}:{webhook_id}", super::NAME), 0);
        let target = DeliveryTarget::Webhook { webhook_id: webhook_id.to_string() };
        let mut d = Delivery::new(event, id, target, Value::Object(data.clone()), policy, now);
        d.webhook_id = Some(webhook_id.to_string());
        d.product = Some(super::NAME.to_string());
        out.push(d);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn call_events_are_checked_field_by_field() {
        let ok = parse(
            END,
            &json!({"callid": "c1", "ani": 7776734736u64, "campaign": "cmp_1",
            "treatment": {"id": "trt_1", "option": 1}, "prompt_responses": [{"question": "one", "response": "1"}],
            "tags": {"Region": "south"}}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.treatment, Some(("trt_1".into(), "1".into())));
        assert!(!ok.tokens.contains_key("campaign") && ok.tokens.contains_key("ani"));
        assert!(parse("agent.wrap", &json!({})).is_none());
        for (p, field) in [
            (json!({"ani": "1"}), "callid"),
            (json!({"callid": "c", "ani_frist_name": "x"}), "ani_frist_name"),
            (json!({"callid": "c", "question": "x"}), "question"),
            (json!({"callid": "c", "tags": "Region: south"}), "tags"),
            (json!({"callid": "c", "prompt_responses": [{"q": 1}]}), "prompt_responses"),
            (json!({"callid": "c", "ani": {"a": 1}}), "ani"),
            (json!({"callid": "c", "treatment": {"id": "t"}}), "treatment"),
        ] {
            let e = parse(BEGIN, &p).unwrap().unwrap_err();
            assert!(e.starts_with(field), "{p}: {e}");
        }
    }
}
