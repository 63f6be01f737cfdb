"""`python -m core cost ...` errors: with --json, every refusal is one JSON object and exit status 2,
whether argparse refuses the value or the engine does."""

import json

import pytest

from core.cli.cost import parse_quantity
from core.cli.main import main

TRAIN = ["cost", "train", "--params", "7B", "--tokens", "2T", "--gpu", "H100"]
SERVE = ["cost", "serve", "--params", "8B", "--gpu", "H100"]


def run_json(capsys, argv):
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1, captured.out  # exactly one JSON object, no usage text
    assert "usage:" not in captured.err
    return code, json.loads(lines[0])


@pytest.mark.parametrize(
    "argv, message",
    [
        ([*TRAIN, "--gpus", "abc"], "argument --gpus: invalid int value: 'abc'"),
        ([*TRAIN, "--gpus", "2.5"], "argument --gpus: invalid int value: '2.5'"),
        ([*TRAIN, "--mfu", "abc"], "argument --mfu: not a number: 'abc'"),
        ([*SERVE, "--precision", "int3"], "argument --precision: invalid choice: 'int3'"),
        (["cost", "train", "--params", "7B", "--tokens", "2T"], "the following arguments are required: --gpu"),
        (["cost"], "the following arguments are required: action"),
        (["cost", "train", "--params", "7B", "--tokens", "2T", "--gpu", "H100", "--bogus"], "unrecognized arguments"),
    ],
)
def test_argparse_errors_are_one_json_object_with_status_2(capsys, argv, message):
    code, out = run_json(capsys, argv)
    assert code == 2 and set(out) == {"error"} and message in out["error"]


@pytest.mark.parametrize(
    "argv, option",
    [
        ([*TRAIN, "--usd-per-gpu-hour", "inf"], "--usd-per-gpu-hour"),
        ([*TRAIN, "--usd-per-gpu-hour", "nan"], "--usd-per-gpu-hour"),
        ([*TRAIN, "--mfu", "nan"], "--mfu"),
        ([*SERVE, "--usd-per-gpu-hour", "-inf"], "--usd-per-gpu-hour"),
        ([*SERVE, "--utilisation", "inf"], "--utilisation"),
    ],
)
def test_non_finite_numbers_must_be_finite(capsys, argv, option):
    code, out = run_json(capsys, argv)
    assert code == 2 and option in out["error"] and "must be a finite number" in out["error"]
    assert "negative" not in out["error"]


@pytest.mark.parametrize("params", [["--params", "-7B"], ["--params=-7B"], ["--params", "-7e9"], ["--params", "0"]])
def test_negative_sizes_are_parsed_and_refused_plainly(capsys, params):
    code, out = run_json(capsys, ["cost", "train", *params, "--tokens", "2T", "--gpu", "H100"])
    assert code == 2 and out["error"].startswith("--params must be positive")
    code, out = run_json(capsys, ["cost", "serve", *params, "--gpu", "H100"])
    assert code == 2 and out["error"].startswith("--params must be positive")


def test_without_json_argparse_errors_keep_usage_on_stderr(capsys):
    assert main([*TRAIN, "--gpus", "abc"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "usage: python -m core cost train" in captured.err
    assert "error: argument --gpus: invalid int value: 'abc'" in captured.err


def test_serve_utilisation(capsys):
    code, out = run_json(capsys, [*SERVE, "--usd-per-gpu-hour", "2", "--utilisation", "0.5"])
    assert code == 0 and out["utilisation"] == 0.5
    code, full = run_json(capsys, [*SERVE, "--usd-per-gpu-hour", "2", "--utilisation", "1"])
    assert out["usd_per_million_output_tokens"] == pytest.approx(2 * full["usd_per_million_output_tokens"])
    code, out = run_json(capsys, [*SERVE, "--utilisation", "1.5"])
    assert code == 2 and "Utilisation must be more than 0 and at most 1" in out["error"]


def test_parse_quantity_signs():
    assert parse_quantity("+7B") == 7e9
    with pytest.raises(ValueError, match="--tokens must be positive, not '-2T'"):
        parse_quantity("-2T", "--tokens")
    with pytest.raises(ValueError, match="must be a finite number"):
        parse_quantity("1e999", "--params")
    with pytest.raises(ValueError, match="Not a number"):
        parse_quantity("seven")


def test_capacity_json(capsys):
    code, out = run_json(capsys, ["cost", "capacity"])
    assert code == 0 and out["machines"] >= 1 and out["machine"]["name"] == "this machine"
    assert {"first_word_p50_s", "first_word_p90_s"} <= set(out["day"]) and len(out["hourly"]) == 24
    assert 0 < out["latency_curve"]["knee_utilisation"] < 1
    assert out["cost_per_resolved"]["per_resolved"] > 0
    assert any(r["option"].startswith("Intercom Fin") for r in out["resolution_comparison"])
    code, busy = run_json(capsys, ["cost", "capacity", "--conversations-per-day", "20000", "--target-p90", "12"])
    assert code == 0 and busy["machines"] > out["machines"]
    code, gpu = run_json(capsys, ["cost", "capacity", "--machine", "H100", "--slots", "32", "--params", "8B"])
    assert code == 0 and gpu["machine"]["source"] == "roofline"


def test_capacity_errors_are_one_json_object(capsys):
    code, out = run_json(capsys, ["cost", "capacity", "--tier1-share", "0.8", "--tier2-share", "0.5"])
    assert code == 2 and "more than 100% of questions" in out["error"]
    code, out = run_json(capsys, ["cost", "capacity", "--curve", "night"])
    assert code == 2 and "invalid choice" in out["error"]


def test_capacity_from_a_benchmark_result(capsys, tmp_path):
    bench = {"decode_tok_s": 30.0, "long_prompt_tokens": 200, "long_prompt_ttft_ms": 1000, "parallel": 4}
    (tmp_path / "bench.json").write_text(json.dumps(bench))
    code, out = run_json(capsys, ["cost", "capacity", "--bench", str(tmp_path / "bench.json")])
    assert code == 0 and out["machine"]["prefill_tok_s"] == 200 and out["machine"]["slots"] == 4


def test_capacity_check_prints_the_checks(capsys, monkeypatch, settings):
    import core.cli.cost as cost

    def fake(settings, levels, seconds, new_tokens, sources, log):
        checks = [
            {"clients": n, "predicted_throughput_per_s": 0.1, "measured_throughput_per_s": 0.09,
             "predicted_p50_s": 10.0 * n, "measured_p50_s": 11.0 * n}
            for n in levels
        ]  # fmt: skip
        return {"checks": checks, "machine": {}, "within_25pct": True}

    monkeypatch.setattr(cost, "run_check", fake)
    code, out = run_json(capsys, ["cost", "capacity", "--check", "--check-clients", "1,3"])
    assert code == 0 and [c["clients"] for c in out["checks"]] == [1, 3]
    assert {"clients", "predicted_throughput_per_s", "measured_throughput_per_s", "predicted_p50_s",
            "measured_p50_s"} <= set(out["checks"][0])  # fmt: skip
    assert json.loads((settings.data_dir / "capacity_check.json").read_text())["checks"] == out["checks"]
