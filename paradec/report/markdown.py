"""results.md from a report summary: tables, check lines, environment and figures."""

from __future__ import annotations

from typing import Any

from paradec.experiments.options import ReportOptions

__all__ = ["CAPTIONS", "render_results", "write_results"]

#: one line per figure: what it shows and what to look at.
CAPTIONS: dict[str, str] = {
    "accuracy_vs_speed": "Accuracy (left) and agreement with static decoding (right) against "
                         "tokens per call, one curve per rule over its sweep, static marked "
                         "by the star: look for the curve that stays high furthest right.",
    "freedave_vs_K": "FreeDave: calls against K, predicted from the static trace (line) and "
                     "measured (circles), and acceptance lengths per round: the circles "
                     "should sit on the line, and longer acceptances mean fewer calls.",
    "bonus": "Heterogeneity and spread bonuses along the static trace and the extra tokens "
             "they buy at the same state: most steps gain nothing; the right panel shows how "
             "often Fréchet beats the factor rule and tight beats Fréchet.",
    "margins_along_profile": "G_n (Fréchet) and G*_n (tight) along the sorted profile at four "
                             "logged steps: each rule commits up to the last n above the "
                             "δ line (triangles); G*_n >= G_n everywhere.",
    "reliability": "Reliability: confidence vs agreement with the final token (left; on the "
                   "diagonal = calibrated), and prefix margins vs joint agreement (right): "
                   "positive margins should show joint agreement near 1.",
    "violations_vs_dependence": "Simulator: share of multi-token commits that are not the "
                                "joint mode vs dependence ρ: uncertified rules rise (left), "
                                "certified rules stay at 0 (right; ticks = 95% upper bound).",
}


def _f(x: Any, fmt: str = ".3f") -> str:
    return "n/a" if x is None else format(x, fmt)


