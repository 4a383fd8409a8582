"""One SigSentry log source of each of the six types.

Every credential comes from this project's secret config (`pulumi config set --secret ...`) and is
read with `require_secret`, so it stays encrypted in the stack's config and state. Platform hosts
are plain config: they are addresses, not secrets.
"""

import pulumi

from sigsentry_pulumi import LogSource

config = pulumi.Config()

cloudwatch = LogSource(
    "prod-cloudwatch",
    type="cloudwatch",
    credentials={
        "accessKeyId": config.require_secret("awsAccessKeyId"),
        "secretAccessKey": config.require_secret("awsSecretAccessKey"),
        # Short-lived STS credentials, as the sigsentry-guardrails policy pack asks.
        "sessionToken": config.require_secret("awsSessionToken"),
    },
    sources=["/aws/lambda/checkout-api", "/aws/lambda/billing-worker"],
)

datadog = LogSource(
    "prod-datadog",
    type="datadog",
    credentials={
        "apiKey": config.require_secret("datadogApiKey"),
        "appKey": config.require_secret("datadogAppKey"),
    },
    sources=["service:checkout-api", "service:billing-worker"],
)

loki = LogSource(
    "prod-loki",
    type="loki",
    credentials={
        "host": config.require("lokiHost"),
        "apiKey": config.require_secret("lokiApiKey"),
    },
    sources=['{app="checkout-api"}'],
)

splunk = LogSource(
    "prod-splunk",
    type="splunk",
    credentials={
        "host": config.require("splunkHost"),
        "token": config.require_secret("splunkToken"),
    },
    sources=["main", "security"],
)

elastic = LogSource(
    "prod-elastic",
    type="elastic",
    credentials={
        "host": config.require("elasticHost"),
        "apiKey": config.require_secret("elasticApiKey"),
    },
    sources=["logs-checkout-*"],
)

gcp_logging = LogSource(
    "prod-gcp-logging",
    type="gcp_logging",
    # The whole service-account key file, as one string:
    # pulumi config set --secret gcpServiceAccountJson -- "$(cat key.json)"
    credentials={"serviceAccountJson": config.require_secret("gcpServiceAccountJson")},
    sources=['resource.type="cloud_run_revision"'],
)

pulumi.export(
    "log_source_ids",
    {
        "cloudwatch": cloudwatch.id,
        "datadog": datadog.id,
        "loki": loki.id,
        "splunk": splunk.id,
        "elastic": elastic.id,
        "gcp_logging": gcp_logging.id,
    },
)
