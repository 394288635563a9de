//! The AWS adapters against a local AWS emulator (`moto_server`), through the real AWS SDK,
//! on resources created from `infra/template.yaml`.

#[path = "support/aws.rs"]
mod aws_support;

use std::sync::Arc;
use std::time::Duration;

use ringhook::aws::dynamodb::{ATTR_DUE_AT, ATTR_DUE_SHARD, ATTR_PK, ATTR_SK, ATTR_TTL, DUE_INDEX};
use ringhook::aws::provision::{default_template_path, Template};
use ringhook::aws::{DynamoStore, EventBridgeBus, SqsQueue, SETTINGS_ENV_VARS};
use ringhook::conformance::{self, RealTimeQueueEnv};
use ringhook::ports::bus::{BusEvent, EventBus, SOURCE};
use ringhook::ports::{Clock, ManualClock, QueueName, SystemClock};
use serde_json::{json, Value};

/// One test for everything that needs the emulator: the SDK reads its endpoint from the
/// process environment, which parallel tests in this binary would otherwise fight over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_adapters_against_the_emulator() {
    let env = aws_support::start("ringhook-test").await;
    let sdk = &env.sdk;

    // Store: twice, to show the suite needs no clean table.
    let clock = Arc::new(ManualClock::new(SystemClock.now_ms()));
    let store = Arc::new(DynamoStore::new(sdk, env.settings.table.clone(), clock.clone()));
    conformance::store_suite(store.clone(), clock.clone()).await;
    conformance::store_suite(store, clock).await;
    eprintln!("store suite passed twice on DynamoDB");

    // Queue: the redrive limit comes from the template, like the queues themselves.
    let max_receives = env.template.max_receive_count(QueueName::Deliveries).unwrap();
    assert_eq!(max_receives, env.template.max_receive_count(QueueName::Events).unwrap());
    let queue = Arc::new(SqsQueue::new(sdk, env.settings.queue_urls()));
    conformance::queue_suite(queue, &RealTimeQueueEnv { max_receives }).await;
    eprintln!("queue suite passed on SQS");

    event_bridge_publishes(&env).await;
    eprintln!("EventBridge publishing verified");

    // Provisioning again with the same prefix finds the same resources.
    let again = env.template.provision(sdk, "ringhook-test").await.expect("second provision");
    assert_eq!(again, env.settings, "provisioning is idempotent");
}

/// Routes the bus to an SQS queue with a rule and reads the published events back.
async fn event_bridge_publishes(env: &aws_support::AwsTestEnv) {
    let sdk = &env.sdk;
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let events = aws_sdk_eventbridge::Client::new(sdk);
    let target_url = sqs.create_queue().queue_name("bus-tap").send().await.unwrap().queue_url.unwrap();
    let target_arn = sqs
        .get_queue_attributes()
        .queue_url(&target_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    events
        .put_rule()
        .name("ringhook-tap")
        .event_bus_name(&env.settings.event_bus)
        .event_pattern(json!({"source": [SOURCE]}).to_string())
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("ringhook-tap")
        .event_bus_name(&env.settings.event_bus)
        .targets(aws_sdk_eventbridge::types::Target::builder().id("tap").arn(target_arn).build().unwrap())
        .send()
        .await
        .unwrap();

    // 12 events: more than one PutEvents call (10).
    let bus = EventBridgeBus::new(sdk, env.settings.event_bus.clone());
    let sent: Vec<BusEvent> = (0..12)
        .map(|i| BusEvent {
            detail_type: if i % 2 == 0 { "delivery.succeeded" } else { "delivery.failed" }.into(),
            tenant_id: format!("tenant-{i}"),
            detail: json!({"deliveryId": format!("d{i}"), "attempt": i}),
        })
        .collect();
    bus.publish(sent.clone()).await.expect("publish");

    let mut got: Vec<Value> = Vec::new();
    for _ in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&target_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            got.push(serde_json::from_str(m.body().unwrap()).unwrap());
        }
        if got.len() >= sent.len() {
            break;
        }
    }
    assert_eq!(got.len(), sent.len(), "every published event reached the rule's target: {got:?}");
    for e in &sent {
        let found = got
            .iter()
            .find(|g| g["detail"]["deliveryId"] == e.detail["deliveryId"])
            .unwrap_or_else(|| panic!("event {:?} not delivered", e.detail));
        assert_eq!(found["source"], SOURCE);
        assert_eq!(found["detail-type"], e.detail_type.as_str());
        assert_eq!(found["detail"]["tenantId"], e.tenant_id.as_str());
        assert_eq!(found["detail"]["attempt"], e.detail["attempt"]);
    }

    let missing = EventBridgeBus::new(sdk, "no-such-bus");
    let err = missing.publish(sent[..1].to_vec()).await.expect_err("publishing to a missing bus fails");
    assert!(err.to_string().contains("PutEvents"), "{err}");
    tokio::time::timeout(Duration::from_secs(5), bus.publish(Vec::new()))
        .await
        .unwrap()
        .expect("publishing nothing is fine");
}

