"""The ``tiny-words`` task: worked arithmetic word problems in English, generated offline.

Four kinds of problem, each a short story with two to four quantities and a question,
answered by a worked solution of one sentence per step and a final ``#### N`` line (the
GSM8K convention, so :func:`realmodel.shipped.task.extract_answer` scores it)::

    prompt   "Mia has 14 marbles. She buys 9 more marbles, then gives 6 marbles to Leo.
              How many marbles does Mia have now?"
    response "Mia starts with 14 marbles. After buying 9 more, she has 14 + 9 = 23
              marbles. After giving 6 to Leo, she has 23 - 6 = 17 marbles. #### 17"

- ``inventory``: a start amount and two or three gains and losses;
- ``groups``: k containers of n items each, plus or minus a loose amount (k x n);
- ``compare``: a second person has d more or fewer than the first; their total;
- ``shopping``: q items at a price, another item, optionally the change from a note.

Every number is a non-negative integer below 100 (draws that leave the range are redrawn
as the other operation or a smaller operand), so each step is one- or two-digit
arithmetic. Copied names, units and operands are easy tokens, results are hard ones: the
heterogeneous confidence profiles the commit rules are about, in sentences of 60-110
subword tokens. The held-out set is a fixed draw from :data:`HELDOUT_SEED`, stored as
JSONL beside this module; the training stream skips its prompts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from realmodel.shipped.task import Example, Problem, load_problems

__all__ = ["KINDS", "sample_problem", "equation", "drill", "DRILL", "DRILL_UNLISTED",
           "DRILL_SIZE", "WORKED_STEP",
           "heldout_problems", "make_heldout", "HELDOUT_PATH", "HELDOUT_SEED", "HELDOUT_SIZE",
           "NAMES", "ITEMS"]

HELDOUT_SEED = 20261201
HELDOUT_SIZE = 500
HELDOUT_PATH = Path(__file__).with_name("data") / "words_heldout.jsonl"
KINDS = ("inventory", "groups", "compare", "shopping")
LIMIT = 100  # every number of a problem is in [0, LIMIT)
T = TypeVar("T")


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """"a/as b/bs" -> (("a", "as"), ("b", "bs"))."""
    return tuple((one, many) for one, many in (w.split("/") for w in text.split()))


#: (name, pronoun) pairs; pronouns make the worked sentences grammatical.
NAMES = tuple((n, "she") for n in (
    "Mia Ava Emma Lily Zoe Nora Ella Ruby Ivy Maya Sara Lena Iris Hana Alice Chloe Grace "
    "Julia Clara Rosa Nina Olivia Sofia Layla Aria Leah Paula Diana Elena Fiona Greta Helen "
    "Irene Jasmine Karen Laura Martha Naomi Petra Quinn Rita Stella Tara Uma Vera Wendy "
    "Yara Amber Bella Daisy Esther Freya Hazel Isla Joy Kate Lucy Molly Nadia Opal Priya "
    "Rachel Selma Tessa Ursula Violet Willa Ximena Yasmin Zara").split()) + tuple(
    (n, "he") for n in (
    "Leo Noah Liam Omar Ravi Theo Jack Owen Finn Hugo Ezra Luca Adam Ben Carl David Ethan "
    "Felix George Henry Isaac James Kevin Louis Mark Nathan Oscar Peter Ryan Samuel Tom "
    "Victor Walter Xavier Yusuf Zack Aaron Bruno Caleb Dylan Elias Frank Gavin Hector Ian "
    "Jonah Kofi Lars Marco Niko Otto Pablo Rafael Simon Tariq Umar Vince Wade Yosef Zane "
    "Arjun Boris Cyrus Dario Emil Farid Gustav Hiro Igor Jamal").split())

#: (singular, plural) of the things counted.
ITEMS = _pairs(
    "apple/apples marble/marbles sticker/stickers pencil/pencils cookie/cookies "
    "book/books shell/shells stamp/stamps card/cards coin/coins crayon/crayons "
    "button/buttons balloon/balloons candle/candles cherry/cherries lemon/lemons "
    "orange/oranges peach/peaches plum/plums grape/grapes carrot/carrots potato/potatoes "
    "tomato/tomatoes egg/eggs muffin/muffins cupcake/cupcakes pretzel/pretzels "
    "sandwich/sandwiches ribbon/ribbons feather/feathers pebble/pebbles acorn/acorns "
    "leaf/leaves flower/flowers tulip/tulips rose/roses daisy/daisies seed/seeds "
    "bead/beads ring/rings toy/toys puzzle/puzzles kite/kites ticket/tickets "
    "postcard/postcards photo/photos magnet/magnets brick/bricks block/blocks "
    "robot/robots doll/dolls truck/trucks boat/boats train/trains bottle/bottles "
    "cup/cups plate/plates spoon/spoons fork/forks napkin/napkins towel/towels "
    "sock/socks glove/gloves hat/hats scarf/scarves shirt/shirts notebook/notebooks "
    "eraser/erasers marker/markers brush/brushes paint/paints chair/chairs "
    "lamp/lamps pillow/pillows blanket/blankets basket/baskets bucket/buckets "
    "candy/candies cracker/crackers biscuit/biscuits pie/pies tart/tarts "
    "bagel/bagels donut/donuts melon/melons banana/bananas mango/mangoes pear/pears "
    "walnut/walnuts almond/almonds peanut/peanuts raisin/raisins olive/olives "
    "onion/onions pepper/peppers radish/radishes turnip/turnips")

#: containers for the ``groups`` kind: (singular, plural).
CONTAINERS = _pairs(
    "box/boxes bag/bags jar/jars basket/baskets crate/crates tray/trays shelf/shelves "
    "bowl/bowls packet/packets drawer/drawers tin/tins sack/sacks row/rows pile/piles "
    "stack/stacks carton/cartons bundle/bundles case/cases pouch/pouches "
    "bin/bins")

#: (verb for the story, gerund for the solution) of gains and losses.
GAINS = (("buys", "buying"), ("finds", "finding"), ("gets", "getting"),
         ("picks", "picking"), ("wins", "winning"), ("makes", "making"),
         ("collects", "collecting"), ("receives", "receiving"))
LOSSES = (("gives away", "giving away"), ("loses", "losing"), ("sells", "selling"),
          ("uses", "using"), ("trades", "trading"), ("donates", "donating"),
          ("drops", "dropping"), ("breaks", "breaking"))
PLACES = ("at the market", "at school", "in the park", "at the fair", "at home",
          "in the garden", "at the shop", "on the beach", "at the library",
          "in the forest", "at the zoo", "on the farm")


def _pick(rng: np.random.Generator, seq: Sequence[T]) -> T:
    return seq[int(rng.integers(len(seq)))]


ONSETS = ("b", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
          "br", "ch", "dr", "sh", "th", "tr", "")
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io")
CODAS = ("", "", "", "n", "l", "r", "s", "m", "th")


def _name(rng: np.random.Generator) -> tuple[str, str]:
    """A listed name, or (half the time) an invented one of two or three syllables, so that
    names are split into subwords the way real tokenizers split rare names."""
    if rng.random() < 0.5:
        return NAMES[int(rng.integers(len(NAMES)))]
    syllables = int(rng.integers(2, 4))
    name = "".join(str(_pick(rng, ONSETS)) + str(_pick(rng, VOWELS)) for _ in range(syllables))
    return (name + str(_pick(rng, CODAS))).capitalize(), "she" if rng.random() < 0.5 else "he"


def _people(rng: np.random.Generator, k: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    while len(out) < k:
        person = _name(rng)
        if all(person[0] != other[0] for other in out):
            out.append(person)
    return out


def _inventory(rng: np.random.Generator) -> Problem:
    (name, he), = _people(rng, 1)
    one, many = _pick(rng, ITEMS)
    n = int(rng.integers(2, 4))
    acc = int(rng.integers(5, 40))
    story = [f"{name} has {acc} {many} {_pick(rng, PLACES)}."]
    steps = [f"We follow the {many} of {name} one step at a time.",
             f"{name} starts with {acc} {many}."]
    for i in range(n):
        gain = rng.random() < 0.5
        b = int(rng.integers(2, 20))
        if gain and acc + b >= LIMIT or not gain and acc - b < 0:
            gain = not gain
        if not gain and acc - b < 0:
            b = acc
        verb, ing = _pick(rng, GAINS if gain else LOSSES)
        new = acc + b if gain else acc - b
        lead = "Then" if i else ("He" if he == "he" else "She")
        story.append(f"{lead} {verb} {b} {many if b != 1 else one}.")
        steps.append(f"After {ing} {b}, {he} has {acc} {'+' if gain else '-'} {b} = {new} "
                     f"{many}.")
        acc = new
    story.append(f"How many {many} does {name} have now?")
    steps.append(f"So {name} has {acc} {many} now.")
    return Problem(" ".join(story), " ".join(steps) + f" #### {acc}", acc)


def _groups(rng: np.random.Generator) -> Problem:
    (name, he), = _people(rng, 1)
    _, many = _pick(rng, ITEMS)
    box, boxes = _pick(rng, CONTAINERS)
    k, m = int(rng.integers(2, 10)), int(rng.integers(2, 10))
    total = k * m
    extra = int(rng.integers(2, 15))
    more = rng.random() < 0.5 or total - extra < 0
    if more and total + extra >= LIMIT:
        more = False
    verb = "also has" if more else str(_pick(rng, ("gives away", "sells", "uses")))
    story = (f"{name} has {k} {boxes} with {m} {many} in each {box}. "
             f"{he.capitalize()} {verb} {extra} {'more ' if more else ''}{many}. "
             f"How many {many} does {name} have {'in all' if more else 'left'}?")
    new = total + extra if more else total - extra
    solution = (f"We count the {many} in the {boxes} first. The {k} {boxes} hold {k} x {m} "
                f"= {total} {many}. With {extra} {'more' if more else 'fewer'}, {he} has "
                f"{total} {'+' if more else '-'} {extra} = {new} {many}. So {name} has {new} "
                f"{many} {'in all' if more else 'left'}. #### {new}")
    return Problem(story, solution, new)


def _compare(rng: np.random.Generator) -> Problem:
    (a, _), (b, _) = _people(rng, 2)
    _, many = _pick(rng, ITEMS)
    x, d = int(rng.integers(5, 43)), int(rng.integers(2, 15))
    more = rng.random() < 0.5 or x - d < 1
    y = x + d if more else x - d
    total = x + y
    story = (f"{a} has {x} {many}. {b} has {d} {'more' if more else 'fewer'} {many} than "
             f"{a}. How many {many} do {a} and {b} have together?")
    word = "more" if more else "fewer"
    solution = (f"First we find how many {many} {b} has. {b} has {d} {word} "
                f"than {a}, so {b} has {x} {'+' if more else '-'} {d} = {y} {many}. "
                f"Together they have {x} + {y} = {total} {many}. So {a} and {b} have "
                f"{total} {many} together. #### {total}")
    return Problem(story, solution, total)


def _shopping(rng: np.random.Generator) -> Problem:
    (name, he), = _people(rng, 1)
    (one, many), (other, _) = (ITEMS[int(i)] for i in rng.choice(len(ITEMS), 2, False))
    q, p, r = int(rng.integers(2, 7)), int(rng.integers(2, 10)), int(rng.integers(2, 20))
    cost = q * p
    total = cost + r
    story = (f"A {one} costs {p} dollars and a {other} costs {r} dollars. {name} buys {q} "
             f"{many} and one {other}.")
    solution = (f"We add up what {name} pays. {name} buys {q} {many} at {p} dollars each. "
                f"The {many} cost {q} x {p} = {cost} dollars. With the {other}, {he} pays "
                f"{cost} + {r} = {total} dollars.")
    if total < 50 and rng.random() < 0.5:
        note = 50 if total > 20 else _pick(rng, (20, 50))
        change = note - total
        story += f" {he.capitalize()} pays with a {note} dollar note. How much change " \
                 f"does {he} get?"
        solution += (f" The change is {note} - {total} = {change} dollars. So {name} gets "
                     f"{change} dollars back. #### {change}")
        return Problem(story, solution, change)
    story += " How many dollars does " + f"{name} spend?"
    return Problem(story, solution + f" So {name} spends {total} dollars. #### {total}",
                   total)


_MAKERS = {"inventory": _inventory, "groups": _groups, "compare": _compare,
           "shopping": _shopping}


def sample_problem(rng: np.random.Generator) -> Problem:
    """One problem of a uniformly drawn kind (see the module docstring)."""
    return _MAKERS[KINDS[int(rng.integers(len(KINDS)))]](rng)


DRILL = "Work out each of these: "
#: the prompt of a drill that lists no steps: its results follow from the response alone
DRILL_UNLISTED = "Write out six steps of arithmetic and work each of them out."
DRILL_SIZE = 6
#: a worked step of a solution, ``a op b = c``
WORKED_STEP = re.compile(r"(\d+) ([-+x]) (\d+) = (\d+)")


def equation(rng: np.random.Generator, small: float = 0.0) -> tuple[int, str, int, int]:
    """(a, op, b, result) of one step of the kinds' arithmetic, uniform over ``+ - x``:
    a sum or difference of numbers below :data:`LIMIT` (result in [1, LIMIT)), or a
    product of two one-digit numbers from 2 to 9. With probability ``small`` a sum or
    difference has one-digit operands (drawn only when ``small > 0``): the operands then
    sit at fixed offsets from the result, as in a product."""
    op = ("+", "-", "x")[int(rng.integers(3))]
    if op == "x":
        a, b = int(rng.integers(2, 10)), int(rng.integers(2, 10))
        return a, op, b, a * b
    top = 10 if small and rng.random() < small else LIMIT - 2
    a = int(rng.integers(2, top))
    if op == "+":
        b = int(rng.integers(1, min(top, LIMIT - a)))
        return a, op, b, a + b
    b = int(rng.integers(1, a))
    return a, op, b, a - b


def drill(rng: np.random.Generator, size: int = DRILL_SIZE, small: float = 0.0,
          listed: float = 1.0, like_problems: float = 0.0) -> Example:
    """An arithmetic drill: ``size`` steps worked in the response in the solutions' own
    notation (``24 + 5 = 29.``), listed in the prompt with probability ``listed`` (drawn
    only when ``listed < 1``) and otherwise not (:data:`DRILL_UNLISTED`). With
    probability ``like_problems`` (drawn only when > 0) the steps are one worked step
    each of ``size`` freshly sampled problems, so their operands are distributed as the
    problems' are (mostly a two-digit and a one-digit number); otherwise they are
    :func:`equation`'s, ``small`` the share of one-digit sums and differences.

    In a word problem each result is written again right after it is computed (the next
    step's operand, the closing sentence, ``#### N``), so under LLaDA's random masking a
    masked result can almost always be copied from a later mention: the data rewards
    arithmetic only at the highest masking ratios. A drill writes each result once (one
    step per problem, so no step's result is the next one's operand). When the prompt
    lists the steps, a model can key each result on the list instead of on the operands
    before it (it learns to: docs/shipped.md); a word problem's prompt lists no steps,
    and neither does an unlisted drill."""
    shown = listed >= 1 or rng.random() < listed
    if like_problems and rng.random() < like_problems:
        steps = []
        for _ in range(size):
            worked = WORKED_STEP.findall(sample_problem(rng).response)
            a, op, b, c = worked[int(rng.integers(len(worked)))]
            steps.append((int(a), op, int(b), int(c)))
    else:
        steps = [equation(rng, small) for _ in range(size)]
    prompt = (DRILL + ", ".join(f"{a} {op} {b}" for a, op, b, _ in steps) + "."
              if shown else DRILL_UNLISTED)
    return Example(prompt, " ".join(f"{a} {op} {b} = {c}." for a, op, b, c in steps))


def make_heldout(seed: int = HELDOUT_SEED, size: int = HELDOUT_SIZE) -> list[Problem]:
    """The first ``size`` distinct prompts drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    seen: dict[str, Problem] = {}
    while len(seen) < size:
        p = sample_problem(rng)
        seen.setdefault(p.prompt, p)
    return list(seen.values())


def heldout_problems() -> list[Problem]:
    """The committed held-out set (:func:`make_heldout` regenerates it)."""
    return load_problems(HELDOUT_PATH)
