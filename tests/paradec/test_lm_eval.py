"""paradec inside lm-evaluation-harness: the offline task through lm-eval's own evaluator
gives paradec eval's accuracy, per-request calls equal the engine's, a request's output
does not depend on its batch, and bad model_args fail at start-up naming the argument."""

import json

import pytest

from paradec.lmeval.args import parse_model_args

lm_eval = pytest.importorskip("lm_eval", reason="lm-eval is installed by make install "
                              "(the lmeval extra)")

N = 24  # held-out problems (of 200) decoded per configuration


@pytest.fixture(scope="module")
def shipped():
    from realmodel.models import load_denoiser
    from realmodel.shipped import generation_defaults, heldout_problems

    den = load_denoiser("tiny-arith")
    g = generation_defaults("tiny-arith")
    return den, heldout_problems()[:N], g


def _evaluate(model_args, batch_size=4, **kw):
    from paradec.lmeval.run import evaluate

    return evaluate(model_args, ["paradec_arith"], batch_size=batch_size, limit=N,
                    log_samples=True, **kw)


@pytest.mark.parametrize("rule, value", [("quota", 1), ("threshold", 0.9), ("frechet", 0.5)])
def test_lm_eval_accuracy_equals_paradec_eval_and_calls_equal_the_engines(shipped, rule,
                                                                          value):
    from realmodel.engine import DecodeConfig
    from realmodel.shipped.evaluate import evaluate
    from theory import RULES, make_rule

    den, problems, g = shipped
    param = RULES[rule].parameter
    results = _evaluate(f"model=tiny-arith,rule={rule},{param}={value}")
    acc = results["results"]["paradec_arith"]["acc,none"]
    config = DecodeConfig(rule=make_rule(rule, value), gen_length=g["gen_length"],
                          block_length=g["block_length"])
    row = evaluate(den, problems, config, batch_size=4)
    assert acc == row.accuracy
    samples = sorted(results["samples"]["paradec_arith"], key=lambda s: s["doc_id"])
    assert sum(s["paradec"]["calls"] for s in samples) / N == row.calls
    assert results["paradec"]["totals"]["sequence_calls"] == round(row.calls * N)


def test_a_requests_output_does_not_depend_on_its_batch(shipped):
    args = "model=tiny-arith,rule=threshold,tau=0.7,cache=dual,freedave=4"
    one, four = _evaluate(args, batch_size=1), _evaluate(args, batch_size=4)

    def texts(r):
        return {s["doc_id"]: (s["resps"], s["paradec"]["calls"])
                for s in r["samples"]["paradec_arith"]}
    assert texts(one) == texts(four)
    assert all("accepted" in s["paradec"] for s in four["samples"]["paradec_arith"])


def test_the_cli_writes_lm_evals_results_with_paradecs_summary_and_a_trace(tmp_path):
    from paradec.cli import main
    from realmodel.trace import read_trace

    out, trace = tmp_path / "results.json", tmp_path / "run.parquet"
    code = main(["lm-eval", "--tasks", "paradec_arith", "--limit", "6", "--batch_size", "3",
                 "--model_args", f"model=tiny-arith,rule=frechet,delta=0.5,trace={trace}",
                 "--output_path", str(out), "--log_samples"])
    assert code == 0
    results = json.loads(out.read_text())
    assert results["paradec"]["decode"]["rule"]["label"] == "frechet(delta=0.5)"
    assert len(results["samples"]["paradec_arith"]) == 6
    assert len(read_trace(trace).sequences()) == 6
    assert main(["lm-eval", "--tasks", "paradec_arith", "--output_path", str(out)]) == 2
    assert main(["lm-eval", "--tasks", "paradec_arith", "--limit", "2",
                 "--model_args", f"model=tiny-arith,trace={trace}"]) == 2  # never replaced
    assert len(read_trace(trace).sequences()) == 6


@pytest.mark.parametrize("args, match", [
    ({"rule": "fastest"}, "unknown rule 'fastest'"),
    ({"rule": "frechet", "delta": "-2"}, r"delta = -2.0 is outside"),
    ({"rule": "frechet", "tau": "0.9"}, "tau is not a parameter of the frechet rule"),
    ({"freedave": "4", "temperature": "0.5"}, "FreeDave reproduces a deterministic decoding"),
    ({"speed": "fast"}, "model_args speed='fast': unknown argument"),
    ({"batch_size": "0"}, "batch_size=0"),
    ({"freedave": "many"}, "freedave='many'"),
    ({"cache": "triple"}, "unknown cache mode 'triple'"),
])
def test_bad_model_args_fail_at_start_up_naming_the_argument(args, match):
    from paradec.lmeval.model import ParadecLM

    with pytest.raises(ValueError, match=match):
        ParadecLM(**args)


def test_loglikelihood_is_refused_with_the_alternative():
    from paradec.lmeval.model import ParadecLM

    lm = ParadecLM(model="tiny-random", gen_length=8)
    with pytest.raises(NotImplementedError, match="generate_until"):
        lm.loglikelihood([])


def test_model_args_kinds_are_checked_before_anything_loads():
    assert parse_model_args({"delta": "0.25", "chat": "true", "freedave": "auto"}).chat
    with pytest.raises(ValueError, match="steps='2.5': expected an integer"):
        parse_model_args({"steps": "2.5"})


def test_the_word_problem_task_scores_tiny_words_like_paradec_eval():
    from paradec.lmeval.run import evaluate as lm_evaluate
    from realmodel.engine import DecodeConfig
    from realmodel.models import load_denoiser
    from realmodel.shipped import heldout_problems
    from realmodel.shipped.evaluate import evaluate
    from theory import Threshold

    n = 6
    results = lm_evaluate("model=tiny-words,rule=threshold,tau=0.9,cache=dual",
                          ["paradec_words"], batch_size=3, limit=n, log_samples=True)
    config = DecodeConfig(rule=Threshold(0.9), gen_length=128, block_length=32, cache="dual")
    row = evaluate(load_denoiser("tiny-words"), heldout_problems("tiny-words")[:n], config,
                   batch_size=3)
    assert results["results"]["paradec_words"]["acc,none"] == row.accuracy
    samples = results["samples"]["paradec_words"]
    assert sum(s["paradec"]["calls"] for s in samples) / n == row.calls
