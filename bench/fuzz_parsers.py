"""Long parser fuzzing runs (F11 item 5): atheris (coverage-guided) or hypothesis, per target.

The targets, strategies and properties are the CI test's (tests/parser_fuzz.py): atheris
drives the same hypothesis strategies with its coverage-guided bytes through
``fuzz_one_input``, with the registry's modules (and marshmallow) instrumented for coverage.
Each target runs in a child process, since libFuzzer ends the process when it is done.

    python bench/fuzz_parsers.py --target card --seconds 120            # atheris
    python bench/fuzz_parsers.py --engine hypothesis --examples 20000   # every target

Prints, per target: executions, seconds, executions/s, crashes, and what the inputs came to
(accepted / refused). A crash leaves atheris' ``crash-*`` input in ``--artifacts`` and the
traceback in ``<artifacts>/<target>.log``; hypothesis prints the shrunk example.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
TARGET_NAMES = ("card", "query", "config")
#: How often the child writes its counts (libFuzzer exits without running Python's atexit).
STATS_EVERY = 200


def _import_targets(instrumented: bool):
    sys.path.insert(0, str(TESTS))
    if not instrumented:
        import parser_fuzz

        return parser_fuzz
    import atheris

    with atheris.instrument_imports(include=["agentvault_registry", "marshmallow"]):
        import parser_fuzz
    return parser_fuzz


def _write_stats(path: Path, stats: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(stats))
    temporary.replace(path)


def run_atheris_child(target: str, args: argparse.Namespace) -> None:
    import atheris

    parser_fuzz = _import_targets(instrumented=True)
    stats_file = Path(args.stats)
    outcomes: dict[str, int] = {}
    stats = {"executions": 0, "outcomes": outcomes}
    holds = parser_fuzz.property_test(target, max_examples=1, outcomes=outcomes)
    fuzz_one_input = holds.hypothesis.fuzz_one_input

    def test_one_input(data: bytes) -> None:
        stats["executions"] += 1
        if stats["executions"] % STATS_EVERY == 0:
            _write_stats(stats_file, stats)
        fuzz_one_input(data)

    libfuzzer_args = [
        sys.argv[0],
        f"-max_total_time={args.seconds}",
        f"-max_len={args.max_len}",
        # Inputs up to max_len from the start: short ones only ever draw minimal examples.
        "-len_control=0",
        f"-artifact_prefix={args.artifacts}/{target}-",
        "-print_final_stats=1",
    ]
    if args.runs:
        libfuzzer_args.append(f"-runs={args.runs}")
    atheris.Setup(libfuzzer_args, test_one_input)
    atheris.Fuzz()


def run_hypothesis(target: str, args: argparse.Namespace) -> dict:
    parser_fuzz = _import_targets(instrumented=False)
    outcomes: dict[str, int] = {}
    started = time.monotonic()
    crashes = []
    try:
        parser_fuzz.property_test(target, max_examples=args.examples, outcomes=outcomes)()
    except Exception as error:  # the property failed: report it, with the shrunk example
        crashes.append(f"{type(error).__name__}: {str(error)[:500]}")
    seconds = time.monotonic() - started
    return {
        "target": target,
        "engine": "hypothesis",
        "executions": sum(outcomes.values()),
        "seconds": round(seconds, 1),
        "crashes": crashes,
        "outcomes": outcomes,
    }


def run_atheris(target: str, args: argparse.Namespace) -> dict:
    artifacts = Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    log_path = artifacts / f"{target}.log"
    with tempfile.TemporaryDirectory() as directory:
        stats_path = Path(directory) / "stats.json"
        command = [
            sys.executable,
            __file__,
            "--child",
            target,
            "--stats",
            str(stats_path),
            *("--seconds", str(args.seconds), "--max-len", str(args.max_len)),
            *("--runs", str(args.runs), "--artifacts", str(artifacts)),
        ]
        started = time.monotonic()
        with log_path.open("w") as log:
            # PYTHONPATH as given: a checkout's src/ wins over an installed package.
            exit_code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT)
        seconds = time.monotonic() - started
        child_stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
    log_text = log_path.read_text(errors="replace")
    done = re.search(r"Done (\d+) runs in (\d+) second", log_text)
    crashes = re.findall(r"^(?:=+ )?Uncaught Python exception: ?\n?(.*)$", log_text, re.M)
    crash_files = sorted(str(path) for path in artifacts.glob(f"{target}-crash-*"))
    return {
        "target": target,
        "engine": "atheris",
        "executions": int(done.group(1)) if done else child_stats.get("executions", 0),
        "seconds": round(seconds, 1),
        "exit_code": exit_code,
        "crashes": crashes + crash_files if exit_code else [],
        "coverage": _last_number(r"cov: (\d+)", log_text),
        "features": _last_number(r"ft: (\d+)", log_text),
        "outcomes": child_stats.get("outcomes", {}),
        "log": str(log_path),
    }


def _last_number(pattern: str, text: str) -> int | None:
    found = re.findall(pattern, text)
    return int(found[-1]) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--target", choices=TARGET_NAMES, action="append", help="default: all")
    parser.add_argument("--engine", choices=("atheris", "hypothesis"), default="atheris")
    parser.add_argument("--seconds", type=int, default=120, help="atheris: time per target")
    parser.add_argument("--runs", type=int, default=0, help="atheris: executions (0: no cap)")
    parser.add_argument("--max-len", type=int, default=16_384, help="atheris: input bytes")
    parser.add_argument("--examples", type=int, default=10_000, help="hypothesis: per target")
    parser.add_argument("--artifacts", default="fuzz-artifacts", help="crash inputs and logs")
    parser.add_argument("--child", choices=TARGET_NAMES, help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_atheris_child(args.child, args)
        return
    results = []
    for target in args.target or TARGET_NAMES:
        run = run_atheris if args.engine == "atheris" else run_hypothesis
        result = run(target, args)
        result["executions_per_second"] = round(result["executions"] / max(result["seconds"], 0.1))
        results.append(result)
        print(json.dumps(result), flush=True)
    crashed = [result["target"] for result in results if result["crashes"]]
    print(
        f"{len(results)} target(s), {sum(r['executions'] for r in results)} executions, "
        f"crashes in: {', '.join(crashed) or 'none'}"
    )
    sys.exit(1 if crashed else 0)


if __name__ == "__main__":
    main()
