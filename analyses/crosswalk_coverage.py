"""Coverage of every frame's official Census code list by the occ1990dd crosswalks, before and after the fills.

For each source frame with an official list (``laborseq/resources/taxonomy/census_codes_<frame>.csv``)
and each family, prints how many valid occupation codes the published file maps ("before"), how many
map once the sourced fills are added ("after"), the documented non-occupation and Armed Forces
codes, and the valid codes that still do not map. With ``--fills`` it also lists every filled code
with its rule and detail (the table in ``PROVENANCE.md``).

Run: ``.venv/bin/python analyses/crosswalk_coverage.py [--fills]``
"""

from __future__ import annotations

import argparse

import pandas as pd

from laborseq.occupations.code_lists import CODE_LIST_FRAMES, census_codes
from laborseq.occupations.crosswalk import crosswalk
from laborseq.occupations.crosswalk_files import file_mapping
from laborseq.occupations.occ1990dd import VARIANTS


def coverage() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The coverage table (one row per frame and family) and the fills (one row per filled code)."""
    rows, filled = [], []
    for frame in CODE_LIST_FRAMES:
        listed = census_codes(frame)
        assert listed is not None
        valid = listed.loc[listed["kind"] == "occupation", "code"].astype(int).tolist()
        special = listed.loc[listed["kind"] != "occupation", "code"].astype(int).tolist()
        for variant in VARIANTS:
            cw = crosswalk(frame, variant)  # type: ignore[arg-type]
            result = cw.apply(valid)
            published = int((result.outcome == 0).sum())
            after = int(result.kept.sum())
            missing = [int(c) for c, k in zip(valid, result.kept, strict=True) if not k]
            rows.append(
                {
                    "frame": frame,
                    "variant": variant,
                    "valid codes": len(valid),
                    "mapped before (published file)": published,
                    "mapped after (with fills)": after,
                    "still unmapped": len(missing),
                    "non-occupation / Armed Forces codes": len(special),
                    "unmapped codes": " ".join(map(str, missing)),
                }
            )
            for code, (state, source, detail) in sorted(cw.fills.items()):
                filled.append(
                    {
                        "frame": frame,
                        "variant": variant,
                        "code": code,
                        "occ1990dd": state,
                        "rule": source,
                        "detail": detail,
                    }
                )
    known = sorted(set(file_mapping("occ1970", "dorn2013")) | set(file_mapping("occ1970", "deming2017")))
    for variant in VARIANTS:  # no official 1970 list: the codes either family's file maps
        result = crosswalk("occ1970", variant).apply(known)  # type: ignore[arg-type]
        rows.append(
            {
                "frame": "occ1970 (no official list: codes of either file)",
                "variant": variant,
                "valid codes": len(known),
                "mapped before (published file)": int((result.outcome == 0).sum() + (result.outcome == 1).sum()),
                "mapped after (with fills)": int(result.kept.sum() + (result.outcome == 1).sum()),
                "still unmapped": int((~result.kept & (result.outcome != 1)).sum()),
                "non-occupation / Armed Forces codes": 0,
                "unmapped codes": "",
            }
        )
    return pd.DataFrame(rows), pd.DataFrame(filled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", action="store_true", help="also list every filled code")
    args = parser.parse_args()
    table, filled = coverage()
    with pd.option_context("display.width", 250, "display.max_colwidth", 120, "display.max_rows", 500):
        print(table.drop(columns="unmapped codes").to_markdown(index=False))
        print()
        for row in table.itertuples():
            if row[-1]:
                print(f"{row.frame} {row.variant}: still unmapped {row[-1]}")
        if args.fills:
            print()
            print(filled.to_markdown(index=False))


if __name__ == "__main__":
    main()