def _sweep_table(rows: list[dict[str, Any]]) -> list[str]:
    has_acc = rows[0]["accuracy"] is not None
    head = ["rule", "accuracy ± se" if has_acc else "accuracy", "same answer as static",
            "same tokens as static", "calls / seq", "tokens / call", "tokens / s",
            "calls ratio", "wall ratio"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        acc = f"{r['accuracy']:.3f} ± {r['accuracy_se']:.3f}" if has_acc else "n/a"
        out.append(f"| {r['label']} | {acc} | {r['answer_agreement']:.3f} | "
                   f"{r['token_agreement']:.3f} | {r['calls']:.2f} | "
                   f"{r['tokens_per_call']:.2f} | {r['tokens_per_second']:.0f} | "
                   f"{r['calls_ratio']:.2f}x | {r['wall_ratio']:.2f}x |")
    return out


def _cache(mode: str) -> str:
    return "no cache" if mode == "none" else f"{mode} cache"


def _equal_accuracy(rows: list[dict[str, Any]]) -> list[str]:
    """Each certified rule's setting next to the fastest threshold setting at least as
    accurate (:func:`realmodel.shipped.at_equal_accuracy`)."""
    from realmodel.shipped import at_equal_accuracy

    if rows[0]["accuracy"] is None:
        return []
    out = ["", "**At equal accuracy.** Each Fréchet and tight setting against the fastest "
           "threshold setting of the sweep that is at least as accurate (tokens per call "
           "ratio > 1: the certified rule is faster at no loss of accuracy; accuracies "
           "within about two standard errors are not distinguishable).", "",
           "| rule | accuracy | tokens / call | fastest threshold as accurate | its accuracy "
           "| its tokens / call | ratio |", "|---|---|---|---|---|---|---|"]
    for r in at_equal_accuracy(rows, ("frechet", "tight"), "threshold"):
        if r["match"] is None:
            out.append(f"| {r['label']} | {r['accuracy']:.3f} | {r['tokens_per_call']:.2f} "
                       "| none as accurate | | | |")
            continue
        m = r["match"]
        out.append(f"| {r['label']} | {r['accuracy']:.3f} | {r['tokens_per_call']:.2f} | "
                   f"{m['label']} | {m['accuracy']:.3f} | {m['tokens_per_call']:.2f} | "
                   f"{r['ratio']:.2f}x |")
    return out


#: what the papers report, for the table that sets this run beside them (source, claim,
#: their number). Fast-dLLM: Wu et al., arXiv 2505.22618 (GSM8K, LLaDA-8B-Instruct);
#: Fast-dLLM++: Kasa et al., arXiv 2606.02955, abstract (LLaDA-8B-Instruct, prefix cache,
#: block 32); FreeDave: Wu and Zhang, arXiv 2510.00294, abstract (no loss).
ANCHORS = (
    ("Fast-dLLM", "tokens per call of threshold 0.9", "3.25 (GSM8K)"),
    ("Fast-dLLM++", "Fréchet at no lower accuracy vs threshold 0.9: throughput", "1.36x"),
    ("FreeDave", "fewer calls than static decoding, identical output", "up to 3.78x"),
)


def _anchors(sec: dict[str, Any]) -> list[str]:
    """This run's counterparts of :data:`ANCHORS` (n/a where the sweep lacks the setting)."""
    rows = sec["sweep"]["rows"]
    t09 = next((r for r in rows if r["rule"] == "threshold" and r["value"] == 0.9), None)
    ours = ["n/a", "n/a", "n/a"]
    if t09 is not None:
        ours[0] = f"{t09['tokens_per_call']:.2f}"
        if t09["accuracy"] is not None:
            from realmodel.shipped import at_equal_accuracy

            pool = [t09, *(r for r in rows if r["rule"] == "frechet")]
            best = at_equal_accuracy(pool, ("threshold",), "frechet")[0]["match"]
            if best is not None:
                ours[1] = (f"{best['tokens_per_call'] / t09['tokens_per_call']:.2f}x tokens "
                           f"per call, {best['wall_ratio'] / t09['wall_ratio']:.2f}x wall "
                           f"({best['label']}, accuracy {best['accuracy']:.3f} vs "
                           f"{t09['accuracy']:.3f})")
            else:
                ours[1] = "no Fréchet setting as accurate"
    fd = [r for r in sec["freedave"]["rows"] if r["identical"]]
    if fd:
        best = max(fd, key=lambda r: r["calls_speedup"])
        ours[2] = (f"{best['calls_speedup']:.2f}x (K = {best['K']}; wall "
                   f"{best['wall_speedup']:.2f}x)")
    out = ["| paper | claim | theirs | this run |", "|---|---|---|---|"]
    out += [f"| {a} | {c} | {t} | {o} |" for (a, c, t), o in zip(ANCHORS, ours, strict=True)]
    return out


def _mean_length(hist: dict[Any, int]) -> float:
    """Mean acceptance length (static steps per round) of a {length: rounds} histogram."""
    rounds = sum(hist.values())
    return sum(int(k) * v for k, v in hist.items()) / rounds if rounds else float("nan")


def _freedave_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| K | predicted calls | measured calls | sequences predicted exactly | "
           "mean acceptance (measured / predicted) | speed-up (calls) | speed-up (wall) | "
           "identical to static |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['K']} | {r['predicted_calls']} | {r['measured_calls']} | "
                   f"{r['sequences_predicted_exactly']}/{r['sequences']} | "
                   f"{_mean_length(r['acceptance_measured']):.2f} / "
                   f"{_mean_length(r['acceptance_predicted']):.2f} | "
                   f"{r['calls_speedup']:.2f}x | {r['wall_speedup']:.2f}x | "
                   f"{'yes' if r['identical'] else 'NO'} |")
    return out


def _freedave_rules_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| rule | acceptance | calls / seq (rule alone) | calls / seq | predicted | "
           "calls ratio | wall ratio | accuracy | same tokens as the rule | same answer as "
           "static |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        acc = "n/a" if r["accuracy"] is None else f"{r['accuracy']:.3f}"
        pred = "" if r["predicted_calls"] is None else f"{r['predicted_calls'] / r['n']:.2f}"
        out.append(f"| {r['label']} | {r['accept']} | {r['rule_calls'] / r['n']:.2f} | "
                   f"{r['measured_calls'] / r['n']:.2f} | {pred} | {r['calls_ratio']:.2f}x | "
                   f"{r['wall_ratio']:.2f}x | {acc} | {r['rule_agreement']:.3f} | "
                   f"{r['answer_agreement']:.3f} |")
    return out


