"""The pair every FreeDave test compares: the rule's own decoding and FreeDave over it."""

from theory.freedave import freedave_decode, rule_decode


def decode_both(oracle, problem, config):
    """(rule_decode with config.rule, freedave_decode with config) on ``problem`` =
    (x0, blocks), mask id -1. The default rule Quota(1) makes the first static decoding."""
    x0, blocks = problem
    return (rule_decode(oracle, x0, mask_id=-1, blocks=blocks, rule=config.rule),
            freedave_decode(oracle, x0, mask_id=-1, blocks=blocks, config=config))
