//! Creates the stateful resources of `infra/template.yaml` (the DynamoDB table, the SQS queues
//! with their dead-letter queues, the EventBridge bus) through the AWS SDK, exactly as the
//! template declares them, and returns the `AwsSettings` the functions would see.
//!
//! The template carries SAM's Transform, which local emulators cannot expand, so this reads the
//! resource definitions itself. The mapping from `RINGHOOK_*` variables to resources comes from
//! the template's function environment, so code, tests and infrastructure share one source.
//! Compute and API resources (functions, HTTP API, event source mappings) are not created.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use aws_config::SdkConfig;
use serde_json::{Map, Value};

use super::{sdk_err, AwsSettings, SETTINGS_ENV_VARS};
use crate::ports::QueueName;

const TABLE: &str = "AWS::DynamoDB::Table";
const QUEUE: &str = "AWS::SQS::Queue";
const BUS: &str = "AWS::Events::EventBus";
const FUNCTION: &str = "AWS::Serverless::Function";

/// Properties that change nothing the code can observe; provisioning skips them.
const TABLE_IGNORED: &[&str] = &[
    "Tags",
    "SSESpecification",
    "PointInTimeRecoverySpecification",
    "DeletionProtectionEnabled",
    "ContributorInsightsSpecification",
];
/// CloudFormation's SQS properties that are also SQS attribute names, passed through as is.
const QUEUE_ATTRIBUTES: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "SqsManagedSseEnabled",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
];

/// The parsed template, with YAML short-form intrinsics (`!Ref X`, `!GetAtt A.B`, `!Sub s`)
/// normalised to their JSON forms (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A","B"]}`, ...).
#[derive(Debug, Clone)]
pub struct Template {
    pub path: PathBuf,
    pub doc: Value,
}

/// A DynamoDB table's definition as the template declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSchema {
    pub logical_id: String,
    pub hash_key: String,
    pub range_key: Option<String>,
    /// Attribute name → type (`S`, `N`, `B`).
    pub attribute_types: BTreeMap<String, String>,
    pub indexes: Vec<IndexSchema>,
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSchema {
    pub name: String,
    pub hash_key: String,
    pub range_key: Option<String>,
    pub projection: String,
}

/// What a provisioned resource's `Ref` / `Fn::GetAtt` resolve to.
#[derive(Debug, Clone)]
enum Made {
    Table { name: String },
    Queue { url: String, name: String, arn: String },
    Bus { name: String, arn: String },
}

fn yaml_to_json(v: serde_yaml::Value) -> anyhow::Result<Value> {
    use serde_yaml::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n)?,
        Y::String(s) => Value::String(s),
        Y::Sequence(seq) => Value::Array(seq.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let k = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => bail!("unsupported mapping key in template: {other:?}"),
                };
                out.insert(k, yaml_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(t.value)?;
            match name {
                "Ref" => serde_json::json!({ "Ref": inner }),
                "GetAtt" => {
                    let parts = match inner {
                        Value::String(s) => {
                            let (res, attr) =
                                s.split_once('.').ok_or_else(|| anyhow!("!GetAtt {s}: expected Resource.Attribute"))?;
                            Value::Array(vec![res.into(), attr.into()])
                        }
                        other => other,
                    };
                    serde_json::json!({ "Fn::GetAtt": parts })
                }
                other => {
                    let mut m = Map::new();
                    m.insert(format!("Fn::{other}"), inner);
                    Value::Object(m)
                }
            }
        }
    })
}

fn str_of<'a>(v: &'a Value, what: &str) -> anyhow::Result<&'a str> {
    v.as_str().ok_or_else(|| anyhow!("{what}: expected a string, got {v}"))
}

/// CloudFormation accepts numbers and booleans as strings and vice versa; SQS wants strings.
fn scalar_string(v: &Value, what: &str) -> anyhow::Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => bail!("{what}: expected a scalar, got {other}"),
    }
}

