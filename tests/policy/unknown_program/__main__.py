"""A log source whose `verify` is computed from another source's id, so unknown in a preview.

Run on stack `prod` with `{"verify-enabled": {"stacks": ["prod"]}}`: the pack cannot judge
`verify` until the update, so the preview must note that and pass, not fail.
"""

import pulumi

from sigsentry_pulumi import CloudWatchCredentials, LogSource

config = pulumi.Config()
aws: CloudWatchCredentials = {
    "accessKeyId": config.require_secret("awsAccessKeyId"),
    "secretAccessKey": config.require_secret("awsSecretAccessKey"),
    "sessionToken": config.require_secret("awsSessionToken"),
}
first = LogSource(
    "prod-first", type="cloudwatch", credentials=aws, sources=["/aws/lambda/a"], verify=True
)
LogSource(
    "prod-second",
    type="cloudwatch",
    credentials=aws,
    sources=["/aws/lambda/b"],
    verify=first.id.apply(lambda source_id: bool(source_id)),
)
