//! The AWS test environment: a `moto_server` started for this test process, the standard SDK
//! configuration pointed at it through `AWS_ENDPOINT_URL`, and the table, queues and bus
//! created from `infra/template.yaml`.

use aws_config::SdkConfig;
use ringhook::aws::provision::{default_template_path, Template};
use ringhook::aws::{load_sdk_config, AwsSettings, MotoServer};

pub struct AwsTestEnv {
    pub sdk: SdkConfig,
    pub settings: AwsSettings,
    pub template: Template,
    /// Last, so the emulator stops after everything else is dropped. Only held for its Drop.
    #[allow(dead_code)]
    pub moto: MotoServer,
}

/// Starts the emulator (installing it with pip when missing) or panics saying why: the AWS
/// tests never skip. Sets the process environment, so call it once per test process.
pub async fn start(prefix: &str) -> AwsTestEnv {
    let moto = MotoServer::start().unwrap_or_else(|e| {
        panic!("the local AWS emulator (moto_server) could not be started, so the AWS backend cannot be tested: {e:#}")
    });
    moto.export_env();
    let sdk = load_sdk_config().await;
    let template = Template::load(default_template_path()).expect("infra/template.yaml");
    let settings = template.provision(&sdk, prefix).await.unwrap_or_else(|e| {
        panic!("creating the template's resources in the emulator failed: {e:#}\nmoto log:\n{}", moto.log_tail())
    });
    AwsTestEnv { sdk, settings, template, moto }
}