impl Template {
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).with_context(|| format!("reading SAM template {}", path.display()))?;
        let mut t = Self::parse(&text).with_context(|| format!("parsing {}", path.display()))?;
        t.path = path.to_path_buf();
        Ok(t)
    }

    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let y: serde_yaml::Value = serde_yaml::from_str(text)?;
        let doc = yaml_to_json(y)?;
        if !doc.get("Resources").is_some_and(Value::is_object) {
            bail!("template has no Resources section");
        }
        Ok(Self { path: PathBuf::new(), doc })
    }

    /// `(logical id, resource)` pairs of one type, in template order.
    pub fn resources_of_type(&self, ty: &str) -> Vec<(&str, &Value)> {
        self.doc["Resources"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some(ty))
                    .map(|(k, v)| (k.as_str(), v))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn resource(&self, logical_id: &str) -> anyhow::Result<&Value> {
        self.doc["Resources"].get(logical_id).ok_or_else(|| anyhow!("template has no resource {logical_id}"))
    }

    fn properties<'a>(&'a self, logical_id: &str) -> anyhow::Result<&'a Map<String, Value>> {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        Ok(self
            .resource(logical_id)?
            .get("Properties")
            .and_then(Value::as_object)
            .unwrap_or_else(|| EMPTY.get_or_init(Map::new)))
    }

    /// The environment of one function: `Globals.Function` variables overlaid with its own.
    pub fn function_env(&self, function_id: &str) -> anyhow::Result<BTreeMap<String, Value>> {
        let mut env = BTreeMap::new();
        let globals = &self.doc["Globals"]["Function"]["Environment"]["Variables"];
        let own =
            self.properties(function_id)?.get("Environment").and_then(|e| e.get("Variables")).unwrap_or(&Value::Null);
        for src in [globals, own] {
            if let Some(m) = src.as_object() {
                env.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Ok(env)
    }

    /// The serverless functions' logical ids.
    pub fn functions(&self) -> Vec<&str> {
        self.resources_of_type(FUNCTION).into_iter().map(|(id, _)| id).collect()
    }

    /// The value every function gives `var`; an error when it is missing somewhere or when
    /// functions disagree (the code assumes one set of resources).
    pub fn env_value(&self, var: &str) -> anyhow::Result<Value> {
        let mut found: Option<(String, Value)> = None;
        let functions = self.functions();
        if functions.is_empty() {
            bail!("template declares no {FUNCTION}");
        }
        for f in functions {
            let env = self.function_env(f)?;
            let v = env.get(var).ok_or_else(|| anyhow!("function {f} has no environment variable {var}"))?;
            match &found {
                Some((other, prev)) if prev != v => {
                    bail!("{var} differs between {other} ({prev}) and {f} ({v})")
                }
                Some(_) => {}
                None => found = Some((f.to_string(), v.clone())),
            }
        }
        Ok(found.map(|(_, v)| v).expect("at least one function"))
    }

    /// The resource a `RINGHOOK_*` variable points at (`!Ref X` or `!GetAtt X.Attr`).
    pub fn logical_id_for_env(&self, var: &str) -> anyhow::Result<String> {
        let v = self.env_value(var)?;
        if let Some(r) = v.get("Ref").and_then(Value::as_str) {
            return Ok(r.to_string());
        }
        if let Some(r) = v.get("Fn::GetAtt").and_then(|a| a.get(0)).and_then(Value::as_str) {
            return Ok(r.to_string());
        }
        bail!("{var} = {v}: expected !Ref or !GetAtt of a resource")
    }

    /// The redrive policy's `maxReceiveCount` of the queue behind `queue`.
    pub fn max_receive_count(&self, queue: QueueName) -> anyhow::Result<u32> {
        let var = match queue {
            QueueName::Events => super::ENV_EVENTS_QUEUE_URL,
            QueueName::Deliveries => super::ENV_DELIVERIES_QUEUE_URL,
        };
        let id = self.logical_id_for_env(var)?;
        let rp =
            self.properties(&id)?.get("RedrivePolicy").ok_or_else(|| anyhow!("queue {id} has no RedrivePolicy"))?;
        let n = scalar_string(&rp["maxReceiveCount"], &format!("{id}.RedrivePolicy.maxReceiveCount"))?;
        n.parse().with_context(|| format!("{id}.RedrivePolicy.maxReceiveCount = {n}"))
    }

    /// The table `RINGHOOK_TABLE` points at, as declared.
    pub fn table_schema(&self) -> anyhow::Result<TableSchema> {
        let id = self.logical_id_for_env(super::ENV_TABLE)?;
        let p = self.properties(&id)?;
        let keys = |ks: &Value, what: &str| -> anyhow::Result<(String, Option<String>)> {
            let mut hash = None;
            let mut range = None;
            for k in ks.as_array().ok_or_else(|| anyhow!("{what}: KeySchema must be a list"))? {
                let name = str_of(&k["AttributeName"], what)?.to_string();
                match str_of(&k["KeyType"], what)? {
                    "HASH" => hash = Some(name),
                    "RANGE" => range = Some(name),
                    other => bail!("{what}: unknown KeyType {other}"),
                }
            }
            Ok((hash.ok_or_else(|| anyhow!("{what}: no HASH key"))?, range))
        };
        let (hash_key, range_key) = keys(&p["KeySchema"], &id)?;
        let mut attribute_types = BTreeMap::new();
        for a in p.get("AttributeDefinitions").and_then(Value::as_array).into_iter().flatten() {
            attribute_types
                .insert(str_of(&a["AttributeName"], &id)?.to_string(), str_of(&a["AttributeType"], &id)?.to_string());
        }
        let mut indexes = Vec::new();
        for g in p.get("GlobalSecondaryIndexes").and_then(Value::as_array).into_iter().flatten() {
            let name = str_of(&g["IndexName"], &id)?.to_string();
            let (h, r) = keys(&g["KeySchema"], &name)?;
            indexes.push(IndexSchema {
                projection: g["Projection"]["ProjectionType"].as_str().unwrap_or("ALL").to_string(),
                name,
                hash_key: h,
                range_key: r,
            });
        }
        let ttl = &p.get("TimeToLiveSpecification").cloned().unwrap_or_default();
        let ttl_enabled = matches!(&ttl["Enabled"], Value::Bool(true))
            || ttl["Enabled"].as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"));
        let ttl_attribute = ttl_enabled.then(|| ttl["AttributeName"].as_str().map(str::to_string)).flatten();
        Ok(TableSchema { logical_id: id, hash_key, range_key, attribute_types, indexes, ttl_attribute })
    }

    /// Creates (or finds, when already there) every table, queue and bus of the template,
    /// naming them `<prefix>-<LogicalId>` (`AWS::StackName` = `prefix`), and resolves the
    /// functions' `RINGHOOK_*` variables against them.
    pub async fn provision(&self, sdk: &SdkConfig, prefix: &str) -> anyhow::Result<AwsSettings> {
        if prefix.is_empty()
            || prefix.len() > 40
            || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            bail!("resource name prefix {prefix:?} must be 1-40 characters of [A-Za-z0-9_-]");
        }
        let mut p = Provisioner { template: self, sdk, prefix: prefix.to_string(), made: HashMap::new() };
        for (id, _) in self.resources_of_type(TABLE) {
            p.table(id).await.with_context(|| format!("creating table {id}"))?;
        }
        // Dead-letter queues first: the redrive policies point at them.
        let mut queues = self.resources_of_type(QUEUE);
        queues.sort_by_key(|(_, r)| r["Properties"].get("RedrivePolicy").is_some());
        for (id, _) in queues {
            p.queue(id).await.with_context(|| format!("creating queue {id}"))?;
        }
        for (id, _) in self.resources_of_type(BUS) {
            p.bus(id).await.with_context(|| format!("creating event bus {id}"))?;
        }
        let mut vars = HashMap::new();
        for var in SETTINGS_ENV_VARS {
            let v = self.env_value(var)?;
            let resolved = p.resolve(&v).with_context(|| format!("resolving {var}"))?;
            vars.insert(var, str_of(&resolved, var)?.to_string());
        }
        let v = self.env_value(super::ENV_DUE_SHARDS)?;
        let shards = p.resolve(&v).with_context(|| format!("resolving {}", super::ENV_DUE_SHARDS))?;
        vars.insert(super::ENV_DUE_SHARDS, str_of(&shards, super::ENV_DUE_SHARDS)?.to_string());
        AwsSettings::from_lookup(|k| vars.get(k).cloned())
    }
}

