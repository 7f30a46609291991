"""How often the resident-ID check (app/health_codes/documents.py) agrees with python-stdnum's `cn.ric`.

Runs python-stdnum's own test numbers (tests/test_cn_ric.doctest) and N generated numbers (seeded: the same every
run) through both, and prints the agreement and every kind of disagreement with a count and an example.

    .venv/bin/python bench/id_numbers.py [--count 100000] [--seed 2260]
"""
import argparse
import random
import sys
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stdnum.cn import ric  # noqa: E402

from app.errors import ValidationFailed  # noqa: E402
from app.health_codes import documents  # noqa: E402

TODAY = date(2026, 12, 6)  # fixed, so that the figures do not move with the calendar
# python-stdnum's own test numbers, from its tests/test_cn_ric.doctest.
STDNUM_TESTS = ["360426199101010071", "44011320141005001x", "412723199010050012", "110102199101010078",
                "120110198012010073", "120110199212010072", "990426199112010074", "110111198012010078",
                "110201199312010077", "T60426199101010078", "360426199113010079", "36042619910102009X"]
PROVINCES = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41", "42",
             "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"]


def ours(number: str) -> str | None:
    """None when accepted, else our error code."""
    try:
        documents.normalise("cn_resident_id", number, today=TODAY)
    except ValidationFailed as exc:
        return exc.error
    return None


def theirs(number: str) -> bool | None:
    """Whether python-stdnum accepts the number; None when it raises instead (a county-less code: KeyError)."""
    try:
        return ric.is_valid(number)
    except KeyError:
        return None


def _out_of_years(number: str) -> bool:
    """Whether python-stdnum refuses only because the county code was not in use in the birth year."""
    try:
        ric.get_birth_place(number)
    except Exception:  # noqa: BLE001 — InvalidComponent, or its KeyError on a county-less code
        return documents.county_known(number[:6])
    return False


def generated(rng: random.Random):
    """A number as people type them: a plausible county (often real), a birth date (sometimes impossible or in
    the future), a correct check character nine times in ten."""
    county = rng.choice(PROVINCES) + f"{rng.randint(0, 30):02d}{rng.randint(0, 30):02d}"
    born = f"{rng.randint(1890, 2030)}{rng.randint(1, 13):02d}{rng.randint(1, 31):02d}"
    body = county + born + f"{rng.randint(0, 999):03d}"
    check = ric.calc_check_digit(body + "0")
    if rng.random() < 0.1:
        check = rng.choice("0123456789X")
    return body + check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2260)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    for label, numbers in (("python-stdnum's test numbers", STDNUM_TESTS),
                           (f"{args.count:,} generated numbers", [generated(rng) for _ in range(args.count)])):
        kinds, examples, agree = Counter(), {}, 0
        for number in numbers:
            error, valid = ours(number), theirs(number)
            if (error is None) == bool(valid):  # a KeyError refuses the number too, if not the way it should
                agree += 1
                if valid is None:
                    kinds["(agree) stdnum raises KeyError, ours refuses: " + error] += 1
                    examples.setdefault("(agree) stdnum raises KeyError, ours refuses: " + error, number)
                continue
            said = "accepts" if valid else "refuses"
            why = " (county not in use in the birth year)" if not valid and _out_of_years(number) else ""
            kind = f"stdnum {said}{why}, ours {'accepts' if error is None else 'refuses: ' + error}"
            kinds[kind] += 1
            examples.setdefault(kind, number)
        print(f"{label}: {agree:,} of {len(numbers):,} agree ({100 * agree / len(numbers):.3f} %)")
        for kind, count in kinds.most_common():
            print(f"  {count:>7,}  {kind}  e.g. {examples[kind]}")


if __name__ == "__main__":
    main()
