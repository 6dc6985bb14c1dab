"""``streampath``: operate deployed StreamPath stacks.

  streampath targetgroupbinding --config staging --service core-api --port 8080 [--namespace NS] [-o FILE]
  streampath alb-fix [--config staging] [--idle-timeout 3600] [--alb-arn ARN]
  streampath status --config staging [--region REGION] [--minutes 15] [--json]
  streampath run-canary --config staging [--region REGION] [--json]
  streampath run-load --config staging --path NAME --concurrency N (--streams M | --duration S)
      [--invocations K | --local K] [--region R ...] [--protocol h1|h2|h3] [--slo SPEC]
      [--min-goodput PCT] [--json]

``status`` and ``run-canary`` cover every Region of ``canary.regions`` (default: the config's region);
``--region`` picks one of them.

Exit status: 0 fine, 1 the command ran and found a problem (failed/buffered probe, alarm, no data),
2 refused (bad config or arguments, no credentials, stack or output missing, the canary failed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from streampath_canary.contract import PROTOCOLS
from streamprobe.commands.load import add_goodput_arguments
from streamprobe.console import VersionAction, run_console_script

from streampath import alb_fix, run_canary, run_load, status
from streampath import target_group_binding as binding
from streampath.aws import Aws
from streampath.cli_config import load_config_or_refuse
from streampath.config import AppConfig
from streampath.errors import EXIT_OK, Refusal
from streampath.outputs import describe_stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streampath",
        description="Operate deployed StreamPath stacks (reads them through CloudFormation outputs).",
        epilog="Exit status: 0 fine, 1 problem found, 2 refused. AWS region comes from the config; "
        "credentials from the usual AWS chain (AWS_PROFILE, ...).",
    )
    parser.add_argument("--version", action=VersionAction, distribution="streampath")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser, required: bool = True) -> None:
        p.add_argument(
            "--config",
            required=required,
            metavar="NAME|FILE",
            help="environment: NAME reads config/NAME.yaml; a path reads that file",
        )
        p.add_argument("--profile", help="AWS profile (default: the AWS_PROFILE / default chain)")

    p = sub.add_parser("targetgroupbinding", help="write the TargetGroupBinding manifest for the NLB")
    with_config(p)
    p.add_argument("--service", help="the Kubernetes Service behind the NLB (default: config service.name)")
    p.add_argument("--port", help="the Service's port, number or name (default: config service.port)")
    p.add_argument("--target-port", help="the pods' port the NLB must reach (default: --port)")
    p.add_argument("--namespace", help="the Service's namespace (default: config service.namespace)")
    p.add_argument("--name", help="the binding's name (default: <service>-streampath-nlb)")
    p.add_argument("--output", "-o", type=Path, help="write to FILE instead of stdout")

    p = sub.add_parser("alb-fix", help="print the ingress annotation that makes the ALB stream")
    with_config(p, required=False)
    p.add_argument(
        "--idle-timeout",
        type=int,
        default=alb_fix.DEFAULT_IDLE_TIMEOUT,
        help=f"idle_timeout.timeout_seconds, 1..4000 (default {alb_fix.DEFAULT_IDLE_TIMEOUT})",
    )
    p.add_argument(
        "--alb-arn", help="also print the `aws elbv2 modify-load-balancer-attributes` command for it"
    )
    p.add_argument(
        "--values-key", default="ingress.annotations", help="where the annotations go in values.yaml"
    )

    def with_region(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--region",
            help="only this one of the canary's Regions (default: every Region of canary.regions)",
        )

    p = sub.add_parser("status", help="front doors, the canary's latest results, alarms")
    with_config(p)
    with_region(p)
    p.add_argument("--minutes", type=int, default=15, help="look back this far for metrics (default 15)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")

    p = sub.add_parser("run-canary", help="invoke the canary once and print its results")
    with_config(p)
    with_region(p)
    p.add_argument("--json", action="store_true", help="print the function's JSON result")

    p = sub.add_parser(
        "run-load", help="run streamprobe load inside the canary function, K invocations at once"
    )
    with_config(p)
    p.add_argument(
        "--path", required=True, metavar="NAME", help="the canary path to load (its name in the config)"
    )
    p.add_argument(
        "--concurrency", type=int, required=True, metavar="N", help="streams at once per invocation"
    )
    amount = p.add_mutually_exclusive_group(required=True)
    amount.add_argument("--streams", type=int, metavar="M", help="streams per invocation")
    amount.add_argument("--duration", type=float, metavar="S", help="seconds of streams per invocation")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--invocations", type=int, default=1, metavar="K", help="invocations at once (1)")
    where.add_argument(
        "--local",
        type=int,
        metavar="K",
        help="run the handler's code in K local processes instead (with the deployed function's config)",
    )
    p.add_argument(
        "--region",
        action="append",
        metavar="REGION",
        help="spread the invocations over these canary Regions (repeatable; default the config's region)",
    )
    p.add_argument("--protocol", choices=PROTOCOLS, help="default: the path's first protocol")
    add_goodput_arguments(p)
    p.add_argument("--json", action="store_true", help="print the merged JSON (docs/contracts/load.md)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_console_script(lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except Refusal as refusal:
        print(f"streampath {args.command}: {refusal}", file=sys.stderr)
        return refusal.exit_code
    except KeyboardInterrupt:
        print(f"streampath {args.command}: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "alb-fix":
        return _alb_fix(args)
    cfg = load_config_or_refuse(args.config)
    aws = Aws(region=cfg.region, profile=args.profile)
    account = aws.check_account(cfg.account, cfg.name)
    if args.command == "targetgroupbinding":
        return _targetgroupbinding(args, cfg, aws)
    if args.command == "status":
        return _status(args, cfg, aws, account)
    if args.command == "run-canary":
        return _run_canary(args, cfg, aws)
    if args.command == "run-load":
        return _run_load(args, cfg, aws)
    raise Refusal(f"unknown command {args.command}")  # pragma: no cover (argparse refuses first)


def _targetgroupbinding(args: argparse.Namespace, cfg: AppConfig, aws: Aws) -> int:
    if cfg.enabled_nlb is None:
        raise Refusal(f"config {cfg.name} has no NLB front door (nlb absent or disabled): nothing to bind")
    service = args.service or cfg.service.name
    port = binding.parse_port(args.port or str(cfg.service.port), "--port")
    target_port = binding.parse_port(args.target_port, "--target-port") if args.target_port else port
    request = binding.BindingRequest(
        service=service,
        port=port,
        namespace=args.namespace or cfg.service.namespace,
        name=args.name or f"{service}-streampath-nlb",
        target_port=target_port,
    )
    binding.validate(request)
    stack = describe_stack(aws.cloudformation(), cfg.region, cfg.name, "Nlb")
    text = binding.render_manifest(binding.build_manifest(request, stack, cfg.name), request, stack)
    if args.output is None:
        sys.stdout.write(text)
    else:
        _write_atomically(args.output, text)
        print(f"wrote {args.output} ({request.namespace}/{request.name} -> {stack.name})", file=sys.stderr)
    return EXIT_OK


def _alb_fix(args: argparse.Namespace) -> int:
    region = None
    if args.config:
        region = load_config_or_refuse(args.config).region
    if args.alb_arn:
        arn_region = alb_fix.alb_region(args.alb_arn)
        if region and arn_region != region:
            raise Refusal(f"--alb-arn is in {arn_region}, but config {args.config} is for {region}")
        region = arn_region
    sys.stdout.write(alb_fix.render(args.idle_timeout, args.values_key, args.alb_arn, region))
    return EXIT_OK


def _canary_regions(args: argparse.Namespace, cfg: AppConfig) -> list[str]:
    """The Regions a canary command covers: ``--region``, else every Region of the canary."""
    regions = list(cfg.canary_regions)
    if args.region is None:
        return regions
    if args.region not in regions:
        raise Refusal(
            f"--region: {args.region!r} is not one of config {cfg.name}'s canary Regions "
            f"({', '.join(regions) or 'none'})"
        )
    return [args.region]


def _status(args: argparse.Namespace, cfg: AppConfig, aws: Aws, account: str) -> int:
    regions = _canary_regions(args, cfg) if cfg.enabled_canary is not None else None
    report = status.collect(cfg, aws, account, args.minutes, regions=regions)
    sys.stdout.write(status.render_json(report) if args.json else status.render_text(report))
    sys.stdout.flush()
    for problem in report.problems:
        print(f"streampath status: {problem}", file=sys.stderr)
    return report.exit_code()


def _run_canary(args: argparse.Namespace, cfg: AppConfig, aws: Aws) -> int:
    if cfg.enabled_canary is None:
        raise Refusal(f"config {cfg.name} has no canary (canary section absent or disabled)")
    regions = _canary_regions(args, cfg)
    if len(regions) == 1:
        regional = aws if regions[0] == aws.region else aws.in_region(regions[0])
        run = run_canary.invoke(regional, cfg.name, cfg.region)
        sys.stdout.write(run_canary.render_json(run) if args.json else run_canary.render_text(run))
        return run.exit_code()
    outcomes = run_canary.invoke_regions(aws, cfg.name, cfg.region, regions)
    text = run_canary.render_regions_json(outcomes) if args.json else run_canary.render_regions_text(outcomes)
    sys.stdout.write(text)
    sys.stdout.flush()
    for outcome in outcomes:
        if outcome.refusal is not None:
            print(f"streampath run-canary: {outcome.refusal}", file=sys.stderr)
    return run_canary.regions_exit_code(outcomes)


def _run_load(args: argparse.Namespace, cfg: AppConfig, aws: Aws) -> int:
    from streamprobe.load.render import render_load

    if cfg.enabled_canary is None:
        raise Refusal(f"config {cfg.name} has no canary (canary section absent or disabled)")
    # each --region checked as run-canary checks its one (a canary Region of the config)
    regions = [_canary_regions(argparse.Namespace(region=r), cfg)[0] for r in args.region or [cfg.region]]
    event = {
        "path": args.path,
        "concurrency": args.concurrency,
        **({"streams": args.streams} if args.streams is not None else {"duration": args.duration}),
        **({"protocol": args.protocol} if args.protocol else {}),
        "slo": args.slo,
    }
    if args.local is not None:
        config = run_load.function_config(aws, cfg.name, cfg.region)
        summary = run_load.run_local(config, event, args.local)
    else:
        summary = run_load.run_fleet(aws, cfg.name, cfg.region, regions, event, args.invocations)
    sys.stdout.write((json.dumps(summary.to_dict(), indent=2) if args.json else render_load(summary)) + "\n")
    return summary.exit_code(args.min_goodput)


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise Refusal(f"cannot write {path}: {exc.strerror}") from None


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