/// Creates the resources of `template_path` (see [`Template::provision`]) and returns the
/// settings pointing at them. Idempotent for a given prefix.
pub async fn provision_from_template(
    sdk: &SdkConfig,
    template_path: impl AsRef<Path>,
    prefix: &str,
) -> anyhow::Result<AwsSettings> {
    Template::load(template_path)?.provision(sdk, prefix).await
}

/// `infra/template.yaml` of this workspace (for tests and the local runner).
pub fn default_template_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("infra").join("template.yaml")
}

struct Provisioner<'a> {
    template: &'a Template,
    sdk: &'a SdkConfig,
    prefix: String,
    made: HashMap<String, Made>,
}

impl Provisioner<'_> {
    fn physical_name(&self, logical_id: &str) -> String {
        format!("{}-{logical_id}", self.prefix)
    }

    /// Evaluates the intrinsics the stateful resources may use.
    fn resolve(&self, v: &Value) -> anyhow::Result<Value> {
        match v {
            Value::Array(a) => Ok(Value::Array(a.iter().map(|x| self.resolve(x)).collect::<Result<_, _>>()?)),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().expect("one entry");
                match k.as_str() {
                    "Ref" => self.reference(str_of(arg, "Ref")?).map(Value::String),
                    "Fn::GetAtt" => {
                        let res = str_of(&arg[0], "Fn::GetAtt")?;
                        let attr = str_of(&arg[1], "Fn::GetAtt")?;
                        self.get_att(res, attr).map(Value::String)
                    }
                    "Fn::Sub" => self.sub(str_of(arg, "Fn::Sub (only the string form)")?).map(Value::String),
                    k if k.starts_with("Fn::") => {
                        bail!("intrinsic {k} is not supported when provisioning")
                    }
                    _ => Ok(Value::Object(
                        m.iter().map(|(k, v)| Ok((k.clone(), self.resolve(v)?))).collect::<anyhow::Result<_>>()?,
                    )),
                }
            }
            Value::Object(m) => Ok(Value::Object(
                m.iter().map(|(k, v)| Ok((k.clone(), self.resolve(v)?))).collect::<anyhow::Result<_>>()?,
            )),
            other => Ok(other.clone()),
        }
    }

    fn reference(&self, name: &str) -> anyhow::Result<String> {
        match name {
            "AWS::StackName" => return Ok(self.prefix.clone()),
            "AWS::Region" => return Ok(self.region()),
            _ => {}
        }
        if let Some(made) = self.made.get(name) {
            return Ok(match made {
                Made::Table { name } => name.clone(),
                Made::Queue { url, .. } => url.clone(),
                Made::Bus { name, .. } => name.clone(),
            });
        }
        if let Some(p) = self.template.doc["Parameters"].get(name) {
            return scalar_string(p.get("Default").ok_or_else(|| anyhow!("parameter {name} has no Default"))?, name);
        }
        bail!("Ref {name}: not a parameter or a resource created before it")
    }

    fn get_att(&self, res: &str, attr: &str) -> anyhow::Result<String> {
        let made = self.made.get(res).ok_or_else(|| anyhow!("GetAtt {res}.{attr}: {res} is not created yet"))?;
        Ok(match (made, attr) {
            (Made::Table { name }, "TableName") => name.clone(),
            (Made::Queue { url, .. }, "QueueUrl") => url.clone(),
            (Made::Queue { name, .. }, "QueueName") => name.clone(),
            (Made::Queue { arn, .. }, "Arn") => arn.clone(),
            (Made::Bus { name, .. }, "Name") => name.clone(),
            (Made::Bus { arn, .. }, "Arn") => arn.clone(),
            _ => bail!("GetAtt {res}.{attr} is not supported when provisioning"),
        })
    }

    fn sub(&self, s: &str) -> anyhow::Result<String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}').ok_or_else(|| anyhow!("Fn::Sub {s}: unclosed ${{"))?;
            let var = &rest[start + 2..start + end];
            out.push_str(&match var.split_once('.') {
                Some((res, attr)) if !var.starts_with("AWS::") => self.get_att(res, attr)?,
                _ => self.reference(var)?,
            });
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn region(&self) -> String {
        self.sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into())
    }

    async fn table(&mut self, id: &str) -> anyhow::Result<()> {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
            ProjectionType, ProvisionedThroughput, ScalarAttributeType, TimeToLiveSpecification,
        };
        let props = self.resolve(&Value::Object(self.template.properties(id)?.clone()))?;
        let props = props.as_object().expect("object in, object out");
        for k in props.keys() {
            let known = [
                "TableName",
                "BillingMode",
                "AttributeDefinitions",
                "KeySchema",
                "GlobalSecondaryIndexes",
                "TimeToLiveSpecification",
                "ProvisionedThroughput",
            ];
            if !known.contains(&k.as_str()) && !TABLE_IGNORED.contains(&k.as_str()) {
                bail!("table property {k} is not supported by the provisioner: teach aws/provision.rs about it");
            }
        }
        let name = match props.get("TableName") {
            Some(v) => str_of(v, "TableName")?.to_string(),
            None => self.physical_name(id),
        };
        let key_schema = |ks: &Value| -> anyhow::Result<Vec<KeySchemaElement>> {
            ks.as_array()
                .ok_or_else(|| anyhow!("KeySchema must be a list"))?
                .iter()
                .map(|k| {
                    Ok(KeySchemaElement::builder()
                        .attribute_name(str_of(&k["AttributeName"], "AttributeName")?)
                        .key_type(KeyType::from(str_of(&k["KeyType"], "KeyType")?))
                        .build()?)
                })
                .collect()
        };
        let throughput = |v: Option<&Value>| -> anyhow::Result<Option<ProvisionedThroughput>> {
            let Some(v) = v else { return Ok(None) };
            let num = |k: &str| -> anyhow::Result<i64> {
                scalar_string(&v[k], k)?.parse().with_context(|| format!("{k} must be an integer"))
            };
            Ok(Some(
                ProvisionedThroughput::builder()
                    .read_capacity_units(num("ReadCapacityUnits")?)
                    .write_capacity_units(num("WriteCapacityUnits")?)
                    .build()?,
            ))
        };

        let client = aws_sdk_dynamodb::Client::new(self.sdk);
        let mut req = client
            .create_table()
            .table_name(&name)
            .set_key_schema(Some(key_schema(&props["KeySchema"])?))
            .set_provisioned_throughput(throughput(props.get("ProvisionedThroughput"))?)
            .billing_mode(BillingMode::from(props.get("BillingMode").and_then(Value::as_str).unwrap_or("PROVISIONED")));
        for a in props.get("AttributeDefinitions").and_then(Value::as_array).into_iter().flatten() {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(str_of(&a["AttributeName"], "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(str_of(&a["AttributeType"], "AttributeType")?))
                    .build()?,
            );
        }
        for g in props.get("GlobalSecondaryIndexes").and_then(Value::as_array).into_iter().flatten() {
            let proj = &g["Projection"];
            let non_key: Option<Vec<String>> = proj
                .get("NonKeyAttributes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect());
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(str_of(&g["IndexName"], "IndexName")?)
                    .set_key_schema(Some(key_schema(&g["KeySchema"])?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(proj["ProjectionType"].as_str().unwrap_or("ALL")))
                            .set_non_key_attributes(non_key)
                            .build(),
                    )
                    .set_provisioned_throughput(throughput(g.get("ProvisionedThroughput"))?)
                    .build()?,
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_in_use_exception()) => {
                // Already there (a second run with the same prefix).
            }
            Err(e) => bail!("CreateTable {name}: {}", sdk_err(e)),
        }

        // Real DynamoDB takes a while to make a table (and its indexes) ACTIVE.
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let d = client
                .describe_table()
                .table_name(&name)
                .send()
                .await
                .map_err(|e| anyhow!("DescribeTable {name}: {}", sdk_err(e)))?;
            let t = d.table().ok_or_else(|| anyhow!("DescribeTable {name}: no table"))?;
            let active = t.table_status().is_some_and(|s| s.as_str() == "ACTIVE")
                && t.global_secondary_indexes().iter().all(|g| g.index_status().is_none_or(|s| s.as_str() == "ACTIVE"));
            if active {
                break;
            }
            if Instant::now() > deadline {
                bail!("table {name} did not become ACTIVE within 5 minutes");
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }

        if let Some(ttl) = props.get("TimeToLiveSpecification") {
            let enabled = matches!(&ttl["Enabled"], Value::Bool(true))
                || ttl["Enabled"].as_str().is_some_and(|s| s.eq_ignore_ascii_case("true"));
            let attr = str_of(&ttl["AttributeName"], "TimeToLiveSpecification.AttributeName")?;
            let current = client
                .describe_time_to_live()
                .table_name(&name)
                .send()
                .await
                .map_err(|e| anyhow!("DescribeTimeToLive {name}: {}", sdk_err(e)))?;
            let status = current.time_to_live_description();
            let already = status.and_then(|s| s.attribute_name()) == Some(attr)
                && status
                    .and_then(|s| s.time_to_live_status())
                    .is_some_and(|s| matches!(s.as_str(), "ENABLED" | "ENABLING"));
            // UpdateTimeToLive fails when asked to enable what is already enabled.
            if enabled && !already {
                client
                    .update_time_to_live()
                    .table_name(&name)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder().attribute_name(attr).enabled(true).build()?,
                    )
                    .send()
                    .await
                    .map_err(|e| anyhow!("UpdateTimeToLive {name}: {}", sdk_err(e)))?;
            }
        }
        self.made.insert(id.to_string(), Made::Table { name });
        Ok(())
    }

    async fn queue(&mut self, id: &str) -> anyhow::Result<()> {
        use aws_sdk_sqs::types::QueueAttributeName;
        let props = self.resolve(&Value::Object(self.template.properties(id)?.clone()))?;
        let props = props.as_object().expect("object in, object out");
        let name = match props.get("QueueName") {
            Some(v) => str_of(v, "QueueName")?.to_string(),
            None => self.physical_name(id),
        };
        let client = aws_sdk_sqs::Client::new(self.sdk);
        let mut req = client.create_queue().queue_name(&name);
        for (k, v) in props {
            match k.as_str() {
                "QueueName" | "Tags" => {}
                k if QUEUE_ATTRIBUTES.contains(&k) => {
                    let value = match v {
                        // Policies are JSON documents in the SQS API.
                        Value::Object(_) => v.to_string(),
                        _ => scalar_string(v, k)?,
                    };
                    req = req.attributes(QueueAttributeName::from(k), value);
                }
                other => {
                    bail!("queue property {other} is not supported by the provisioner: teach aws/provision.rs about it")
                }
            }
        }
        let url = req
            .send()
            .await
            .map_err(|e| anyhow!("CreateQueue {name}: {}", sdk_err(e)))?
            .queue_url()
            .ok_or_else(|| anyhow!("CreateQueue {name}: no QueueUrl"))?
            .to_string();
        let attrs = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| anyhow!("GetQueueAttributes {name}: {}", sdk_err(e)))?;
        let arn = attrs
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn))
            .ok_or_else(|| anyhow!("GetQueueAttributes {name}: no QueueArn"))?
            .clone();
        self.made.insert(id.to_string(), Made::Queue { url, name, arn });
        Ok(())
    }

    async fn bus(&mut self, id: &str) -> anyhow::Result<()> {
        let props = self.resolve(&Value::Object(self.template.properties(id)?.clone()))?;
        let name = str_of(props.get("Name").ok_or_else(|| anyhow!("event bus {id} has no Name"))?, "Name")?.to_string();
        if let Some(k) =
            props.as_object().and_then(|m| m.keys().find(|k| !["Name", "Tags", "Description"].contains(&k.as_str())))
        {
            bail!("event bus property {k} is not supported by the provisioner: teach aws/provision.rs about it");
        }
        let client = aws_sdk_eventbridge::Client::new(self.sdk);
        match client.create_event_bus().name(&name).send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|se| se.is_resource_already_exists_exception()) => {}
            Err(e) => bail!("CreateEventBus {name}: {}", sdk_err(e)),
        }
        let arn = client
            .describe_event_bus()
            .name(&name)
            .send()
            .await
            .map_err(|e| anyhow!("DescribeEventBus {name}: {}", sdk_err(e)))?
            .arn()
            .ok_or_else(|| anyhow!("DescribeEventBus {name}: no Arn"))?
            .to_string();
        self.made.insert(id.to_string(), Made::Bus { name, arn });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_intrinsics_are_normalised() {
        let t = Template::parse(
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy:\n        deadLetterTargetArn: !GetAtt D.Arn\n        maxReceiveCount: 5\n      Name: !Sub \"${AWS::StackName}-x\"\n      Other: !Ref P\n",
        )
        .unwrap();
        let p = &t.doc["Resources"]["Q"]["Properties"];
        assert_eq!(p["RedrivePolicy"]["deadLetterTargetArn"], serde_json::json!({"Fn::GetAtt": ["D", "Arn"]}));
        assert_eq!(p["Name"], serde_json::json!({"Fn::Sub": "${AWS::StackName}-x"}));
        assert_eq!(p["Other"], serde_json::json!({"Ref": "P"}));
    }

    #[test]
    fn the_workspace_template_maps_every_setting_to_a_resource() {
        let t = Template::load(default_template_path()).unwrap();
        for var in SETTINGS_ENV_VARS {
            t.logical_id_for_env(var).unwrap();
        }
        assert_eq!(t.max_receive_count(QueueName::Events).unwrap(), 5);
        assert_eq!(t.max_receive_count(QueueName::Deliveries).unwrap(), 5);
    }
}
