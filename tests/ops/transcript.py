"""Print the deploy walkthrough with real output from the tests' fake deployment (moto server mode).

    .venv/bin/python -m tests.ops.transcript > /tmp/transcript.md

It uses the repository's ``config/staging.yaml`` (``--config staging``): its region, paths and service.
Steps: the stacks (standing in for ``cdk deploy``: created through CloudFormation's API in moto, so the
outputs are moto's, not a real deployment's), ``streampath targetgroupbinding``, committing the manifest
(a throwaway git repo), one canary run's metrics and alarms put into CloudWatch, ``streampath status``,
``streampath run-canary`` and ``streampath alb-fix``. Every command runs as a subprocess of the installed
console script; the text below each ``$`` line is its stdout and stderr as printed.
"""

from __future__ import annotations

import json
import logging
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from streampath.config import load_config_by_name
from streampath.naming import stack_name
from tests.ops.conftest import clean_environ, run_streampath
from tests.ops.fake_aws import (
    ACCOUNT,
    Moto,
    deploy,
    handler_payload,
    moto_server,
    put_alarms,
    put_staging_metrics,
)

ENV = "staging"
SECRET_KEY_VAR = "AWS_SECRET_ACCESS_KEY"


def shell(argv: list[str], cwd: Path) -> str:
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=clean_environ(), check=True)
    return proc.stdout + proc.stderr


def streampath(moto: Moto, argv: list[str], cwd: Path) -> str:
    result = run_streampath(argv, moto.env(), cwd=cwd)
    text = f"$ streampath {shlex.join(argv)}\n{result.out}{result.err}"
    return text + (f"(exit status {result.code})\n" if result.code else "")


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    out: list[str] = []
    cfg = load_config_by_name(ENV)
    if cfg.account not in (None, ACCOUNT):
        raise SystemExit(f"config/{ENV}.yaml is for account {cfg.account}; the fake deployment is {ACCOUNT}")
    region = cfg.region
    canary = cfg.enabled_canary
    assert canary is not None, f"config/{ENV}.yaml has no canary"
    pairs: list[tuple[str, str]] = [(p.name, proto) for p in canary.paths for proto in p.protocols]
    with tempfile.TemporaryDirectory() as tmp, moto_server() as moto:
        work = Path(tmp)
        config = ENV

        outputs = deploy(moto, ENV, region=region)
        out.append("## 1. cdk deploy (stand-in: the same stacks and outputs, created in moto)\n")
        for unit, values in outputs.items():
            out.append(f"{stack_name(ENV, unit)}")
            out += [f"  {key} = {value}" for key, value in values.items()]
        out.append("")

        gitops = work / "gitops"
        gitops.mkdir()
        shell(["git", "init", "-q", "-b", "main"], gitops)
        manifest = "apps/core-api/targetgroupbinding.yaml"
        out.append("## 2. streampath targetgroupbinding\n")
        out.append(
            streampath(
                moto,
                ["targetgroupbinding", "--config", config, "--service", "core-api", "--port", "8080",
                 "--output", f"gitops/{manifest}"],
                work,
            )
        )  # fmt: skip
        out.append(f"$ cat gitops/{manifest}\n" + (gitops / manifest).read_text())

        out.append("## 3. commit the manifest (the controller does the rest)\n")
        git = ["git", "-c", "user.name=ops", "-c", "user.email=ops@example.com"]
        shell(["git", "add", manifest], gitops)
        out.append(f"$ git add {manifest}")
        message = "core-api: bind the StreamPath NLB target group (staging)"
        out.append(f"$ git commit -m {shlex.quote(message)}")
        out.append(shell([*git, "commit", "-m", message], gitops))

        put_staging_metrics(moto, pairs=pairs, region=region)
        put_alarms(moto, ENV, outputs["Canary"]["AlarmTopicArn"], region=region)
        out.append("## 4. streampath status (after a few canary runs)\n")
        out.append(streampath(moto, ["status", "--config", config], work))
        out.append(streampath(moto, ["status", "--config", config, "--json"], work))

        moto.queue_lambda_results(json.dumps(handler_payload(pairs)), region=region)
        out.append("## 5. streampath run-canary\n")
        out.append(streampath(moto, ["run-canary", "--config", config], work))

        out.append("## 6. streampath alb-fix\n")
        alb = (
            f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:"
            "loadbalancer/app/k8s-default-coreapi-1a2b3c4d5e/0123456789abcdef"
        )
        out.append(streampath(moto, ["alb-fix", "--config", config, "--alb-arn", alb], work))

        out.append("## Refusals\n")
        out.append(streampath(moto, ["run-canary", "--config", "nosuch"], work))
        no_creds = {
            k: v for k, v in moto.env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        }
        result = run_streampath(["status", "--config", config], no_creds, cwd=work)
        out.append(f"$ streampath status --config {config}   # without credentials")
        out.append(f"{result.err}(exit status {result.code})\n")
    sys.stdout.write("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
