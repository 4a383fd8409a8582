"""Runs an example program, as a user's installed copy would, through the Automation API.

The packaging test copies this file out of the checkout and runs it with a fresh virtualenv's
Python, where `sigsentry-pulumi` is installed from its wheel. Everything it needs arrives as one
JSON object on stdin (never on the command line, which other users can read): the action (`up`
or `destroy`), the program's path, the project and stack, the CLI's root folder, the backend URL,
and the stack config (`config`, `secrets`). The Pulumi environment (PULUMI_HOME, passphrase,
PULUMI_RUNTIME_VIRTUALENV) comes from this process's environment.

Besides the program's own resources it declares one probe: a dynamic resource whose provider runs
in the same dynamic-provider plugin process as the program's LogSource and reports where that
process imports `sigsentry_pulumi` from. Its last stdout line is a JSON summary.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from typing import Any

import pulumi
import pulumi.dynamic
from pulumi import automation as auto


class _PluginProbe(pulumi.dynamic.ResourceProvider):
    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        import sigsentry_pulumi

        return pulumi.dynamic.CreateResult(
            "plugin-probe", {"module": sigsentry_pulumi.__file__, "prefix": sys.prefix}
        )


class PluginProbe(pulumi.dynamic.Resource):
    module: pulumi.Output[str]
    prefix: pulumi.Output[str]

    def __init__(self, name: str) -> None:
        super().__init__(_PluginProbe(), name, {"module": None, "prefix": None})


def _changes(op_map: Any) -> dict[str, int]:
    # Keys are `OpType` members (str enums) or plain strings, depending on the SDK's version.
    return {str(getattr(op, "value", op)): n for op, n in (op_map or {}).items()}


def main() -> None:
    args = json.load(sys.stdin)

    def program() -> None:
        import sigsentry_pulumi

        runpy.run_path(args["program"], run_name="__main__")
        probe = PluginProbe("plugin-probe")
        pulumi.export("program_module", sigsentry_pulumi.__file__)
        pulumi.export("plugin_module", probe.module)
        pulumi.export("plugin_prefix", probe.prefix)

    config = {key: auto.ConfigValue(value) for key, value in args["config"].items()}
    config.update({k: auto.ConfigValue(v, secret=True) for k, v in args["secrets"].items()})
    stack = auto.create_or_select_stack(
        args["stack"],
        project_name=args["project"],
        program=program,
        opts=auto.LocalWorkspaceOptions(
            work_dir=args["work_dir"],
            pulumi_home=os.environ["PULUMI_HOME"],
            pulumi_command=auto.PulumiCommand(root=args["cli_root"], skip_version_check=True),
            env_vars=dict(os.environ),
            secrets_provider="passphrase",
            project_settings=auto.ProjectSettings(
                name=args["project"],
                runtime=auto.ProjectRuntimeInfo(name="python"),
                backend=auto.ProjectBackend(url=args["backend_url"]),
            ),
        ),
    )
    stack.set_all_config(config)
    summary: dict[str, Any] = {"program_python": sys.prefix}
    if args["action"] == "up":
        up = stack.up(on_output=print)
        summary["changes"] = _changes(up.summary.resource_changes)
        summary["outputs"] = {
            name: "[secret]" if output.secret else output.value
            for name, output in up.outputs.items()
        }
    else:
        destroy = stack.destroy(on_output=print)
        summary["changes"] = _changes(destroy.summary.resource_changes)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