def _replay(rep: dict[str, Any]) -> list[str]:
    ex = rep["exact"]
    out = [f"Exact replay: the logged rule ({ex['rule']}) replayed on all {ex['steps']} logged "
           f"steps reproduces {ex['steps'] - ex['mismatches']} of them "
           f"({'every decision' if ex['ok'] else 'FAILED'}).", "",
           "Counterfactual replay (each rule's decision at the static run's states; after a "
           "sequence's first differing step these are states the rule would not reach, so "
           "these numbers are counterfactual, not measurements of that rule):", "",
           "| rule | steps | factual steps | sequences diverging | tokens / step | "
           "token agreement | joint agreement | approx. calls |",
           "|---|---|---|---|---|---|---|---|"]
    for c in rep["counterfactual"]:
        out.append(f"| {c['rule']} (counterfactual) | {c['steps']} | {c['factual_steps']} | "
                   f"{c['sequences_diverging']} | {_f(c['mean_tokens_per_step'], '.2f')} | "
                   f"{_f(c['token_agreement'])} | {_f(c['joint_agreement'])} | "
                   f"{_f(c['approx_calls'], '.0f')} |")
    rel = rep["reliability"]
    out += ["", f"Calibration: {rel['n']} (step, masked position) confidences, expected "
                f"calibration error ECE = {rel['ece']:.4f} (10 bins)."]
    for name, t in rep["prefix_calibration"].items():
        pos = [(c, a) for c, a, m in zip(t["count"], t["joint_agreement"], t["mean_margin"],
                                         strict=True) if m is not None and m > 0 and c]
        n_pos = sum(c for c, _ in pos)
        agree = sum(c * a for c, a in pos) / n_pos if n_pos else None
        out.append(f"- {name} margin: {t['n']} confidence prefixes; {n_pos} with margin > 0, "
                   f"their joint agreement {_f(agree, '.4f')}.")
    out += ["", "Profile fits (simulate's generators fitted to the trace):", ""]
    for fam, fit in rep["fits"].items():
        params = ", ".join(f"{k} = {v:.4g}" for k, v in fit["params"].items())
        out.append(f"- {fam}: {params} (n = {fit['n']}, mean m = {fit['mean_m']:.2f})")
    return out


def _figure(name: str) -> list[str]:
    return ["", f"![{name}](figures/{name}.png)", "", f"*{CAPTIONS[name]}*", ""]