/// The template declares exactly the keys, index and TTL attribute the DynamoDB adapter uses,
/// and gives every function the variables `AwsSettings` reads.
#[test]
fn template_declares_what_the_adapters_use() {
    let t = Template::load(default_template_path()).unwrap();
    let table = t.table_schema().unwrap();
    assert_eq!(table.hash_key, ATTR_PK);
    assert_eq!(table.range_key.as_deref(), Some(ATTR_SK));
    let index = table.indexes.iter().find(|i| i.name == DUE_INDEX).expect("the due index");
    assert_eq!(index.hash_key, ATTR_DUE_SHARD);
    assert_eq!(index.range_key.as_deref(), Some(ATTR_DUE_AT));
    assert_eq!(index.projection, "ALL", "query_due reads whole items from the index");
    for (attr, ty) in [(ATTR_PK, "S"), (ATTR_SK, "S"), (ATTR_DUE_SHARD, "S"), (ATTR_DUE_AT, "N")] {
        assert_eq!(table.attribute_types.get(attr).map(String::as_str), Some(ty), "type of {attr}");
    }
    assert_eq!(table.ttl_attribute.as_deref(), Some(ATTR_TTL));
    assert_eq!(t.functions().len(), 5, "five functions");
    for var in SETTINGS_ENV_VARS {
        t.logical_id_for_env(var).unwrap_or_else(|e| panic!("{var}: {e:#}"));
    }
    for q in QueueName::all() {
        assert!(t.max_receive_count(q).unwrap() >= 1);
    }
}

/// The template alarms on what an operator must hear about: each dead-letter queue's depth, dead
/// letters the scheduler moved back, the age of each queue's oldest message, the deliver function's error rate and throttles, and
/// DynamoDB throttling of the table and of the due index.
#[test]
fn template_alarms_on_what_operators_watch() {
    let t = Template::load(default_template_path()).unwrap();
    let alarms = t.resources_of_type("AWS::CloudWatch::Alarm");
    let watching = |metric: &str, dimension: &serde_json::Value| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            let direct = p["MetricName"] == metric && p["Dimensions"].as_array().is_some_and(|d| d.contains(dimension));
            let in_math = p["Metrics"].as_array().is_some_and(|ms| {
                ms.iter().any(|m| {
                    let m = &m["MetricStat"]["Metric"];
                    m["MetricName"] == metric && m["Dimensions"].as_array().is_some_and(|d| d.contains(dimension))
                })
            });
            direct || in_math
        })
    };
    let queue = |q: &str| serde_json::json!({"Name": "QueueName", "Value": {"Fn::GetAtt": [q, "QueueName"]}});
    let deliver = serde_json::json!({"Name": "FunctionName", "Value": {"Ref": "DeliverFunction"}});
    let table = serde_json::json!({"Name": "TableName", "Value": {"Ref": "Table"}});
    for q in ["EventsDeadLetterQueue", "DeliveriesDeadLetterQueue"] {
        assert!(watching("ApproximateNumberOfMessagesVisible", &queue(q)), "{q} depth");
    }
    for q in ["EventsQueue", "DeliveriesQueue"] {
        assert!(watching("ApproximateAgeOfOldestMessage", &queue(q)), "{q} oldest message");
    }
    for m in ["Errors", "Invocations", "Throttles"] {
        assert!(watching(m, &deliver), "deliver {m}");
    }
    for m in ["WriteThrottleEvents", "ReadThrottleEvents"] {
        assert!(watching(m, &table), "table {m}");
    }
    let scheduler = serde_json::json!({"Name": "Function", "Value": "scheduler"});
    assert!(watching("DeadLettersRedriven", &scheduler), "dead letters moved back");
    let index = serde_json::json!({"Name": "GlobalSecondaryIndexName", "Value": DUE_INDEX});
    assert!(watching("WriteThrottleEvents", &index), "due index throttles");
}