def render_results(summary: dict[str, Any], opts: ReportOptions) -> str:
    """The text of results.md."""
    sec = summary["sections"]
    env = summary["environment"]
    setup = sec["setup"]
    by = "`make report`" if opts.embedded and summary["command"] == "paradec report" \
        else f"`{summary['command']}`"
    lines = ["# Results", "",
             f"generated by {by} on {summary['date']}; do not edit.", "",
             f"Regenerate: `{summary['command']}` ({summary['seconds']:.0f} s for this run). "
             f"Status: {'all checks passed' if summary['ok'] else 'SOME CHECKS FAILED'}.", "",
             "## Checks", ""]
    for key, r in sec.items():
        if key in ("setup", "sweep", "trace", "freedave", "freedave_rules", "replay",
                   "figures"):
            continue
        lines.append(f"- [{'ok' if r['ok'] else 'FAILED'}] {r['title']}: {r['line']}")
    for key in ("sweep", "trace", "freedave", "replay"):
        r = sec[key]
        lines.append(f"- [{'ok' if r['ok'] else 'FAILED'}] {r['title']}: {r['line']}")
    what = "held-out problems" if setup["reference_answers"] else "prompts (no reference " \
        "answers: agreement with static decoding stands in for accuracy)"
    lines += ["", f"## Rules against static decoding ({setup['model']}, {setup['prompts']} "
                  f"{what})", "",
              f"Gen length {setup['shape']['gen_length']}, block "
              f"{setup['shape']['block_length']}, greedy, {_cache(opts.cache)}, batch "
              f"{min(opts.batch_size, setup['prompts'])}. "
              "Calls / seq: a sequence's own forward calls (= calls at batch size 1); tokens "
              "/ call: generated tokens (EOS padding included) per such call; tokens / s: "
              "wall clock of this run, batched; ratios: static / rule (> 1 = fewer calls, "
              "faster). Same answer: the text up to EOS equals static decoding's; same "
              "tokens: share of generated positions equal to static decoding's.", ""]
    lines += _sweep_table(sec["sweep"]["rows"])
    lines += _equal_accuracy(sec["sweep"]["rows"])
    lines += _figure("accuracy_vs_speed")
    lines += ["## FreeDave: measured and predicted", "",
              "Real FreeDave decoding (nested drafts, batch verification) for each K; the "
              "predicted calls come from the static trace alone (no model). Speed-ups are "
              "static / FreeDave; the report fails unless every output equals static "
              "decoding's.", ""]
    lines += _freedave_table(sec["freedave"]["rows"])
    lines += _figure("freedave_vs_K")
    if "freedave_rules" in sec:
        lines += ["## FreeDave over other rules", "",
                  "FreeDave with K = 4 nested drafts over each rule. Exact acceptance must "
                  "reproduce the rule's own output; its calls are predicted from the rule's "
                  "trace alone. Subset acceptance (FreeDave++) commits at every move a subset "
                  "of the rule's set (docs/freedave.md); its output may differ. Auto K "
                  "chooses each round's width up to 8 from a measured call cost "
                  "(`--freedave auto`); at a large batch on a CPU it decodes with the rule's "
                  "own loop. Ratios: the rule alone / FreeDave.", ""]
        lines += _freedave_rules_table(sec["freedave_rules"]["rows"])
        lines += [""]
    lines += ["## Beside the papers' numbers", "",
              "The papers measured LLaDA-8B on GSM8K and similar benchmarks; this run is a "
              "small model on its own task, so the numbers set the regimes side by side "
              "rather than test the claims.", ""]
    lines += _anchors(sec)
    lines += ["", "## Replay of the static trace", ""]
    lines += _replay(sec["replay"])
    b = sec["figures"]["summaries"].get("bonus")
    if b:
        lines += ["", f"Bonuses at δ = {b['delta']} over {b['steps']} steps with m >= 2: "
                      f"mean n factor(1-δ) {b['mean_n']['n_factor']:.3f}, Fréchet "
                      f"{b['mean_n']['n_frechet']:.3f}, tight {b['mean_n']['n_tight']:.3f}; "
                      f"median heterogeneity bonus {b['heterogeneity_median']:.2e}, median "
                      f"spread bonus {b['spread_median']:.2e}."]
    for name in ("bonus", "margins_along_profile", "reliability"):
        lines += _figure(name)
    lines += ["## Simulator", ""]
    for key in ("certificates", "frontier"):
        lines += [f"{sec[key]['title']}:", "", "```", sec[key]["table"], "```", ""]
    lines += _figure("violations_vs_dependence")
    lines += ["## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in env.items()]
    lines += [f"| command | `{summary['command']}` |", "", "Seconds per section:", "",
              "| section | seconds |", "|---|---|"]
    lines += [f"| {r['title']} | {r['seconds']:.1f} |" for r in sec.values()]
    return "\n".join(lines) + "\n"


def write_results(summary: dict[str, Any], opts: ReportOptions) -> list[str]:
    """Write ``<out>/results.md`` and, on the embedded defaults, ``<docs>/results.md``
    (each atomically: a failed write leaves the old file)."""
    from realmodel.trace.io import write_bytes_atomic

    text = render_results(summary, opts)
    paths = [opts.out_dir / "results.md"]
    if opts.docs_dir is not None:
        opts.docs_dir.mkdir(parents=True, exist_ok=True)
        paths.append(opts.docs_dir / "results.md")
    for p in paths:
        write_bytes_atomic(p, text.encode())
    return [str(p) for p in paths]
